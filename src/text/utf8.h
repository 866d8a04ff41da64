// UTF-8 helpers shared by the tokenizer's encoder (splitting text into code points) and its
// decoders (which must never emit half a character or invalid bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ug {

// Result of reading one character at `pos`: `len` bytes consumed. `valid` is false when the bytes
// are not well-formed UTF-8; then `len` is the length of the maximal ill-formed subpart (Unicode
// §3.9, what WHATWG decoders replace with one U+FFFD). `incomplete` is true when the bytes are a
// valid prefix of a character cut off by the end of the input.
struct Utf8Char {
  char32_t cp = 0;
  uint32_t len = 0;
  bool valid = false;
  bool incomplete = false;
};
Utf8Char utf8_next(std::string_view s, size_t pos);

void utf8_append(std::string& out, char32_t cp);
bool utf8_is_valid(std::string_view s);

// Appends `in` to `out` with every ill-formed subpart replaced by U+FFFD. When `final` is false a
// trailing incomplete character is left unconsumed; returns the number of bytes consumed, so a
// streaming caller keeps in[consumed..] for the next call. Splitting the input anywhere and
// feeding the parts in order (final only on the last) gives the same output as one call.
size_t utf8_append_sanitized(std::string& out, std::string_view in, bool final);

}  // namespace ug
