#include "reference_recognizer.h"

#include <set>
#include <tuple>

namespace ug::test {

int32_t ReferenceRecognizer::fresh() {
  by_lhs_.emplace_back();
  return static_cast<int32_t>(by_lhs_.size()) - 1;
}

ReferenceRecognizer::Symbol ReferenceRecognizer::lower(const GExpr& e) {
  auto add = [&](int32_t lhs, std::vector<Symbol> rhs) {
    prods_.push_back({lhs, std::move(rhs)});
    by_lhs_[static_cast<size_t>(lhs)].push_back(static_cast<int32_t>(prods_.size()) - 1);
  };
  switch (e.kind) {
    case GExpr::Kind::Chars: {
      Symbol s{Symbol::Byte, 0, std::vector<bool>(256, false)};
      for (const CodeRange& r : e.ranges)
        for (char32_t c = r.lo; c <= r.hi && c < 128; ++c) s.bytes[c] = true;
      return s;
    }
    case GExpr::Kind::Rule:
      return {Symbol::Nonterminal, e.rule, {}};
    case GExpr::Kind::Token:
      return {Symbol::Token, e.token, {}};
    case GExpr::Kind::NotToken:
      return {Symbol::NotToken, e.token, {}};
    case GExpr::Kind::Seq: {
      const int32_t n = fresh();
      std::vector<Symbol> rhs;
      for (const GExpr& x : e.children) rhs.push_back(lower(x));
      add(n, std::move(rhs));
      return {Symbol::Nonterminal, n, {}};
    }
    case GExpr::Kind::Alt: {
      const int32_t n = fresh();
      for (const GExpr& x : e.children) add(n, {lower(x)});
      return {Symbol::Nonterminal, n, {}};
    }
    case GExpr::Kind::Repeat: {
      const Symbol item = lower(e.children[0]);
      const int32_t n = fresh();
      std::vector<Symbol> rhs(static_cast<size_t>(e.min), item);
      if (e.max < 0) {
        const int32_t loop = fresh();  // loop -> item loop | empty
        add(loop, {item, {Symbol::Nonterminal, loop, {}}});
        add(loop, {});
        rhs.push_back({Symbol::Nonterminal, loop, {}});
      } else if (e.max > e.min) {
        int32_t opt = fresh();  // opt_1 -> item | empty; opt_k -> item opt_{k-1} | empty
        add(opt, {item});
        add(opt, {});
        for (int32_t k = 1; k < e.max - e.min; ++k) {
          const int32_t next = fresh();
          add(next, {item, {Symbol::Nonterminal, opt, {}}});
          add(next, {});
          opt = next;
        }
        rhs.push_back({Symbol::Nonterminal, opt, {}});
      }
      add(n, std::move(rhs));
      return {Symbol::Nonterminal, n, {}};
    }
  }
  return {};
}

ReferenceRecognizer::ReferenceRecognizer(const Grammar& g, const TokenVocab& vocab)
    : vocab_(vocab) {
  by_lhs_.resize(g.rules.size());
  for (size_t r = 0; r < g.rules.size(); ++r) {
    const Symbol body = lower(g.rules[r].body);
    prods_.push_back({static_cast<int32_t>(r), {body}});
    by_lhs_[r].push_back(static_cast<int32_t>(prods_.size()) - 1);
  }
  start_ = fresh();
  prods_.push_back({start_, {{Symbol::Nonterminal, g.root, {}}}});
  by_lhs_[static_cast<size_t>(start_)].push_back(static_cast<int32_t>(prods_.size()) - 1);
}

ReferenceRecognizer::Result ReferenceRecognizer::run(const std::vector<int32_t>& tokens) const {
  // Lattice nodes: token i occupies slots base[i] .. base[i] + max(len, 1) - 1; base[n] is the end.
  std::vector<int32_t> base{0};
  for (int32_t t : tokens)
    base.push_back(base.back() +
                   std::max<int32_t>(1, static_cast<int32_t>(vocab_.bytes(t).size())));
  const int32_t nodes = base.back() + 1;
  using Item = std::tuple<int32_t, int32_t, int32_t>;  // production, dot, origin
  std::vector<std::set<Item>> sets(static_cast<size_t>(nodes));
  sets[0].insert({by_lhs_[static_cast<size_t>(start_)][0], 0, 0});
  // Where a byte or a token read at node k leads.
  auto byte_at = [&](int32_t k, int32_t& next) -> int {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string_view b =
          vocab_.kind(tokens[i]) == TokenKind::Text ? vocab_.bytes(tokens[i]) : std::string_view();
      const int32_t off = k - base[i];
      if (off >= 0 && off < static_cast<int32_t>(b.size())) {
        next = off + 1 == static_cast<int32_t>(b.size()) ? base[i + 1] : k + 1;
        return static_cast<unsigned char>(b[static_cast<size_t>(off)]);
      }
    }
    return -1;
  };
  auto token_at = [&](int32_t k) -> int {
    for (size_t i = 0; i < tokens.size(); ++i)
      if (base[i] == k) return static_cast<int>(i);
    return -1;
  };
  // Nullable nonterminals (Aycock-Horspool: predicting one also steps over it).
  std::vector<bool> nullable(by_lhs_.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    for (const Production& pr : prods_) {
      if (nullable[static_cast<size_t>(pr.lhs)]) continue;
      bool all = true;
      for (const Symbol& s : pr.rhs)
        all = all && s.kind == Symbol::Nonterminal && nullable[static_cast<size_t>(s.value)];
      if (all) nullable[static_cast<size_t>(pr.lhs)] = changed = true;
    }
  }
  // waiting[k][A]: items of set k whose next symbol is nonterminal A.
  std::vector<std::vector<std::vector<Item>>> waiting(
      static_cast<size_t>(nodes), std::vector<std::vector<Item>>(by_lhs_.size()));
  for (int32_t k = 0; k < nodes; ++k) {
    auto& set = sets[static_cast<size_t>(k)];
    std::vector<Item> work(set.begin(), set.end());
    auto add = [&](Item it) {
      if (set.insert(it).second) work.push_back(it);
    };
    while (!work.empty()) {
      const auto [p, dot, origin] = work.back();
      work.pop_back();
      const Production& pr = prods_[static_cast<size_t>(p)];
      if (dot < static_cast<int32_t>(pr.rhs.size())) {
        const Symbol& s = pr.rhs[static_cast<size_t>(dot)];
        if (s.kind != Symbol::Nonterminal) continue;
        waiting[static_cast<size_t>(k)][static_cast<size_t>(s.value)].push_back({p, dot, origin});
        for (int32_t q : by_lhs_[static_cast<size_t>(s.value)]) add({q, 0, k});
        if (nullable[static_cast<size_t>(s.value)]) add({p, dot + 1, origin});
      } else {
        const auto& w = waiting[static_cast<size_t>(origin)][static_cast<size_t>(pr.lhs)];
        for (size_t i = 0; i < w.size(); ++i) {
          const auto [p2, dot2, origin2] = w[i];
          add({p2, dot2 + 1, origin2});
        }
      }
    }
    // Scan.
    int32_t next = -1;
    const int byte = byte_at(k, next);
    const int ti = token_at(k);
    for (const auto& [p, dot, origin] : set) {
      const Production& pr = prods_[static_cast<size_t>(p)];
      if (dot >= static_cast<int32_t>(pr.rhs.size())) continue;
      const Symbol& s = pr.rhs[static_cast<size_t>(dot)];
      if (s.kind == Symbol::Byte && byte >= 0 && s.bytes[static_cast<size_t>(byte)])
        sets[static_cast<size_t>(next)].insert({p, dot + 1, origin});
      if (ti >= 0 && (s.kind == Symbol::Token || s.kind == Symbol::NotToken)) {
        const int32_t tok = tokens[static_cast<size_t>(ti)];
        const TokenKind kind = vocab_.kind(tok);
        const bool match = s.kind == Symbol::Token ? tok == s.value
                                                   : tok != s.value && kind != TokenKind::End &&
                                                         kind != TokenKind::Never;
        if (match)
          sets[static_cast<size_t>(base[static_cast<size_t>(ti) + 1])].insert({p, dot + 1, origin});
      }
    }
  }
  const auto& last = sets[static_cast<size_t>(nodes - 1)];
  Result r{!last.empty(), false};
  const int32_t sp = by_lhs_[static_cast<size_t>(start_)][0];
  r.complete = last.count({sp, 1, 0}) > 0;
  return r;
}

}  // namespace ug::test
