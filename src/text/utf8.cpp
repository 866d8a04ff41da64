#include "text/utf8.h"

namespace ug {

Utf8Char utf8_next(std::string_view s, size_t pos) {
  Utf8Char r;
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return {b0, 1, true, false};
  uint32_t need = 0;
  char32_t cp = 0;
  // The allowed range of the second byte narrows for E0/ED/F0/F4 (no overlongs, no surrogates,
  // nothing above U+10FFFF).
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2, cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3, cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    r.len = 1;
    return r;
  }
  uint32_t i = 1;
  for (; i <= need; ++i) {
    if (pos + i >= s.size()) {
      r.len = i;
      r.incomplete = true;
      return r;
    }
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if (b < lo || b > hi) {
      r.len = i;
      return r;
    }
    lo = 0x80, hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, need + 1, true, false};
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool utf8_is_valid(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    const Utf8Char c = utf8_next(s, pos);
    if (!c.valid) return false;
    pos += c.len;
  }
  return true;
}

size_t utf8_append_sanitized(std::string& out, std::string_view in, bool final) {
  size_t pos = 0;
  while (pos < in.size()) {
    const Utf8Char c = utf8_next(in, pos);
    if (c.valid) {
      out.append(in.substr(pos, c.len));
    } else if (c.incomplete && !final) {
      return pos;
    } else {
      out += "\xEF\xBF\xBD";
    }
    pos += c.len;
  }
  return pos;
}

}  // namespace ug
