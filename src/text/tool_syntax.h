// Gemma 4 tool DSL values (`{key:<|"|>text<|"|>,n:3}`) and the Python-style printing that the
// chat template (rendered by a Python Jinja engine) applies to JSON values.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ug {

// The string delimiter token of the DSL (id 52); the DSL never uses JSON quotes.
inline constexpr std::string_view kDslQuote = "<|\"|>";

// What Jinja's `{{ value }}` prints: Python's str() of the value json.loads() would give
// (None, True/False, repr() of floats, ['a', 1] for lists).
std::string python_str(const nlohmann::json& value);
// Python's repr() of a float: shortest round-trip digits, exponent form outside 1e-4..1e16.
std::string python_float_repr(double value);
// Python's str.upper()/str.strip() restricted to what templates meet (ASCII case, Unicode spaces).
std::string ascii_upper(std::string_view text);
std::string python_strip(std::string_view text);

// Object members in Jinja `dictsort` order: by key, case-insensitively, stable.
std::vector<std::pair<std::string, const nlohmann::json*>> dictsort(const nlohmann::json& object);

// The chat template's format_argument macro: strings wrapped in <|"|>, keys sorted and unquoted
// (quoted with <|"|> when quote_keys), numbers and null printed as Python prints them ("None").
std::string json_to_gemma_dsl(const nlohmann::json& value, bool quote_keys = false);

// Parses one whole DSL value. Forgiving: accepts whitespace, keys quoted with <|"|> or JSON
// quotes, JSON strings, trailing commas, true/false/null and Python's True/False/None.
// Throws ug::Error naming the byte position on anything else.
nlohmann::json gemma_dsl_to_json(std::string_view text);
// Parses one value starting at `pos` and leaves `pos` just after it (no trailing check).
nlohmann::json parse_gemma_dsl_value(std::string_view text, std::size_t& pos);

}  // namespace ug
