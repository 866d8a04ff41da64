// Internal to src/kernels: the per-instruction-set row kernels behind matmul().
#pragma once

#include <cstdint>

#include "kernels/q8_acts.h"
#include "tensor/dtype.h"

namespace ug::kern {

struct MatmulJob {
  DType type;
  const uint8_t* w;  // row o starts at w + o * row_bytes
  uint64_t row_bytes;
  int64_t in, out, n_tokens;
  const float* x;      // [n_tokens, in]
  const Q8Acts* acts;  // quantized x when the kernel for `type` takes 8-bit activations
  float* y;            // [n_tokens, out]
};

// Whether the variant's kernel for `type` takes 8-bit activations (job.acts must then be set).
bool avx512_uses_q8(DType type);
bool avx2_uses_q8(DType type);

// y for rows [r0, r1) and every token. Types without a dedicated kernel are decoded to f32 with
// the reference dequantizer and dotted in f32.
void avx512_rows(const MatmulJob& job, int64_t r0, int64_t r1);
void avx2_rows(const MatmulJob& job, int64_t r0, int64_t r1);

// Rows decoded with the scalar reference dequantizer into a per-thread buffer that grows once.
float* row_scratch(int64_t n);

}  // namespace ug::kern
