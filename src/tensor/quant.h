// Scalar (reference) conversion between f32 and every stored type. Bit layouts exactly as
// llama.cpp's ggml-common.h / ggml-quants.c define them.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace ug {

// n must be a multiple of the type's block size. Supported: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1
// Q4_K Q5_K Q6_K (Q2_K Q3_K optional). Throws ug::Error for a type it cannot decode.
void dequantize_row(DType type, const void* src, float* dst, int64_t n);

bool can_quantize(DType type);
// Round-to-nearest quantizers matching llama.cpp's reference quantize_row_*_ref.
// Supported: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K (at least Q8_0 Q4_0 Q4_K Q6_K).
void quantize_row(DType type, const float* src, void* dst, int64_t n);

// llama-quantize's fallback when a row of ne0 values does not split into the type's blocks:
// Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, then F16 when even that does not fit (the mmproj's
// audio projection has rows of 640 values: 640 = 2.5 × 256).
DType fit_row_length(DType want, int64_t ne0);

}  // namespace ug
