#include "kernels/attention.h"

#include <cmath>

#include "kernels/isa.h"
#include "tensor/half.h"

namespace ug {

namespace {

inline float kv_at(const KvRows& r, int64_t j, int e) {
  return r.f16 ? f16_to_f32(static_cast<const uint16_t*>(r.base)[j * r.stride + e])
               : static_cast<const float*>(r.base)[j * r.stride + e];
}

bool use_avx512() { return active_isa() == Isa::Avx512; }

}  // namespace

void attn_scores(const float* q, int heads, int hd, const KvRows& k, int64_t n, float* s,
                 int64_t s_stride) {
  if (use_avx512() && hd % 16 == 0)
    return kern::avx512_attn_scores(q, heads, hd, k, n, s, s_stride);
  for (int g = 0; g < heads; ++g)
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0;
      for (int e = 0; e < hd; ++e) acc += q[g * hd + e] * kv_at(k, j, e);
      s[g * s_stride + j] = acc;
    }
}

float attn_exp(float* s, int64_t n, float mx) {
  if (use_avx512()) return kern::avx512_attn_exp(s, n, mx);
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    s[j] = std::exp(s[j] - mx);
    sum += s[j];
  }
  return static_cast<float>(sum);
}

void attn_weighted_sum(const float* p, int64_t p_stride, int heads, int hd, const KvRows& v,
                       int64_t n, float* acc) {
  if (use_avx512() && hd % 16 == 0)
    return kern::avx512_attn_weighted_sum(p, p_stride, heads, hd, v, n, acc);
  for (int g = 0; g < heads; ++g)
    for (int64_t j = 0; j < n; ++j) {
      const float a = p[g * p_stride + j];
      for (int e = 0; e < hd; ++e) acc[g * hd + e] += a * kv_at(v, j, e);
    }
}

void store_f16(const float* src, uint16_t* dst, int64_t n) {
  if (use_avx512()) return kern::avx512_store_f16(src, dst, n);
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

void round_through_f16(float* x, int64_t n) {
  if (use_avx512()) return kern::avx512_round_through_f16(x, n);
  for (int64_t i = 0; i < n; ++i) x[i] = f16_to_f32(f32_to_f16(x[i]));
}

}  // namespace ug
