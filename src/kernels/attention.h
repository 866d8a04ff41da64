// The inner loops of attention over rows of keys and values that several query heads share (MQA /
// GQA): each key and value row is read once for the whole group of heads. Dispatched like
// matmul() on active_isa(); the scalar variant is the plain reference loop.
//
// Rows of an f16 cache may be computed in bf16 (AVX512_BF16 dot products with f32 accumulation;
// see attn_path()): the reference model runs attention in bf16 (HF BF16 inference keeps q, K, V
// and the softmax probabilities in bf16), so rounding K/V/q/p to bf16 stays within what the
// reference itself does, and doubles the dot-product rate. f32 rows (the exact f32 cache of the
// parity tests) always run in f32.
#pragma once

#include <cstdint>

namespace ug {

// n rows of K or V for one KV head: row j starts at base + j * stride elements, f16 bits
// (uint16_t) or f32. f16_values: f32 rows whose values are already f16 (this batch's rows,
// rounded like the f16 cache), computed exactly like the cache's rows so that a key scores the
// same whether it is read from the batch or from the cache.
struct KvRows {
  const void* base = nullptr;
  int64_t stride = 0;
  bool f16 = true;
  bool f16_values = false;
  // Keys the query row attends to in all (its whole range, not just this run): in Auto mode only
  // ranges of at least kAttnBf16MinKeys keys use bf16.
  int64_t span = 0;
};

// s[g * s_stride + j] = q_g · k_j for g < heads, j < n, where q_g = q + g * hd. A score does not
// depend on n or on where the run of rows starts (runs are cut at the cache ring's wrap and by
// the parallel split): every row is reduced the same way.
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

// Which loops attn_scores / attn_weighted_sum run for `heads` query heads of dim hd over rows
// like r: the plain loops (the scalar variant, or hd not a multiple of 16), the active variant's
// f32 FMA loops (AVX2, AVX-512, NEON), or AVX512_BF16 dot products (AVX-512 only: f16 rows, hd a
// multiple of 32, groups of at least kAttnBf16MinHeads heads).
enum class AttnPath { Scalar, F32, Bf16 };
AttnPath attn_path(int heads, int hd, const KvRows& r);

// Smallest group that gains from bf16 (measured on Zen 4; numbers in attention.cpp).
inline constexpr int kAttnBf16MinHeads = 2;
// Shortest key range that uses bf16 in Auto mode. Below it attention is a small part of a decode
// step (the sliding layers never reach it: their window is 1024), so it keeps f32 precision;
// above it the global layers' attention grows to dominate the step (at 32K keys, 8.6 GFLOP per
// token in f32 against ~0.1 s of weight reads) and bf16 halves it.
inline constexpr int64_t kAttnBf16MinKeys = 4096;

// When f16 rows may use bf16: Off (as on a CPU without AVX512_BF16), Auto (where the CPU has it:
// groups of ≥ kAttnBf16MinHeads heads over ≥ kAttnBf16MinKeys keys), Always (any group and
// range; benchmarks and tests). The default is Auto where
// the CPU has AVX512_BF16, unless UG_ATTN_BF16=0 (Off) is set. set_attn_bf16 is for tests and
// benchmarks; it throws ug::Error for Auto/Always when the CPU lacks AVX512_BF16.
enum class AttnBf16 { Off, Auto, Always };
void set_attn_bf16(AttnBf16 mode);
AttnBf16 attn_bf16();

namespace kern {
// The AVX-512 variants (attention_avx512.cpp); same contracts as above. The AVX2 and NEON f32
// loops are kernels/simd_float.h's (float_ops_impl.h).
void avx512_attn_scores(const float* q, int heads, int hd, const KvRows& k, int64_t n, float* s,
                        int64_t s_stride);
float avx512_attn_exp(float* s, int64_t n, float mx);
void avx512_attn_weighted_sum(const float* p, int64_t p_stride, int heads, int hd, const KvRows& v,
                              int64_t n, float* acc);
void avx512_store_f16(const float* src, uint16_t* dst, int64_t n);
void avx512_round_through_f16(float* x, int64_t n);
// AVX512_BF16 variants: q, the rows and p are rounded to bf16 (nearest even), products are
// summed in f32. hd must be a multiple of 32.
void avx512_bf16_attn_scores(const float* q, int heads, int hd, const KvRows& k, int64_t n,
                             float* s, int64_t s_stride);
void avx512_bf16_attn_weighted_sum(const float* p, int64_t p_stride, int heads, int hd,
                                   const KvRows& v, int64_t n, float* acc);
}  // namespace kern

}  // namespace ug
