// JSON Schema string `format`s as regular expressions for regex_to_gbnf(). Each regex describes
// a subset of the format that strict validators accept (e.g. dates only with days that exist,
// February up to the 28th), so a value produced from it is valid whatever checker is used.
#pragma once

#include <string>
#include <string_view>

namespace ug {

// The regex for a string format; "" for formats that do not constrain the text (binary,
// password); throws ug::Error for formats it does not know.
std::string format_regex(std::string_view format, std::string_view path);

}  // namespace ug
