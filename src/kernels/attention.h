// The inner loops of attention over rows of keys and values that several query heads share (MQA /
// GQA): each key and value row is read once for the whole group of heads. Dispatched like
// matmul() on active_isa(); the scalar variant is the plain reference loop.
#pragma once

#include <cstdint>

namespace ug {

// n rows of K or V for one KV head: row j starts at base + j * stride elements, f16 bits
// (uint16_t) or f32.
struct KvRows {
  const void* base = nullptr;
  int64_t stride = 0;
  bool f16 = true;
};

// s[g * s_stride + j] = q_g · k_j for g < heads, j < n, where q_g = q + g * hd.
void attn_scores(const float* q, int heads, int hd, const KvRows& k, int64_t n, float* s,
                 int64_t s_stride);

// In place s[j] = exp(s[j] − mx) for j < n; returns Σ s[j].
float attn_exp(float* s, int64_t n, float mx);

// acc[g * hd + e] += Σ_j p[g * p_stride + j] · v_j[e] for g < heads, e < hd.
void attn_weighted_sum(const float* p, int64_t p_stride, int heads, int hd, const KvRows& v,
                       int64_t n, float* acc);

// f32 → f16 bits (round to nearest even), n values.
void store_f16(const float* src, uint16_t* dst, int64_t n);

// x[i] = f32(f16(x[i])): the values as an f16 cache will hold them.
void round_through_f16(float* x, int64_t n);

namespace kern {
// The AVX-512 variants (attention_avx512.cpp); same contracts as above.
void avx512_attn_scores(const float* q, int heads, int hd, const KvRows& k, int64_t n, float* s,
                        int64_t s_stride);
float avx512_attn_exp(float* s, int64_t n, float mx);
void avx512_attn_weighted_sum(const float* p, int64_t p_stride, int heads, int hd, const KvRows& v,
                              int64_t n, float* acc);
void avx512_store_f16(const float* src, uint16_t* dst, int64_t n);
void avx512_round_through_f16(float* x, int64_t n);
}  // namespace kern

}  // namespace ug
