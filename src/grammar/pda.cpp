#include "grammar/pda.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "base/error.h"
#include "grammar/token_vocab.h"
#include "grammar/utf8_ranges.h"

namespace ug {
namespace {

using Kind = GExpr::Kind;

// ---- inlining ---------------------------------------------------------------------------------

// Rough number of automaton states an expression becomes.
int64_t expr_cost(const GExpr& e) {
  switch (e.kind) {
    case Kind::Seq:
    case Kind::Alt: {
      int64_t c = 1;
      for (const GExpr& x : e.children) c += expr_cost(x);
      return c;
    }
    case Kind::Chars:
      return 1 + static_cast<int64_t>(e.ranges.size());
    case Kind::Repeat: {
      const int64_t copies = e.max < 0 ? std::max<int64_t>(e.min, 1) : e.max;
      return 1 + expr_cost(e.children[0]) * std::max<int64_t>(copies, 1);
    }
    default:
      return 1;
  }
}

bool has_unbounded_repeat(const GExpr& e) {
  if (e.kind == Kind::Repeat && e.max < 0) return true;
  for (const GExpr& x : e.children)
    if (has_unbounded_repeat(x)) return true;
  return false;
}

void collect_refs(const GExpr& e, std::vector<int32_t>& out) {
  if (e.kind == Kind::Rule) out.push_back(e.rule);
  for (const GExpr& x : e.children) collect_refs(x, out);
}

// Strongly connected components (Tarjan); recursive[r] when r is in a cycle.
std::vector<bool> recursive_rules(const std::vector<std::vector<int32_t>>& refs) {
  const int32_t n = static_cast<int32_t>(refs.size());
  std::vector<int32_t> index(n, -1), low(n, 0), stack;
  std::vector<bool> on_stack(n, false), rec(n, false);
  int32_t next = 0;
  std::function<void(int32_t)> visit = [&](int32_t v) {
    index[v] = low[v] = next++;
    stack.push_back(v);
    on_stack[v] = true;
    for (int32_t w : refs[v]) {
      if (index[w] < 0) {
        visit(w);
        low[v] = std::min(low[v], low[w]);
      } else if (on_stack[w]) {
        low[v] = std::min(low[v], index[w]);
      }
    }
    if (low[v] == index[v]) {
      std::vector<int32_t> comp;
      int32_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        comp.push_back(w);
      } while (w != v);
      const bool self = std::find(refs[v].begin(), refs[v].end(), v) != refs[v].end();
      if (comp.size() > 1 || self)
        for (int32_t x : comp) rec[x] = true;
    }
  };
  for (int32_t v = 0; v < n; ++v)
    if (index[v] < 0) visit(v);
  return rec;
}

// Only characters (no rule references, no tokens): can live in a frame without calls.
bool pure_chars(const GExpr& e) {
  if (e.kind == Kind::Rule || e.kind == Kind::Token || e.kind == Kind::NotToken) return false;
  for (const GExpr& x : e.children)
    if (!pure_chars(x)) return false;
  return true;
}

// Replaces references to small non-recursive rules (and rules used once) by their bodies.
// Returns the new bodies; kept[r] says which rules still need their own automaton.
std::vector<GExpr> inline_rules(const Grammar& g, std::vector<bool>& kept) {
  const size_t n = g.rules.size();
  std::vector<std::vector<int32_t>> refs(n);
  std::vector<int32_t> uses(n, 0);
  for (size_t r = 0; r < n; ++r) {
    collect_refs(g.rules[r].body, refs[r]);
    for (int32_t x : refs[r]) ++uses[static_cast<size_t>(x)];
  }
  const std::vector<bool> rec = recursive_rules(refs);
  std::vector<GExpr> body(n);
  std::vector<int8_t> state(n, 0);  // 0 todo, 1 in progress, 2 done
  kept.assign(n, true);
  std::function<GExpr(const GExpr&)> rewrite;
  std::function<void(int32_t)> process = [&](int32_t r) {
    if (state[r] != 0) return;
    state[r] = 1;
    body[r] = rewrite(g.rules[r].body);
    state[r] = 2;
    if (!rec[r] && r != g.root) {
      // Character-only rules (JSON's `char`) are inlined up to a larger size: a called rule
      // that its caller repeats (char{0,2} expands to calls) makes every mask walk the trie
      // below each point where one unit ends, about 0.5M nodes per token on the Gemma
      // vocabulary; inlined, the repetition is one precomputed automaton.
      const int64_t cost = expr_cost(body[r]);
      const bool small =
          !has_unbounded_repeat(body[r]) && (cost <= 48 || (cost <= 256 && pure_chars(body[r])));
      if (uses[r] <= 1 || small) kept[r] = false;
    }
  };
  rewrite = [&](const GExpr& e) -> GExpr {
    if (e.kind == Kind::Rule) {
      if (!rec[e.rule]) {
        process(e.rule);
        if (!kept[e.rule]) return body[e.rule];
      }
      return e;
    }
    GExpr out = e;
    for (GExpr& x : out.children) x = rewrite(x);
    return out;
  };
  for (size_t r = 0; r < n; ++r) process(static_cast<int32_t>(r));
  kept[static_cast<size_t>(g.root)] = true;
  return body;
}

// ---- counted repetitions ----------------------------------------------------------------------

bool nullable_expr(const GExpr& e) {
  switch (e.kind) {
    case Kind::Seq:
      for (const GExpr& x : e.children)
        if (!nullable_expr(x)) return false;
      return true;
    case Kind::Alt:
      for (const GExpr& x : e.children)
        if (nullable_expr(x)) return true;
      return false;
    case Kind::Repeat:
      return e.min == 0 || nullable_expr(e.children[0]);
    default:
      return false;
  }
}

void serialize(const GExpr& e, std::string& out) {
  out += static_cast<char>('A' + static_cast<int>(e.kind));
  for (const CodeRange& r : e.ranges)
    out += std::to_string(r.lo) + "-" + std::to_string(r.hi) + ",";
  if (e.kind == Kind::Repeat) out += std::to_string(e.min) + ":" + std::to_string(e.max);
  out += "(";
  for (const GExpr& x : e.children) serialize(x, out);
  out += ")";
}

// ---- Thompson NFA -----------------------------------------------------------------------------

struct Nfa {
  struct State {
    std::vector<int32_t> eps;
    std::vector<PdaByteEdge> bytes;
    std::vector<PdaCall> calls;  // ret = NFA target
    std::vector<PdaTokenEdge> tokens;
  };
  std::vector<State> s;
  int32_t limit = 0;
  int32_t add() {
    if (static_cast<int32_t>(s.size()) >= limit)
      fail("grammar too large: more than ", limit, " automaton states (reduce repetition counts)");
    s.emplace_back();
    return static_cast<int32_t>(s.size()) - 1;
  }
};

class NfaBuilder {
 public:
  NfaBuilder(Nfa& nfa) : nfa_(nfa) {}
  // Offered every large repetition: returns the counted rule that replaces it, or -1.
  std::function<int32_t(const GExpr& item, int32_t min, int32_t max)> counted;

  // Builds e between from and a new end state, returns the end state.
  int32_t build(const GExpr& e, int32_t from) {
    switch (e.kind) {
      case Kind::Seq: {
        int32_t at = from;
        for (const GExpr& x : e.children) at = build(x, at);
        return at;
      }
      case Kind::Alt: {
        const int32_t end = nfa_.add();
        for (const GExpr& x : e.children) {
          const int32_t start = nfa_.add();
          nfa_.s[from].eps.push_back(start);
          const int32_t last = build(x, start);
          nfa_.s[last].eps.push_back(end);
        }
        return end;
      }
      case Kind::Chars: {
        const int32_t end = nfa_.add();
        for (const Utf8Sequence& seq : sequences(e.ranges)) {
          int32_t at = from;
          for (size_t i = 0; i < seq.size(); ++i) {
            const int32_t next = i + 1 == seq.size() ? end : nfa_.add();
            nfa_.s[at].bytes.push_back({seq[i].lo, seq[i].hi, next});
            at = next;
          }
        }
        return end;
      }
      case Kind::Rule: {
        const int32_t end = nfa_.add();
        nfa_.s[from].calls.push_back({e.rule, end});
        return end;
      }
      case Kind::Token:
      case Kind::NotToken: {
        const int32_t end = nfa_.add();
        nfa_.s[from].tokens.push_back({e.token, e.kind == Kind::NotToken, end});
        return end;
      }
      case Kind::Repeat: {
        const GExpr& item = e.children[0];
        const bool large = e.max > kCountedRepeatMin || e.min > kCountedRepeatMin;
        if (large && counted) {
          const int32_t rule = counted(item, e.min, e.max);
          if (rule >= 0) {
            const int32_t end = nfa_.add();
            nfa_.s[from].calls.push_back({rule, end});
            return end;
          }
        }
        int32_t at = from;
        for (int32_t i = 0; i < e.min; ++i) at = build(item, at);
        if (e.max < 0) {
          // at -> loop; loop -eps-> item -> loop; loop -eps-> end
          const int32_t loop = nfa_.add();
          nfa_.s[at].eps.push_back(loop);
          const int32_t body_start = nfa_.add();
          nfa_.s[loop].eps.push_back(body_start);
          const int32_t body_end = build(item, body_start);
          nfa_.s[body_end].eps.push_back(loop);
          const int32_t end = nfa_.add();
          nfa_.s[loop].eps.push_back(end);
          return end;
        }
        // Optional copies nested as (x (x (x)?)?)? so that after k copies exactly one path is
        // alive: deterministic, unlike x? x? x? which keeps every split alive.
        const int32_t end = nfa_.add();
        for (int32_t i = e.min; i < e.max; ++i) {
          nfa_.s[at].eps.push_back(end);
          at = build(item, at);
        }
        nfa_.s[at].eps.push_back(end);
        return end;
      }
    }
    return from;
  }

 private:
  const std::vector<Utf8Sequence>& sequences(const std::vector<CodeRange>& ranges) {
    auto it = cache_.find(ranges);
    if (it == cache_.end()) it = cache_.emplace(ranges, utf8_sequences(ranges)).first;
    return it->second;
  }
  struct RangesHash {
    size_t operator()(const std::vector<CodeRange>& r) const {
      size_t h = r.size();
      for (const CodeRange& x : r) h = h * 1000003u ^ (x.lo * 31u + x.hi);
      return h;
    }
  };
  Nfa& nfa_;
  std::unordered_map<std::vector<CodeRange>, std::vector<Utf8Sequence>, RangesHash> cache_;
};

// ---- subset construction ----------------------------------------------------------------------

struct VecHash {
  size_t operator()(const std::vector<int32_t>& v) const {
    uint64_t h = 1469598103934665603ull ^ v.size();
    for (int32_t x : v) h = (h ^ static_cast<uint32_t>(x)) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

struct DfaRule {
  std::vector<PdaState> states;  // edges in the vectors below, targets local to this rule
  std::vector<PdaByteEdge> bytes;
  std::vector<PdaCall> calls;
  std::vector<PdaTokenEdge> tokens;
};

class Determinizer {
 public:
  Determinizer(const Nfa& nfa, int32_t max_states) : nfa_(nfa), max_states_(max_states) {
    mark_.assign(nfa.s.size(), 0);
  }

  DfaRule run(int32_t start, int32_t accept, const std::string& rule_name) {
    DfaRule out;
    std::unordered_map<std::vector<int32_t>, int32_t, VecHash> ids;
    std::vector<std::vector<int32_t>> sets;
    auto intern = [&](std::vector<int32_t> set) {
      close(set);
      auto it = ids.find(set);
      if (it != ids.end()) return it->second;
      if (static_cast<int32_t>(sets.size()) >= max_states_)
        fail("grammar rule '", rule_name, "' is too large: more than ", max_states_,
             " automaton states");
      const int32_t id = static_cast<int32_t>(sets.size());
      ids.emplace(set, id);
      sets.push_back(std::move(set));
      return id;
    };
    intern({start});
    for (size_t d = 0; d < sets.size(); ++d) {
      const std::vector<int32_t> set = sets[d];  // copy: sets grows below
      PdaState st;
      st.final = std::binary_search(set.begin(), set.end(), accept);
      // Bytes: sweep the boundaries of every edge leaving the set.
      st.bytes_begin = static_cast<uint32_t>(out.bytes.size());
      std::vector<int> bounds;
      for (int32_t q : set)
        for (const PdaByteEdge& e : nfa_.s[q].bytes) {
          bounds.push_back(e.lo);
          bounds.push_back(e.hi + 1);
        }
      std::sort(bounds.begin(), bounds.end());
      bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
      for (size_t b = 0; b + 1 < bounds.size(); ++b) {
        const int lo = bounds[b], hi = bounds[b + 1] - 1;
        std::vector<int32_t> targets;
        for (int32_t q : set)
          for (const PdaByteEdge& e : nfa_.s[q].bytes)
            if (e.lo <= lo && hi <= e.hi) targets.push_back(e.target);
        if (targets.empty()) continue;
        std::sort(targets.begin(), targets.end());
        targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
        const int32_t t = intern(std::move(targets));
        if (out.bytes.size() > st.bytes_begin && out.bytes.back().target == t &&
            out.bytes.back().hi + 1 == lo) {
          out.bytes.back().hi = static_cast<uint8_t>(hi);
        } else {
          out.bytes.push_back({static_cast<uint8_t>(lo), static_cast<uint8_t>(hi), t});
        }
      }
      st.bytes_end = static_cast<uint32_t>(out.bytes.size());
      // Calls and tokens: one edge per distinct label.
      std::vector<std::pair<int32_t, int32_t>> calls;  // (rule, nfa target)
      std::vector<std::tuple<int32_t, bool, int32_t>> toks;
      for (int32_t q : set) {
        for (const PdaCall& c : nfa_.s[q].calls) calls.push_back({c.rule, c.ret});
        for (const PdaTokenEdge& t : nfa_.s[q].tokens)
          toks.push_back({t.token, t.negated, t.target});
      }
      std::sort(calls.begin(), calls.end());
      std::sort(toks.begin(), toks.end());
      st.calls_begin = static_cast<uint32_t>(out.calls.size());
      for (size_t i = 0; i < calls.size();) {
        std::vector<int32_t> targets;
        size_t j = i;
        for (; j < calls.size() && calls[j].first == calls[i].first; ++j)
          targets.push_back(calls[j].second);
        const int32_t t = intern(std::move(targets));
        out.calls.push_back({calls[i].first, t});
        i = j;
      }
      st.calls_end = static_cast<uint32_t>(out.calls.size());
      st.tokens_begin = static_cast<uint32_t>(out.tokens.size());
      for (size_t i = 0; i < toks.size();) {
        std::vector<int32_t> targets;
        size_t j = i;
        for (; j < toks.size() && std::get<0>(toks[j]) == std::get<0>(toks[i]) &&
               std::get<1>(toks[j]) == std::get<1>(toks[i]);
             ++j)
          targets.push_back(std::get<2>(toks[j]));
        const int32_t t = intern(std::move(targets));
        out.tokens.push_back({std::get<0>(toks[i]), std::get<1>(toks[i]), t});
        i = j;
      }
      st.tokens_end = static_cast<uint32_t>(out.tokens.size());
      out.states.push_back(st);
    }
    return out;
  }

 private:
  // Epsilon closure, sorted.
  void close(std::vector<int32_t>& set) {
    ++stamp_;
    std::vector<int32_t> work = set;
    set.clear();
    while (!work.empty()) {
      const int32_t q = work.back();
      work.pop_back();
      if (mark_[q] == stamp_) continue;
      mark_[q] = stamp_;
      const Nfa::State& s = nfa_.s[q];
      // Keep only states that do something: edges out, or the accept state (no edges at all).
      if (!s.bytes.empty() || !s.calls.empty() || !s.tokens.empty() || s.eps.empty())
        set.push_back(q);
      for (int32_t e : s.eps) work.push_back(e);
    }
    std::sort(set.begin(), set.end());
  }

  const Nfa& nfa_;
  int32_t max_states_;
  std::vector<uint32_t> mark_;
  uint32_t stamp_ = 0;
};

// X* as a DFA must have its start as the only accepting state, so that completing a unit always
// lands on the start: then counting arrivals there counts units (true when X is prefix-free).
bool countable_loop(const GExpr& item) {
  Nfa nfa;
  nfa.limit = 100000;
  NfaBuilder b(nfa);
  const int32_t start = nfa.add();
  const int32_t end = b.build(item, start);
  nfa.s[end].eps.push_back(start);
  const int32_t accept = nfa.add();
  nfa.s[start].eps.push_back(accept);
  Determinizer det(nfa, 100000);
  DfaRule d;
  try {
    d = det.run(start, accept, "repeat");
  } catch (const Error&) {
    return false;
  }
  if (d.states.empty() || !d.states[0].final) return false;
  for (size_t i = 1; i < d.states.size(); ++i)
    if (d.states[i].final) return false;
  return true;
}

// ---- checks on the assembled automaton --------------------------------------------------------

// Drops states that cannot reach the end of their rule and calls of rules that cannot complete.
void trim(Pda& p) {
  const int32_t n = static_cast<int32_t>(p.states.size());
  const int32_t rules = static_cast<int32_t>(p.rule_start.size());
  std::vector<bool> live(n, false), productive(rules, false);
  std::vector<std::vector<int32_t>> preds(n);  // byte/token edge predecessors and call returns
  std::vector<std::vector<int32_t>> callers(rules);  // states with a call edge to the rule
  for (int32_t s = 0; s < n; ++s) {
    const PdaState& st = p.states[s];
    for (uint32_t i = st.bytes_begin; i < st.bytes_end; ++i)
      preds[p.byte_edges[i].target].push_back(s);
    for (uint32_t i = st.tokens_begin; i < st.tokens_end; ++i)
      preds[p.token_edges[i].target].push_back(s);
    for (uint32_t i = st.calls_begin; i < st.calls_end; ++i) {
      preds[p.calls[i].ret].push_back(s);
      callers[p.calls[i].rule].push_back(s);
    }
  }
  auto call_ok = [&](const PdaCall& c) { return productive[c.rule] && live[c.ret]; };
  auto state_ok = [&](int32_t s) {
    const PdaState& st = p.states[s];
    if (st.final) return true;
    for (uint32_t i = st.bytes_begin; i < st.bytes_end; ++i)
      if (live[p.byte_edges[i].target]) return true;
    for (uint32_t i = st.tokens_begin; i < st.tokens_end; ++i)
      if (live[p.token_edges[i].target]) return true;
    for (uint32_t i = st.calls_begin; i < st.calls_end; ++i)
      if (call_ok(p.calls[i])) return true;
    return false;
  };
  std::vector<int32_t> work;
  for (int32_t s = 0; s < n; ++s)
    if (p.states[s].final) work.push_back(s);
  for (int32_t s : work) live[s] = true;
  while (!work.empty()) {
    const int32_t s = work.back();
    work.pop_back();
    std::vector<int32_t> check = preds[s];
    const int32_t r = p.states[s].rule;
    if (p.rule_start[r] == s && !productive[r]) {
      productive[r] = true;
      check.insert(check.end(), callers[r].begin(), callers[r].end());
    }
    for (int32_t q : check) {
      if (!live[q] && state_ok(q)) {
        live[q] = true;
        work.push_back(q);
      }
    }
  }
  if (!productive[p.root])
    fail("grammar: rule '", p.rule_names[p.root],
         "' can never complete (every path recurses forever)");
  // Rebuild the edge lists without dead targets.
  std::vector<PdaByteEdge> bytes;
  std::vector<PdaCall> calls;
  std::vector<PdaTokenEdge> tokens;
  for (int32_t s = 0; s < n; ++s) {
    PdaState& st = p.states[s];
    const uint32_t b0 = static_cast<uint32_t>(bytes.size());
    const uint32_t c0 = static_cast<uint32_t>(calls.size());
    const uint32_t t0 = static_cast<uint32_t>(tokens.size());
    if (live[s]) {
      for (uint32_t i = st.bytes_begin; i < st.bytes_end; ++i)
        if (live[p.byte_edges[i].target]) bytes.push_back(p.byte_edges[i]);
      for (uint32_t i = st.calls_begin; i < st.calls_end; ++i)
        if (call_ok(p.calls[i])) calls.push_back(p.calls[i]);
      for (uint32_t i = st.tokens_begin; i < st.tokens_end; ++i)
        if (live[p.token_edges[i].target]) tokens.push_back(p.token_edges[i]);
    }
    st.bytes_begin = b0;
    st.bytes_end = static_cast<uint32_t>(bytes.size());
    st.calls_begin = c0;
    st.calls_end = static_cast<uint32_t>(calls.size());
    st.tokens_begin = t0;
    st.tokens_end = static_cast<uint32_t>(tokens.size());
  }
  p.byte_edges = std::move(bytes);
  p.calls = std::move(calls);
  p.token_edges = std::move(tokens);
}

// A rule that can call itself before consuming input would make the parser push forever.
void check_left_recursion(Pda& p) {
  const int32_t rules = static_cast<int32_t>(p.rule_start.size());
  // nullable[r]: the rule can complete without input.
  std::vector<bool> nullable(rules, false);
  auto eps_reachable = [&](int32_t r, auto&& on_state) {
    std::vector<int32_t> work{p.rule_start[r]};
    std::vector<bool> seen(p.states.size(), false);
    while (!work.empty()) {
      const int32_t s = work.back();
      work.pop_back();
      if (seen[s]) continue;
      seen[s] = true;
      on_state(s);
      const PdaState& st = p.states[s];
      for (uint32_t i = st.calls_begin; i < st.calls_end; ++i)
        if (nullable[p.calls[i].rule]) work.push_back(p.calls[i].ret);
    }
  };
  for (int32_t r = 0; r < rules; ++r)
    if (p.rule_counted[r]) nullable[r] = p.rule_min[r] == 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (int32_t r = 0; r < rules; ++r) {
      if (nullable[r] || p.rule_start[r] < 0 || p.rule_counted[r]) continue;
      bool fin = false;
      eps_reachable(r, [&](int32_t s) { fin = fin || p.states[s].final; });
      if (fin) nullable[r] = changed = true;
    }
  }
  std::vector<std::vector<int32_t>> left(rules);
  for (int32_t r = 0; r < rules; ++r) {
    if (p.rule_start[r] < 0) continue;
    eps_reachable(r, [&](int32_t s) {
      const PdaState& st = p.states[s];
      for (uint32_t i = st.calls_begin; i < st.calls_end; ++i) left[r].push_back(p.calls[i].rule);
    });
  }
  // Depth-first search for a cycle; also the longest left-call chain.
  std::vector<int8_t> color(rules, 0);
  std::vector<int32_t> depth(rules, 0), path;
  std::function<void(int32_t)> dfs = [&](int32_t r) {
    color[r] = 1;
    path.push_back(r);
    for (int32_t x : left[r]) {
      if (color[x] == 1) {
        std::string chain;
        bool on = false;
        for (int32_t y : path) {
          if (y == x) on = true;
          if (on) chain += p.rule_names[y] + " -> ";
        }
        fail("grammar: rule '", p.rule_names[x], "' is left-recursive (", chain, p.rule_names[x],
             "); rewrite it so that input comes before the recursive reference");
      }
      if (color[x] == 0) dfs(x);
      depth[r] = std::max(depth[r], depth[x] + 1);
    }
    path.pop_back();
    color[r] = 2;
  };
  for (int32_t r = 0; r < rules; ++r) {
    if (color[r] == 0 && p.rule_start[r] >= 0) dfs(r);
    p.max_left_calls = std::max(p.max_left_calls, depth[r]);
  }
}

void check_tokens(const Grammar& g, const TokenVocab& vocab) {
  std::function<void(const GExpr&, const std::string&)> walk = [&](const GExpr& e,
                                                                   const std::string& rule) {
    if (e.kind == Kind::Token || e.kind == Kind::NotToken) {
      if (e.token < 0 || e.token >= vocab.size())
        fail("grammar rule '", rule, "': token id ", e.token, " is outside the vocabulary (",
             vocab.size(), " tokens)");
      const TokenKind k = vocab.kind(e.token);
      if (e.kind == Kind::Token && k == TokenKind::End)
        fail("grammar rule '", rule, "': <[", e.token,
             "]> ends generation; end tokens are allowed where the grammar is complete, "
             "the grammar cannot name them");
      if (e.kind == Kind::Token && k == TokenKind::Never)
        fail("grammar rule '", rule, "': token ", e.token, " can never be produced");
    }
    for (const GExpr& x : e.children) walk(x, rule);
  };
  for (const GRule& r : g.rules) walk(r.body, r.name);
}

}  // namespace

Pda build_pda(const Grammar& g, const TokenVocab* vocab, const PdaLimits& limits) {
  if (g.root < 0 || g.root >= static_cast<int32_t>(g.rules.size())) fail("grammar: no root rule");
  if (vocab) check_tokens(g, *vocab);
  std::vector<bool> kept;
  const std::vector<GExpr> bodies = inline_rules(g, kept);

  Nfa nfa;
  nfa.limit = limits.max_nfa_states;
  NfaBuilder builder(nfa);
  std::vector<int32_t> nfa_start(g.rules.size(), -1), nfa_accept(g.rules.size(), -1);
  std::vector<std::string> names;
  for (const GRule& r : g.rules) names.push_back(r.name);
  std::vector<int32_t> counted_min(g.rules.size(), 0), counted_max(g.rules.size(), 0);
  std::unordered_map<std::string, int32_t> counted_ids;
  NfaBuilder loop_builder(nfa);  // builds counted loops' bodies (no nested counting)
  builder.counted = [&](const GExpr& item, int32_t min, int32_t max) -> int32_t {
    if (!pure_chars(item) || nullable_expr(item)) return -1;
    std::string key;
    serialize(item, key);
    key += "{" + std::to_string(min) + "," + std::to_string(max) + "}";
    auto it = counted_ids.find(key);
    if (it != counted_ids.end()) return it->second;
    if (!countable_loop(item)) return -1;
    const int32_t id = static_cast<int32_t>(names.size());
    names.push_back("repeat-" + std::to_string(counted_ids.size()));
    counted_min.push_back(min);
    counted_max.push_back(max < 0 ? INT32_MAX : max);
    const int32_t start = nfa.add();
    const int32_t end = loop_builder.build(item, start);
    nfa.s[end].eps.push_back(start);
    const int32_t accept = nfa.add();
    nfa.s[start].eps.push_back(accept);
    nfa_start.push_back(start);
    nfa_accept.push_back(accept);
    kept.push_back(true);
    counted_ids.emplace(key, id);
    return id;
  };
  for (size_t r = 0; r < g.rules.size(); ++r) {
    if (!kept[r]) continue;
    nfa_start[r] = nfa.add();
    const int32_t end = builder.build(bodies[r], nfa_start[r]);
    nfa_accept[r] = nfa.add();
    nfa.s[end].eps.push_back(nfa_accept[r]);
  }
  const size_t n = names.size();

  Pda p;
  p.root = g.root;
  p.rule_start.assign(n, -1);
  p.rule_names = names;
  p.rule_counted.assign(n, 0);
  p.rule_min = counted_min;
  p.rule_max = counted_max;
  for (size_t r = g.rules.size(); r < n; ++r) p.rule_counted[r] = 1;
  Determinizer det(nfa, limits.max_dfa_states);
  for (size_t r = 0; r < n; ++r) {
    if (!kept[r]) continue;
    DfaRule d = det.run(nfa_start[r], nfa_accept[r], names[r]);
    const int32_t base = static_cast<int32_t>(p.states.size());
    if (base + static_cast<int64_t>(d.states.size()) > limits.max_dfa_states)
      fail("grammar too large: more than ", limits.max_dfa_states, " automaton states");
    p.rule_start[r] = base;
    const uint32_t b0 = static_cast<uint32_t>(p.byte_edges.size());
    const uint32_t c0 = static_cast<uint32_t>(p.calls.size());
    const uint32_t t0 = static_cast<uint32_t>(p.token_edges.size());
    for (PdaByteEdge e : d.bytes) p.byte_edges.push_back({e.lo, e.hi, e.target + base});
    for (PdaCall c : d.calls) p.calls.push_back({c.rule, c.ret + base});
    for (PdaTokenEdge t : d.tokens) p.token_edges.push_back({t.token, t.negated, t.target + base});
    for (PdaState st : d.states) {
      st.rule = static_cast<int32_t>(r);
      st.bytes_begin += b0;
      st.bytes_end += b0;
      st.calls_begin += c0;
      st.calls_end += c0;
      st.tokens_begin += t0;
      st.tokens_end += t0;
      p.states.push_back(st);
    }
  }
  // Calls of rules that were inlined cannot remain: every reference to them was substituted.
  trim(p);
  check_left_recursion(p);
  return p;
}

}  // namespace ug
