// Writing GBNF: quoted literals and character classes with the escapes parse_gbnf() reads back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar_ir.h"

namespace ug {

// "..." matching exactly the UTF-8 text (invalid UTF-8 bytes are written as \xHH).
std::string gbnf_quote(std::string_view utf8);
// [...] matching one code point of the ranges; a single code point is written as a literal.
std::string gbnf_class(const std::vector<CodeRange>& ranges);
// Appends one code point escaped for a literal (in_class false) or a class.
void gbnf_append_char(std::string& out, char32_t c, bool in_class);

}  // namespace ug
