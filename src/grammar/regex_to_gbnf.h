// ECMAScript regular expressions (JSON Schema `pattern`, and the regexes behind `format`) as a
// GBNF expression for the inside of a string. Supported: literals and escapes (\t \n \r \f \v \0
// \xHH \uHHHH \u{H..} \cX, escaped punctuation), classes [...] / [^...] with ranges, \d \w \s
// \D \W \S, `.`, groups ( ) (?: ) (?<name> ), alternation, quantifiers * + ? {n} {n,} {n,m} (lazy
// forms too), and ^ / $ at the ends of top-level alternatives. Refused with a clear error:
// backreferences, lookaround, \b \B, \p{...}, anchors elsewhere.
//
// The grammar produces strings that the whole pattern matches; those also satisfy JSON Schema's
// unanchored (search) semantics. \D \W \S and negated classes containing \d \w \s are limited to
// ASCII, so that a validator with Unicode-aware classes (Python's re) agrees.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar_ir.h"

namespace ug {

// How characters are written inside the string the regex describes.
enum class StringSyntax {
  Json,  // JSON string content: '"', '\' and control characters escaped
  Dsl,   // Gemma tool-call strings (between <|"|> tokens): raw text, never '|' (so never a marker)
};

struct RegexGrammar {
  std::string expr;       // GBNF expression for the string's content
  int64_t min_chars = 0;  // shortest and longest match in code points (max -1: unbounded)
  int64_t max_chars = 0;
};

// Throws ug::Error "pattern /.../: <what> at offset N" for unsupported or malformed patterns.
RegexGrammar regex_to_gbnf(std::string_view pattern, StringSyntax syntax);

// One string character of the set in the given syntax (JSON: escapes where JSON needs them).
std::string string_char_gbnf(const std::vector<CodeRange>& set, StringSyntax syntax);

// If the pattern is a single repeated character set (`[a-z]+`, `\d{2,5}`, `.*`, with optional ^ $)
// returns true and the set and bounds, so a length limit can be folded into the repetition.
bool regex_single_repeat(std::string_view pattern, std::vector<CodeRange>& set, int64_t& min,
                         int64_t& max);

}  // namespace ug
