// `-e/--escape`: backslash escapes in a prompt, as llama.cpp's `-e` reads them, so a prompt typed
// in a shell can hold newlines and raw bytes:
//   \n \r \t   newline, carriage return, tab
//   \\ \" \'   backslash, double quote, single quote
//   \xNN       the byte NN (two hex digits); bytes \xc3\xa9 together make the UTF-8 "é"
// Any other backslash pair (\q, \u00e9, a lone trailing '\') stays as it is; UTF-8 text passes
// through unchanged.
#pragma once

#include <string>

namespace ug::cli {

std::string process_escapes(const std::string& text);

}  // namespace ug::cli
