// Strict base64 (RFC 4648, standard alphabet): data that a client sends must decode exactly or be
// refused, so a broken upload is reported instead of decoded into garbage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ug::server {

// nullopt on any character outside the alphabet, misplaced '=' or a length that cannot be
// base64. Padding may be omitted; ASCII whitespace (line breaks of MIME encoders) is skipped.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);
std::string base64_encode(const uint8_t* data, size_t n);

}  // namespace ug::server
