#include "grammar/grammar_ir.h"

#include <algorithm>

#include "grammar/gbnf_text.h"

namespace ug {
namespace {

constexpr char32_t kMaxChar = 0x10FFFF;

void print_expr(std::string& out, const Grammar& g, const GExpr& e, bool top) {
  switch (e.kind) {
    case GExpr::Kind::Seq:
      if (e.children.empty()) {
        out += top ? "" : "\"\"";
        return;
      }
      if (!top && e.children.size() > 1) out += "(";
      for (size_t i = 0; i < e.children.size(); ++i) {
        if (i) out += " ";
        print_expr(out, g, e.children[i], false);
      }
      if (!top && e.children.size() > 1) out += ")";
      return;
    case GExpr::Kind::Alt:
      if (!top) out += "(";
      for (size_t i = 0; i < e.children.size(); ++i) {
        if (i) out += " | ";
        print_expr(out, g, e.children[i], true);
      }
      if (!top) out += ")";
      return;
    case GExpr::Kind::Chars:
      out += gbnf_class(e.ranges);
      return;
    case GExpr::Kind::Rule:
      out += g.rules[static_cast<size_t>(e.rule)].name;
      return;
    case GExpr::Kind::Token:
    case GExpr::Kind::NotToken:
      if (e.kind == GExpr::Kind::NotToken) out += "!";
      out += "<[" + std::to_string(e.token) + "]>";
      return;
    case GExpr::Kind::Repeat:
      if (e.children[0].kind == GExpr::Kind::Repeat) {
        out += "(";
        print_expr(out, g, e.children[0], true);
        out += ")";
      } else {
        print_expr(out, g, e.children[0], false);
      }
      if (e.min == 0 && e.max == 1) {
        out += "?";
      } else if (e.min == 0 && e.max < 0) {
        out += "*";
      } else if (e.min == 1 && e.max < 0) {
        out += "+";
      } else if (e.min == e.max) {
        out += "{" + std::to_string(e.min) + "}";
      } else if (e.max < 0) {
        out += "{" + std::to_string(e.min) + ",}";
      } else {
        out += "{" + std::to_string(e.min) + "," + std::to_string(e.max) + "}";
      }
      return;
  }
}

}  // namespace

GExpr GExpr::seq(std::vector<GExpr> items) {
  GExpr e;
  e.kind = Kind::Seq;
  e.children = std::move(items);
  return e;
}

GExpr GExpr::alt(std::vector<GExpr> items) {
  if (items.size() == 1) return std::move(items[0]);
  GExpr e;
  e.kind = Kind::Alt;
  e.children = std::move(items);
  return e;
}

GExpr GExpr::chars(std::vector<CodeRange> ranges) {
  GExpr e;
  e.kind = Kind::Chars;
  e.ranges = normalize_chars(std::move(ranges));
  return e;
}

GExpr GExpr::literal(std::u32string_view text) {
  std::vector<GExpr> items;
  for (char32_t c : text) items.push_back(chars({{c, c}}));
  if (items.size() == 1) return std::move(items[0]);
  return seq(std::move(items));
}

GExpr GExpr::ref(int32_t rule) {
  GExpr e;
  e.kind = Kind::Rule;
  e.rule = rule;
  return e;
}

GExpr GExpr::token_ref(int32_t id, bool negated) {
  GExpr e;
  e.kind = negated ? Kind::NotToken : Kind::Token;
  e.token = id;
  return e;
}

GExpr GExpr::repeat(GExpr item, int32_t min, int32_t max) {
  GExpr e;
  e.kind = Kind::Repeat;
  e.children.push_back(std::move(item));
  e.min = min;
  e.max = max;
  return e;
}

std::vector<CodeRange> normalize_chars(std::vector<CodeRange> ranges) {
  std::vector<CodeRange> split;
  for (CodeRange r : ranges) {
    if (r.lo > r.hi) continue;
    r.hi = std::min(r.hi, kMaxChar);
    if (r.lo > kMaxChar) continue;
    // Surrogates cannot be encoded in UTF-8: cut them out.
    if (r.lo < 0xD800 && r.hi >= 0xD800) {
      split.push_back({r.lo, 0xD7FF});
      if (r.hi > 0xDFFF) split.push_back({0xE000, r.hi});
    } else if (r.lo >= 0xD800 && r.lo <= 0xDFFF) {
      if (r.hi > 0xDFFF) split.push_back({0xE000, r.hi});
    } else {
      split.push_back(r);
    }
  }
  std::sort(split.begin(), split.end(), [](CodeRange a, CodeRange b) { return a.lo < b.lo; });
  std::vector<CodeRange> out;
  for (CodeRange r : split) {
    if (!out.empty() && r.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<CodeRange> all_chars() { return normalize_chars({{1, kMaxChar}}); }

std::vector<CodeRange> negate_chars(const std::vector<CodeRange>& ranges) {
  const std::vector<CodeRange> in = normalize_chars(ranges);
  std::vector<CodeRange> out;
  char32_t next = 1;  // NUL is never part of a negated class
  for (const CodeRange& r : in) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = std::max<char32_t>(next, r.hi + 1);
  }
  if (next <= kMaxChar) out.push_back({next, kMaxChar});
  return normalize_chars(std::move(out));
}

std::string to_gbnf(const Grammar& g) {
  std::string out;
  for (const GRule& r : g.rules) {
    out += r.name + " ::= ";
    print_expr(out, g, r.body, true);
    out += "\n";
  }
  return out;
}

}  // namespace ug
