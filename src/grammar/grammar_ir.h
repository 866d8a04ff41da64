// A context-free grammar as parsed from GBNF (llama.cpp's grammar format): named rules whose
// bodies are expression trees over characters (Unicode code points), character classes, rule
// references and whole tokens. Every front end (GBNF text, JSON Schema, tool calls) ends here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ug {

// Inclusive code point range.
struct CodeRange {
  char32_t lo, hi;
  bool operator==(const CodeRange&) const = default;
};

struct GExpr {
  enum class Kind : uint8_t {
    Seq,       // children in order; empty = the empty string
    Alt,       // one of children
    Chars,     // one code point in `ranges` (sorted, disjoint; already negated if [^...])
    Rule,      // a reference to rule `rule`
    Token,     // the whole token `token` (<[id]>, <name>)
    NotToken,  // any one token except `token` and the end tokens (!<[id]>)
    Repeat,    // children[0] between min and max times (max < 0: no upper bound)
  };
  Kind kind = Kind::Seq;
  std::vector<GExpr> children;
  std::vector<CodeRange> ranges;
  int32_t rule = -1;
  int32_t token = -1;
  int32_t min = 0, max = 0;

  static GExpr seq(std::vector<GExpr> items = {});
  static GExpr alt(std::vector<GExpr> items);
  static GExpr chars(std::vector<CodeRange> ranges);  // normalizes (sorts, merges)
  static GExpr literal(std::u32string_view text);
  static GExpr ref(int32_t rule);
  static GExpr token_ref(int32_t id, bool negated);
  static GExpr repeat(GExpr item, int32_t min, int32_t max);
};

struct GRule {
  std::string name;
  GExpr body;
};

struct Grammar {
  std::vector<GRule> rules;
  int32_t root = -1;
};

// All code points except the surrogates (U+D800..U+DFFF, not encodable in UTF-8) and NUL.
std::vector<CodeRange> all_chars();
// all_chars() minus `ranges`.
std::vector<CodeRange> negate_chars(const std::vector<CodeRange>& ranges);
// Sorted, merged, surrogates removed.
std::vector<CodeRange> normalize_chars(std::vector<CodeRange> ranges);

// GBNF text of the grammar (rules in order); parse_gbnf() of it gives the same language.
std::string to_gbnf(const Grammar& g);

}  // namespace ug
