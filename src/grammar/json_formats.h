// JSON Schema string `format`s as regular expressions for regex_to_gbnf(). Each regex describes
// a subset of the format that strict validators accept (e.g. dates only with days that exist,
// February up to the 28th), so a value produced from it is valid whatever checker is used.
#pragma once

#include <string>
#include <string_view>

namespace ug {

// The regex for a string format; "" for formats that do not constrain the text (binary,
// password, and formats no JSON Schema draft defines: annotations); throws ug::Error for a
// standard format it has no regex for.
std::string format_regex(std::string_view format, std::string_view path);
// A format defined by a JSON Schema draft (validators check it).
bool is_standard_format(std::string_view format);

}  // namespace ug
