// IEEE half and bfloat16 conversions (round to nearest even), scalar.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ug {

// GCC 12 has no _Float16 in C++ on aarch64; __fp16 there is the same IEEE half. Clang before
// 15 has no _Float16 on x86 without AVX512-FP16 (the fuzzers build with clang 14): the
// conversions are done on the bits there.
#if defined(__aarch64__)
using Half = __fp16;
#define UG_HAVE_HALF 1
#elif !defined(__clang__) || __clang_major__ >= 15
using Half = _Float16;
#define UG_HAVE_HALF 1
#endif

inline float bf16_to_f32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

#if defined(UG_HAVE_HALF)
inline float f16_to_f32(uint16_t h) {
  Half v;
  std::memcpy(&v, &h, 2);
  return static_cast<float>(v);
}

inline uint16_t f32_to_f16(float f) {
  Half v = static_cast<Half>(f);
  uint16_t h;
  std::memcpy(&h, &v, 2);
  return h;
}
#else
inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu, u;
  if (exp == 31) {
    u = sign | 0x7f800000u | (mant << 13) | (mant ? 0x400000u : 0);  // inf; NaN made quiet
  } else if (exp != 0) {
    u = sign | ((exp + 112) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    u = sign;
  } else {  // subnormal: mant * 2^-24, normalised
    uint32_t shifts = 0;
    while (!(mant & 0x400u)) mant <<= 1, ++shifts;
    u = sign | ((113 - shifts) << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520: inf
  if (a >= 0x38800000u) {  // normal half: round to nearest even at bit 13, rebias 127 -> 15
    const uint32_t r = a + 0xfffu + ((a >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((r - 0x38000000u) >> 13));
  }
  // Subnormal half: |f| * 2^24 rounded to an integer, ties to even (exact in float).
  float m;
  std::memcpy(&m, &a, 4);
  return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(m * 16777216.0f)));
}
#endif

}  // namespace ug
