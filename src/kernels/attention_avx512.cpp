// AVX-512 attention loops: key/value rows are converted to f32 a tile at a time (into a
// per-thread buffer that grows once), then every head of the group works from that tile.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/attention.h"

#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")

#include "kernels/avx512_util.h"

namespace ug::kern {
namespace {

// Keys per tile: a tile of f32 rows stays near 32 KB (16 rows of 512, 32 of 256).
int64_t tile_rows(int hd) { return std::max<int64_t>(4, 8192 / hd); }

float* tile_buffer(int64_t n) {
  thread_local std::vector<float> buf;
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  return buf.data();
}

// Rows [j0, j0 + m) of r as f32: either in place (f32 rows) or converted into buf [m][hd].
const float* rows_f32(const KvRows& r, int64_t j0, int64_t m, int hd, float* buf, int64_t* stride) {
  if (!r.f16) {
    *stride = r.stride;
    return static_cast<const float*>(r.base) + j0 * r.stride;
  }
  const uint16_t* src = static_cast<const uint16_t*>(r.base) + j0 * r.stride;
  for (int64_t j = 0; j < m; ++j)
    for (int e = 0; e < hd; e += 16)
      _mm512_storeu_ps(buf + j * hd + e,
                       _mm512_cvtph_ps(_mm256_loadu_si256(
                           reinterpret_cast<const __m256i*>(src + j * r.stride + e))));
  *stride = hd;
  return buf;
}

}  // namespace

void avx512_attn_scores(const float* q, int heads, int hd, const KvRows& k, int64_t n, float* s,
                        int64_t s_stride) {
  const int64_t tile = tile_rows(hd);
  float* buf = tile_buffer(tile * hd);
  for (int64_t j0 = 0; j0 < n; j0 += tile) {
    const int64_t m = std::min(tile, n - j0);
    int64_t ks;
    const float* kf = rows_f32(k, j0, m, hd, buf, &ks);
    for (int g = 0; g < heads; ++g) {
      const float* qg = q + g * hd;
      float* sg = s + g * s_stride + j0;
      int64_t j = 0;
      for (; j + 4 <= m; j += 4) {
        const float* k0 = kf + j * ks;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int e = 0; e < hd; e += 16) {
          const __m512 qv = _mm512_loadu_ps(qg + e);
          a0 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k0 + e), a0);
          a1 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k0 + ks + e), a1);
          a2 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k0 + 2 * ks + e), a2);
          a3 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k0 + 3 * ks + e), a3);
        }
        _mm_storeu_ps(sg + j, sum4(a0, a1, a2, a3));
      }
      for (; j < m; ++j) {
        __m512 a = _mm512_setzero_ps();
        for (int e = 0; e < hd; e += 16)
          a = _mm512_fmadd_ps(_mm512_loadu_ps(qg + e), _mm512_loadu_ps(kf + j * ks + e), a);
        // Reduced like the groups of four, so a score does not depend on where a run starts.
        const __m512 z = _mm512_setzero_ps();
        sg[j] = _mm_cvtss_f32(sum4(a, z, z, z));
      }
    }
  }
}

float avx512_attn_exp(float* s, int64_t n, float mx) {
  const __m512 m = _mm512_set1_ps(mx);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = n - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1);
    const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), m));
    _mm512_mask_storeu_ps(s + j, k, e);
    sum = _mm512_mask_add_ps(sum, k, sum, e);
  }
  return _mm512_reduce_add_ps(sum);
}

void avx512_attn_weighted_sum(const float* p, int64_t p_stride, int heads, int hd, const KvRows& v,
                              int64_t n, float* acc) {
  const int64_t tile = tile_rows(hd);
  float* buf = tile_buffer(tile * hd);
  for (int64_t j0 = 0; j0 < n; j0 += tile) {
    const int64_t m = std::min(tile, n - j0);
    int64_t vs;
    const float* vf = rows_f32(v, j0, m, hd, buf, &vs);
    for (int g = 0; g < heads; ++g) {
      const float* pg = p + g * p_stride + j0;
      float* ag = acc + g * hd;
      int e = 0;
      for (; e + 64 <= hd; e += 64) {
        __m512 a0 = _mm512_loadu_ps(ag + e), a1 = _mm512_loadu_ps(ag + e + 16);
        __m512 a2 = _mm512_loadu_ps(ag + e + 32), a3 = _mm512_loadu_ps(ag + e + 48);
        for (int64_t j = 0; j < m; ++j) {
          const __m512 w = _mm512_set1_ps(pg[j]);
          const float* vj = vf + j * vs + e;
          a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(vj), a0);
          a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(vj + 16), a1);
          a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(vj + 32), a2);
          a3 = _mm512_fmadd_ps(w, _mm512_loadu_ps(vj + 48), a3);
        }
        _mm512_storeu_ps(ag + e, a0);
        _mm512_storeu_ps(ag + e + 16, a1);
        _mm512_storeu_ps(ag + e + 32, a2);
        _mm512_storeu_ps(ag + e + 48, a3);
      }
      for (; e < hd; e += 16) {
        __m512 a = _mm512_loadu_ps(ag + e);
        for (int64_t j = 0; j < m; ++j)
          a = _mm512_fmadd_ps(_mm512_set1_ps(pg[j]), _mm512_loadu_ps(vf + j * vs + e), a);
        _mm512_storeu_ps(ag + e, a);
      }
    }
  }
}

void avx512_store_f16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(k, src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_mask_storeu_epi16(dst + i, k, h);
  }
}

void avx512_round_through_f16(float* x, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(k, x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm512_mask_storeu_ps(x + i, k, _mm512_cvtph_ps(h));
  }
}

}  // namespace ug::kern

#pragma GCC pop_options

#else

#include "base/error.h"

namespace ug::kern {
void avx512_attn_scores(const float*, int, int, const KvRows&, int64_t, float*, int64_t) {
  fail("AVX-512 kernels are not built");
}
float avx512_attn_exp(float*, int64_t, float) { fail("AVX-512 kernels are not built"); }
void avx512_attn_weighted_sum(const float*, int64_t, int, int, const KvRows&, int64_t, float*) {
  fail("AVX-512 kernels are not built");
}
void avx512_store_f16(const float*, uint16_t*, int64_t) { fail("AVX-512 kernels are not built"); }
void avx512_round_through_f16(float*, int64_t) { fail("AVX-512 kernels are not built"); }
}  // namespace ug::kern

#endif
