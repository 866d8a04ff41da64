// Internal to src/tensor: per-family (de)quantizers behind quant.h's dispatch, and the small
// byte helpers they share. Block layouts follow ggml-common.h; fields are read through byte
// offsets (not struct casts) so unaligned or aliased buffers are fine.
#pragma once

#include <cstdint>
#include <cstring>

#include "tensor/half.h"

namespace ug::quant {

// Same result as f16_to_f32 (half.h) for every non-NaN input, but in integer arithmetic: without
// F16C, GCC lowers the _Float16 conversion to a library call per element, ~40x slower, and this
// form vectorizes in loops.
inline float f16_bits_to_f32(uint16_t h) {
  const uint32_t em = h & 0x7fffu;
  uint32_t bits = (em << 13) + 0x38000000u;             // rebias the exponent: 15 -> 127
  if (em >= 0x7c00u) bits += 0x38000000u;               // Inf/NaN keep an all-ones exponent
  const float sub = static_cast<float>(em) * 0x1p-24f;  // zero and subnormals, exact
  uint32_t sub_bits;
  std::memcpy(&sub_bits, &sub, 4);
  bits = em < 0x400u ? sub_bits : bits;
  bits |= static_cast<uint32_t>(h & 0x8000u) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_bits_to_f32(h);
}
inline void store_f16(uint8_t* p, float f) {
  uint16_t h = f32_to_f16(f);
  std::memcpy(p, &h, 2);
}

// Round to nearest, ties to even, as llama.cpp's nearest_int: adding 1.5·2^23 leaves the rounded
// integer in the low mantissa bits. Valid for |v| < 2^22, which every caller guarantees.
inline int nearest_int(float v) {
  float t = v + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &t, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

// Blocks of 32: Q4_0 Q4_1 Q5_0 Q5_1 Q8_0. nb = number of blocks.
void dequant_q4_0(const uint8_t* src, float* dst, int64_t nb);
void dequant_q4_1(const uint8_t* src, float* dst, int64_t nb);
void dequant_q5_0(const uint8_t* src, float* dst, int64_t nb);
void dequant_q5_1(const uint8_t* src, float* dst, int64_t nb);
void dequant_q8_0(const uint8_t* src, float* dst, int64_t nb);
void quant_q4_0(const float* src, uint8_t* dst, int64_t nb);
void quant_q4_1(const float* src, uint8_t* dst, int64_t nb);
void quant_q5_0(const float* src, uint8_t* dst, int64_t nb);
void quant_q5_1(const float* src, uint8_t* dst, int64_t nb);
void quant_q8_0(const float* src, uint8_t* dst, int64_t nb);

// Super-blocks of 256.
void dequant_q2_k(const uint8_t* src, float* dst, int64_t nb);
void dequant_q3_k(const uint8_t* src, float* dst, int64_t nb);
void dequant_q4_k(const uint8_t* src, float* dst, int64_t nb);
void dequant_q5_k(const uint8_t* src, float* dst, int64_t nb);
void dequant_q6_k(const uint8_t* src, float* dst, int64_t nb);
void quant_q4_k(const float* src, uint8_t* dst, int64_t nb);
void quant_q5_k(const float* src, uint8_t* dst, int64_t nb);
void quant_q6_k(const float* src, uint8_t* dst, int64_t nb);

}  // namespace ug::quant
