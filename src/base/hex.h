// Hex digits, shared by the URL decoder, the CLI's escapes and the grammar parsers.
#pragma once

namespace ug {

// Value of a hex digit, -1 if c is not one.
inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace ug
