#include "text/tool_syntax.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "base/error.h"
#include "formats/json_parse.h"

namespace ug {
namespace {

using nlohmann::json;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string python_str_repr(std::string_view s) {
  // Python picks double quotes only when that avoids escaping a single quote.
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  static const char* kHex = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else if (c == 0xc2 && i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) <= 0xa0)) {
      // U+0080..U+00A0 are not printable for Python's repr.
      const auto d = static_cast<unsigned char>(s[++i]);
      out += "\\x";
      out += kHex[d >> 4];
      out += kHex[d & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

std::string python_repr(const json& v) {
  if (v.is_string()) return python_str_repr(v.get_ref<const std::string&>());
  return python_str(v);
}

// Decodes one UTF-8 code point at s[i] (invalid bytes count as themselves).
char32_t decode_at(std::string_view s, std::size_t i, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  len = n;
  return cp;
}

bool python_isspace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

class DslParser {
 public:
  DslParser(std::string_view text, std::size_t pos) : text_(text), pos_(pos) {}

  json value() {
    skip_ws();
    if (at_end()) error("a value", "the end of the text");
    if (starts_with(kDslQuote)) return json(dsl_string());
    const char c = text_[pos_];
    if (c == '"') return json(json_string());
    if (c == '{' || c == '[') {
      // Generated text is as long as the token limit allows: bound the recursion, as JSON's.
      if (depth_ >= kMaxJsonDepth)
        error("at most " + std::to_string(kMaxJsonDepth) + " nested objects and arrays",
              "one more");
      ++depth_;
      json v = c == '{' ? object() : array();
      --depth_;
      return v;
    }
    if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) return number();
    for (const auto& [word, result] : kWords) {
      if (starts_with(word) && !ident_char_at(pos_ + word.size())) {
        pos_ += word.size();
        return result;
      }
    }
    error("a value (<|\"|>string<|\"|>, number, {...}, [...], true, false or null)", found());
  }

  std::size_t pos() const { return pos_; }
  void skip_ws() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' ||
                         text_[pos_] == '\r'))
      ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  [[noreturn]] void error(std::string_view expected, std::string_view what) const {
    fail("tool-call syntax: expected ", expected, " at byte ", pos_, ", found ", what, " in `",
         excerpt(), "`");
  }

 private:
  inline static const std::pair<std::string_view, json> kWords[] = {
      {"true", json(true)}, {"false", json(false)}, {"null", json(nullptr)},
      {"True", json(true)}, {"False", json(false)}, {"None", json(nullptr)}};

  bool starts_with(std::string_view s) const { return text_.substr(pos_).starts_with(s); }
  bool ident_char_at(std::size_t i) const {
    if (i >= text_.size()) return false;
    const char c = text_[i];
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  std::string found() const {
    if (at_end()) return "the end of the text";
    return std::string("'") + text_[pos_] + "'";
  }
  std::string excerpt() const {
    const std::size_t from = pos_ > 40 ? pos_ - 40 : 0;
    std::string s(text_.substr(from, 80));
    return s;
  }

  std::string dsl_string() {
    const std::size_t start = pos_ + kDslQuote.size();
    const std::size_t end = text_.find(kDslQuote, start);
    if (end == std::string_view::npos) error("a closing <|\"|>", "the end of the text");
    pos_ = end + kDslQuote.size();
    return std::string(text_.substr(start, end - start));
  }

  std::string json_string() {
    std::size_t i = pos_ + 1;
    while (i < text_.size() && text_[i] != '"') i += text_[i] == '\\' ? 2 : 1;
    if (i >= text_.size()) error("a closing '\"'", "the end of the text");
    try {
      std::string s =
          parse_json(text_.substr(pos_, i + 1 - pos_), "tool-call string").get<std::string>();
      pos_ = i + 1;
      return s;
    } catch (const Error&) {
      error("a valid JSON string", "a bad escape");
    }
  }

  json number() {
    std::size_t i = pos_;
    if (text_[i] == '-' || text_[i] == '+') ++i;
    bool is_float = false;
    while (i < text_.size()) {
      const char c = text_[i];
      if (c >= '0' && c <= '9') {
        ++i;
      } else if (c == '.' || c == 'e' || c == 'E') {
        is_float = true;
        ++i;
        if ((c == 'e' || c == 'E') && i < text_.size() && (text_[i] == '-' || text_[i] == '+')) ++i;
      } else {
        break;
      }
    }
    std::string_view tok = text_.substr(pos_, i - pos_);
    if (!tok.empty() && tok[0] == '+') tok.remove_prefix(1);
    if (!is_float) {
      std::int64_t v = 0;
      auto r = std::from_chars(tok.data(), tok.data() + tok.size(), v);
      if (r.ec == std::errc() && r.ptr == tok.data() + tok.size()) {
        pos_ = i;
        return json(v);
      }
      std::uint64_t u = 0;
      r = std::from_chars(tok.data(), tok.data() + tok.size(), u);
      if (r.ec == std::errc() && r.ptr == tok.data() + tok.size()) {
        pos_ = i;
        return json(u);
      }
    }
    double d = 0;
    auto r = std::from_chars(tok.data(), tok.data() + tok.size(), d);
    if (tok.empty() || r.ec != std::errc() || r.ptr != tok.data() + tok.size())
      error("a number", "'" + std::string(text_.substr(pos_, i - pos_)) + "'");
    pos_ = i;
    return json(d);
  }

  std::string key() {
    skip_ws();
    if (starts_with(kDslQuote)) return dsl_string();
    if (!at_end() && text_[pos_] == '"') return json_string();
    const std::size_t start = pos_;
    while (!at_end() && text_[pos_] != ':' && text_[pos_] != '}' && text_[pos_] != ',' &&
           text_[pos_] != '{')
      ++pos_;
    std::string k = python_strip(text_.substr(start, pos_ - start));
    if (k.empty()) {
      pos_ = start;
      error("a key", found());
    }
    return k;
  }

  json object() {
    ++pos_;  // '{'
    json out = json::object();
    for (;;) {
      skip_ws();
      if (at_end()) error("a key or '}'", "the end of the text");
      if (text_[pos_] == '}') {
        ++pos_;
        return out;
      }
      std::string k = key();
      skip_ws();
      if (at_end() || text_[pos_] != ':') error("':' after key '" + k + "'", found());
      ++pos_;
      out[k] = value();
      skip_ws();
      if (!at_end() && text_[pos_] == ',') {
        ++pos_;
      } else if (at_end() || text_[pos_] != '}') {
        error("',' or '}'", found());
      }
    }
  }

  json array() {
    ++pos_;  // '['
    json out = json::array();
    for (;;) {
      skip_ws();
      if (at_end()) error("a value or ']'", "the end of the text");
      if (text_[pos_] == ']') {
        ++pos_;
        return out;
      }
      out.push_back(value());
      skip_ws();
      if (!at_end() && text_[pos_] == ',') {
        ++pos_;
      } else if (at_end() || text_[pos_] != ']') {
        error("',' or ']'", found());
      }
    }
  }

  std::string_view text_;
  std::size_t pos_;
  int depth_ = 0;
};

}  // namespace

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));  // "-1.2345e+06"
  std::string out;
  if (sci.front() == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  const std::size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos))
    if (c != '.') digits += c;
  int exp = 0;
  std::from_chars(sci.data() + e_pos + (sci[e_pos + 1] == '+' ? 2 : 1), sci.data() + sci.size(),
                  exp);
  const int decpt = exp + 1;  // digits[0:decpt] is the integer part
  const int nd = static_cast<int>(digits.size());
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out.append("0.");
      out.append(static_cast<std::size_t>(-decpt), '0');
      out.append(digits);
    } else if (decpt >= nd) {
      out.append(digits);
      out.append(static_cast<std::size_t>(decpt - nd), '0');
      out.append(".0");
    } else {
      out.append(digits, 0, static_cast<std::size_t>(decpt));
      out.push_back('.');
      out.append(digits, static_cast<std::size_t>(decpt));
    }
    return out;
  }
  out += digits[0];
  if (nd > 1) {
    out.push_back('.');
    out.append(digits, 1);
  }
  out += exp < 0 ? "e-" : "e+";
  const int a = std::abs(exp);
  if (a < 10) out += '0';
  out += std::to_string(a);
  return out;
}

std::string python_str(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return v.get<std::string>();
    case json::value_t::boolean:
      return v.get<bool>() ? "True" : "False";
    case json::value_t::null:
      return "None";
    case json::value_t::number_integer:
      return std::to_string(v.get<std::int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(v.get<std::uint64_t>());
    case json::value_t::number_float:
      return python_float_repr(v.get<double>());
    case json::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += python_repr(v[i]);
      }
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, item] : v.items()) {
        if (!first) out += ", ";
        first = false;
        out += python_str_repr(k) + ": " + python_repr(item);
      }
      return out + "}";
    }
    default:
      return "";
  }
}

std::string ascii_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string python_strip(std::string_view text) {
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t len = 0;
    if (!python_isspace(decode_at(text, begin, len))) break;
    begin += len;
  }
  std::size_t end = begin;
  std::size_t i = begin;
  while (i < text.size()) {
    std::size_t len = 0;
    const bool space = python_isspace(decode_at(text, i, len));
    i += len;
    if (!space) end = i;
  }
  return std::string(text.substr(begin, end - begin));
}

std::vector<std::pair<std::string, const json*>> dictsort(const json& object) {
  std::vector<std::pair<std::string, const json*>> items;
  if (!object.is_object()) return items;
  for (const auto& [k, v] : object.items()) items.emplace_back(k, &v);
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return std::lexicographical_compare(a.first.begin(), a.first.end(), b.first.begin(),
                                        b.first.end(), [](char x, char y) {
                                          return static_cast<unsigned char>(ascii_lower(x)) <
                                                 static_cast<unsigned char>(ascii_lower(y));
                                        });
  });
  return items;
}

std::string json_to_gemma_dsl(const json& value, bool quote_keys) {
  std::string q(kDslQuote);
  switch (value.type()) {
    case json::value_t::string:
      return q + value.get<std::string>() + q;
    case json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : dictsort(value)) {
        if (!first) out += ',';
        first = false;
        out += quote_keys ? q + k + q : k;
        out += ':' + json_to_gemma_dsl(*v, quote_keys);
      }
      return out + "}";
    }
    case json::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i) out += ',';
        out += json_to_gemma_dsl(value[i], quote_keys);
      }
      return out + "]";
    }
    default:
      return python_str(value);
  }
}

json parse_gemma_dsl_value(std::string_view text, std::size_t& pos) {
  DslParser p(text, pos);
  json v = p.value();
  pos = p.pos();
  return v;
}

json gemma_dsl_to_json(std::string_view text) {
  DslParser p(text, 0);
  json v = p.value();
  p.skip_ws();
  if (!p.at_end()) p.error("the end of the value", "more text");
  return v;
}

}  // namespace ug
