#include "kernels/attention.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string>

#include "base/error.h"
#include "kernels/float_ops_impl.h"
#include "kernels/isa.h"
#include "tensor/half.h"

namespace ug {

namespace {

inline float kv_at(const KvRows& r, int64_t j, int e) {
  return r.f16 ? f16_to_f32(static_cast<const uint16_t*>(r.base)[j * r.stride + e])
               : static_cast<const float*>(r.base)[j * r.stride + e];
}

// The active variant's loops; nullptr on the scalar variant.
const kern::FloatOps* simd() { return kern::float_ops(active_isa()); }

// -1 until first use; then an AttnBf16 value.
std::atomic<int> g_bf16{-1};

}  // namespace

// UG_ATTN_BF16=0 keeps f16 rows on the f32 loops (the precision of the f16 cache itself);
// UG_ATTN_BF16=1 asks for bf16 and fails where the CPU lacks it; unset: bf16 where it can run.
AttnBf16 attn_bf16() {
  int v = g_bf16.load(std::memory_order_relaxed);
  if (v >= 0) return static_cast<AttnBf16>(v);
  AttnBf16 mode = isa_has_avx512_bf16() ? AttnBf16::Auto : AttnBf16::Off;
  if (const char* env = std::getenv("UG_ATTN_BF16"); env != nullptr && *env != '\0') {
    const std::string want = env;
    if (want != "0" && want != "1") fail("UG_ATTN_BF16=", want, ": expected 0 or 1");
    if (want == "1" && !isa_has_avx512_bf16())
      fail("UG_ATTN_BF16=1: this CPU has no AVX512_BF16 dot products (vdpbf16ps)");
    mode = want == "1" ? AttnBf16::Auto : AttnBf16::Off;
  }
  g_bf16.store(static_cast<int>(mode), std::memory_order_relaxed);
  return mode;
}

void set_attn_bf16(AttnBf16 mode) {
  if (mode != AttnBf16::Off && !isa_has_avx512_bf16())
    fail("attention: this CPU has no AVX512_BF16 dot products (vdpbf16ps) for the bf16 path");
  g_bf16.store(static_cast<int>(mode), std::memory_order_relaxed);
}

// One decode unit, one thread, Zen 4 (bench/attention_bench.cpp, f32 loops → bf16):
//   16 heads × 512 over 32768 keys (global layer)  15.0 ms → 5.9 ms (71 → 181 GFLOP/s)
//   16 heads × 512 over 512 keys                   0.18 ms → 0.064 ms
//    4 heads × 256 over 1024 keys                  0.059 ms → 0.032 ms
//    2 heads × 256 over 1024 keys (sliding layer)  0.039 ms → 0.030 ms
//    1 head  × 256 over 1024 keys: scores 0.013 → 0.011 ms, weighted sum 0.013 → 0.015 ms
// Converting the rows costs the same whatever the group size, so the gain shrinks with fewer
// heads; two heads still win (1.3×), a lone head does not, hence kAttnBf16MinHeads = 2.
AttnPath attn_path(int heads, int hd, const KvRows& r) {
  const Isa isa = active_isa();
  if (isa == Isa::Scalar || hd % 16 != 0) return AttnPath::Scalar;
  if (isa != Isa::Avx512 || hd % 32 != 0 || !(r.f16 || r.f16_values)) return AttnPath::F32;
  const AttnBf16 mode = attn_bf16();
  if (mode == AttnBf16::Always ||
      (mode == AttnBf16::Auto && heads >= kAttnBf16MinHeads && r.span >= kAttnBf16MinKeys))
    return AttnPath::Bf16;
  return AttnPath::F32;
}

void attn_scores(const float* q, int heads, int hd, const KvRows& k, int64_t n, float* s,
                 int64_t s_stride) {
  switch (attn_path(heads, hd, k)) {
    case AttnPath::Bf16:
      return kern::avx512_bf16_attn_scores(q, heads, hd, k, n, s, s_stride);
    case AttnPath::F32:
      return simd()->attn_scores(q, heads, hd, k, n, s, s_stride);
    case AttnPath::Scalar:
      break;
  }
  for (int g = 0; g < heads; ++g)
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0;
      for (int e = 0; e < hd; ++e) acc += q[g * hd + e] * kv_at(k, j, e);
      s[g * s_stride + j] = acc;
    }
}

float attn_exp(float* s, int64_t n, float mx) {
  if (const kern::FloatOps* ops = simd()) return ops->attn_exp(s, n, mx);
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    s[j] = std::exp(s[j] - mx);
    sum += s[j];
  }
  return static_cast<float>(sum);
}

void attn_weighted_sum(const float* p, int64_t p_stride, int heads, int hd, const KvRows& v,
                       int64_t n, float* acc) {
  switch (attn_path(heads, hd, v)) {
    case AttnPath::Bf16:
      return kern::avx512_bf16_attn_weighted_sum(p, p_stride, heads, hd, v, n, acc);
    case AttnPath::F32:
      return simd()->attn_weighted_sum(p, p_stride, heads, hd, v, n, acc);
    case AttnPath::Scalar:
      break;
  }
  for (int g = 0; g < heads; ++g)
    for (int64_t j = 0; j < n; ++j) {
      const float a = p[g * p_stride + j];
      for (int e = 0; e < hd; ++e) acc[g * hd + e] += a * kv_at(v, j, e);
    }
}

void store_f16(const float* src, uint16_t* dst, int64_t n) {
  if (const kern::FloatOps* ops = simd()) return ops->store_f16(src, dst, n);
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

void round_through_f16(float* x, int64_t n) {
  if (const kern::FloatOps* ops = simd()) return ops->round_through_f16(x, n);
  for (int64_t i = 0; i < n; ++i) x[i] = f16_to_f32(f32_to_f16(x[i]));
}

}  // namespace ug
