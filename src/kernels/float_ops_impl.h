// Internal to src/kernels: each instruction-set variant's f32 row operations and attention loops,
// as the dispatchers (float_ops.cpp, attention.cpp) call them. Contracts: kernels/row_ops.h,
// kernels/activation.h, kernels/attention.h.
#pragma once

#include <cstdint>

#include "kernels/attention.h"
#include "kernels/isa.h"

namespace ug::kern {

struct FloatOps {
  void (*rms_norm)(const float* x, const float* w, int64_t n, float eps, float* y);
  void (*add)(float* x, const float* y, int64_t n);
  void (*add_scaled)(float* x, const float* y, float s, int64_t n);
  void (*rope_neox)(float* x, int heads, int64_t hd, int64_t n_rot, const float* cos,
                    const float* sin);
  void (*softcap)(float* z, int64_t n, float cap);
  void (*geglu_tanh)(float* g, const float* u, int64_t n);
  // The f32 attention loops (hd a multiple of 16).
  void (*attn_scores)(const float* q, int heads, int hd, const KvRows& k, int64_t n, float* s,
                      int64_t s_stride);
  float (*attn_exp)(float* s, int64_t n, float mx);
  void (*attn_weighted_sum)(const float* p, int64_t p_stride, int heads, int hd, const KvRows& v,
                            int64_t n, float* acc);
  void (*store_f16)(const float* src, uint16_t* dst, int64_t n);
  void (*round_through_f16)(float* x, int64_t n);
};

// Each throws ug::Error where the variant is not built (another architecture).
const FloatOps& avx2_float_ops();
const FloatOps& avx512_float_ops();
const FloatOps& neon_float_ops();

// The variant's table; nullptr for Isa::Scalar (the callers' own reference loops).
const FloatOps* float_ops(Isa isa);

}  // namespace ug::kern
