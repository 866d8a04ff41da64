#include "grammar/gbnf_text.h"

#include <cstdio>

#include "text/utf8.h"

namespace ug {

void gbnf_append_char(std::string& out, char32_t c, bool in_class) {
  switch (c) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '"':
      out += "\\\"";
      return;
    default:
      break;
  }
  if (in_class && (c == ']' || c == '-' || c == '[' || c == '^')) {
    out += '\\';
    out += static_cast<char>(c);
    return;
  }
  char buf[16];
  if (c < 0x20 || c == 0x7F) {
    std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned>(c));
    out += buf;
  } else if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c <= 0xFFFF) {
    std::snprintf(buf, sizeof(buf), "\\u%04X", static_cast<unsigned>(c));
    out += buf;
  } else {
    std::snprintf(buf, sizeof(buf), "\\U%08X", static_cast<unsigned>(c));
    out += buf;
  }
}

std::string gbnf_quote(std::string_view utf8) {
  std::string out = "\"";
  for (size_t i = 0; i < utf8.size();) {
    const Utf8Char u = utf8_next(utf8, i);
    if (!u.valid) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned char>(utf8[i]));
      out += buf;
      ++i;
      continue;
    }
    gbnf_append_char(out, u.cp, false);
    i += u.len;
  }
  return out + "\"";
}

std::string gbnf_class(const std::vector<CodeRange>& ranges) {
  if (ranges.size() == 1 && ranges[0].lo == ranges[0].hi) {
    std::string out = "\"";
    gbnf_append_char(out, ranges[0].lo, false);
    return out + "\"";
  }
  std::string out = "[";
  for (const CodeRange& r : ranges) {
    gbnf_append_char(out, r.lo, true);
    if (r.hi != r.lo) {
      out += "-";
      gbnf_append_char(out, r.hi, true);
    }
  }
  return out + "]";
}

}  // namespace ug
