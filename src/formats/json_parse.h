// Every JSON text the program reads (HTTP bodies, tool-call arguments, config.json,
// tokenizer.json, safetensors headers) goes through parse_json: the nesting depth is limited while
// parsing, so no later recursion over the value (copies, dumps, comparisons, chat-template
// rendering) can exhaust the stack, and errors name what was parsed.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/error.h"

namespace ug {

// Far above real documents (an HF config.json is 3 levels deep, a chat request with a tool
// schema about 10-20) and far below what recursion over a value can take on any thread's stack.
inline constexpr int kMaxJsonDepth = 128;

struct JsonParseOptions {
  int max_depth = kMaxJsonDepth;       // arrays and objects; a scalar at the top is depth 0
  bool reject_duplicate_keys = false;  // off: the last value of a repeated key wins
};

// Thrown by parse_json for text nested deeper than the limit (syntax errors throw plain Error).
class JsonDepthError : public Error {
 public:
  using Error::Error;
};

// Parses `text` as one JSON value. Throws ug::Error "<what>: invalid JSON: parse error at line
// L, column C: ..." or JsonDepthError "<what>: JSON nested more than N levels deep ...".
nlohmann::json parse_json(std::string_view text, std::string_view what,
                          const JsonParseOptions& options = {});

// Reads a whole file and parses it as above; `what` in errors is the path. Throws ug::Error when
// the file cannot be read.
nlohmann::json read_json_file(const std::string& path, const JsonParseOptions& options = {});

// The value as compact JSON, cut to about max_bytes with "..." appended: for error messages,
// which must stay short whatever the input held.
std::string json_excerpt(const nlohmann::json& value, std::size_t max_bytes = 120);

// Typed reads of configuration values (config.json and the like). T is bool, an integer type, a
// floating type or std::string. Other JSON types, and numbers T cannot hold, are refused with
// "<what>: '<key>' ..." (nlohmann's get<int> would wrap 2^32 + 6 to 6, and converting 1e30 to int
// is undefined). A whole float (1024.0) counts as an integer.
template <class T>
T json_as(const nlohmann::json& v, std::string_view what, std::string_view key) {
  auto wrong_type = [&] {
    fail(what, ": '", key, "' has the wrong type (", v.type_name(), ": ", json_excerpt(v), ")");
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) wrong_type();
    return v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    using Lim = std::numeric_limits<T>;
    auto out_of_range = [&] {
      fail(what, ": '", key, "' = ", json_excerpt(v), " is not an integer from ", +Lim::min(),
           " to ", +Lim::max());
    };
    if (v.is_number_float()) {
      const double d = v.get<double>(), end = std::ldexp(1.0, Lim::digits);  // 2^31 for int
      if (!(std::floor(d) == d && d >= (Lim::is_signed ? -end : 0.0) && d < end)) out_of_range();
      return static_cast<T>(d);
    }
    if (!v.is_number_integer()) wrong_type();
    if (v.is_number_unsigned()) {
      if (v.get<uint64_t>() > static_cast<uint64_t>(Lim::max())) out_of_range();
      return static_cast<T>(v.get<uint64_t>());
    }
    const int64_t i = v.get<int64_t>();
    if (i < static_cast<int64_t>(Lim::min()) ||
        (i > 0 && static_cast<uint64_t>(i) > static_cast<uint64_t>(Lim::max())))
      out_of_range();
    return static_cast<T>(i);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) wrong_type();
    const double d = v.get<double>();
    if (!(std::abs(d) <= static_cast<double>(std::numeric_limits<T>::max())))
      fail(what, ": '", key, "' = ", json_excerpt(v), " is out of range");
    return static_cast<T>(d);
  } else {
    if (!v.is_string()) wrong_type();
    return v.get<std::string>();
  }
}

// obj[key] as T; a missing or null key is an error.
template <class T>
T json_need(const nlohmann::json& obj, const char* key, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) fail(what, ": missing '", key, "'");
  return json_as<T>(*it, what, key);
}

// obj[key] as T, or dflt when the key is missing or null.
template <class T>
T json_get(const nlohmann::json& obj, const char* key, T dflt, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return dflt;
  return json_as<T>(*it, what, key);
}

}  // namespace ug
