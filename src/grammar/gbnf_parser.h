// GBNF, llama.cpp's grammar format (grammars/README.md there): `name ::= alternatives`, literals
// "..." and classes [...] / [^...] with \x \u \U \t \r \n \\ \" \[ \] \- escapes, `.`, groups,
// * + ? {m} {m,} {m,n}, # comments, and tokens: <[id]>, <piece> (a special token by its text),
// with ! for "any token but". The rule `root` is the start. Rule names take letters, digits,
// '-' and '_'.
#pragma once

#include <string_view>

#include "grammar/grammar_ir.h"

namespace ug {

class TokenVocab;

// Throws ug::Error "grammar line L, column C: ..." on a syntax error, an undefined or twice
// defined rule, a missing root, or a <piece> that names no token (vocab may be null: then only
// <[id]> works).
Grammar parse_gbnf(std::string_view text, const TokenVocab* vocab = nullptr);

}  // namespace ug
