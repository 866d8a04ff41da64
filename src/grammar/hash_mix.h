// A 64-bit mixer (splitmix64's finalizer) for the grammar's hash tables and structural hashes.
#pragma once

#include <cstdint>

namespace ug {

inline uint64_t hash_mix(uint64_t x) {
  x ^= x >> 31;
  x *= 0x7fb5d329728ea185ull;
  x ^= x >> 27;
  x *= 0x81dadef4bc2dd44dull;
  return x ^ (x >> 33);
}

}  // namespace ug
