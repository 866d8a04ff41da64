// AVX-512 attention loops. f32 variant: key/value rows are converted to f32 a tile at a time (into
// a per-thread buffer that grows once), then every head of the group works from that tile.
// bf16 variant (AVX512_BF16): below.
#include <algorithm>
#include <cstdint>
#include <cstring>
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

// ---------------------------------------------------------------------------------------------
// AVX512_BF16 (why bf16 at all: attention.h): q, K, V and p rounded to bf16 (nearest even),
// products summed in f32 by vdpbf16ps (32 products per instruction, twice the f32 FMA rate).
// Rows are converted once per call for every head of the group; the heads are register-blocked
// (4 heads × 4 rows or 4 heads × 64 values per block) so that each loaded vector feeds four dot
// products. Runs over 32K keys stream K and V from DRAM, hence the software prefetches.

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")

namespace ug::kern {
namespace {

inline __m512bh as_bh(__m512i x) { return reinterpret_cast<__m512bh>(x); }

template <typename T>
T* bf16_buffer(int slot, int64_t n) {
  thread_local std::vector<uint32_t> bufs[3];
  std::vector<uint32_t>& b = bufs[slot];
  const int64_t words = (n * static_cast<int64_t>(sizeof(T)) + 3) / 4;
  if (static_cast<int64_t>(b.size()) < words) b.resize(static_cast<size_t>(words));
  return reinterpret_cast<T*>(b.data());
}

// Elements [e, e + 16) of row j as f32.
template <bool F16>
inline __m512 load16(const KvRows& r, int64_t j, int e) {
  if constexpr (F16)
    return _mm512_cvtph_ps(_mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(r.base) + j * r.stride + e)));
  else
    return _mm512_loadu_ps(static_cast<const float*>(r.base) + j * r.stride + e);
}

// Asks for row j ahead of use: at 32K keys K and V stream from DRAM, and the hardware prefetcher
// alone leaves the dot products waiting.
template <bool F16, _mm_hint kHint = _MM_HINT_T0>
inline void prefetch_row(const KvRows& r, int64_t j, int hd) {
  const char* p = static_cast<const char*>(r.base) + j * r.stride * (F16 ? 2 : 4);
  for (int b = 0; b < hd * (F16 ? 2 : 4); b += 64) _mm_prefetch(p + b, kHint);
}

// Rows ahead of the one being converted that are prefetched.
constexpr int64_t kPrefetchRows = 8;

// Rows [j0, j0 + m) as bf16 into dst [4][hd]; rows m..3 are zero. Rows up to n are prefetched.
template <bool F16>
void rows_to_bf16(const KvRows& r, int64_t j0, int64_t m, int64_t n, int hd, uint16_t* dst) {
  for (int64_t j = 0; j < 4; ++j) {
    if (j0 + j + kPrefetchRows < n) prefetch_row<F16>(r, j0 + j + kPrefetchRows, hd);
    for (int e = 0; e < hd; e += 32) {
      __m512i b = _mm512_setzero_si512();
      if (j < m)
        b = reinterpret_cast<__m512i>(
            _mm512_cvtne2ps_pbh(load16<F16>(r, j0 + j, e + 16), load16<F16>(r, j0 + j, e)));
      _mm512_storeu_si512(dst + j * hd + e, b);
    }
  }
}

// Scores of heads [0, G) (q rows of qb, stride hd) against the four bf16 rows of kb; rows ≥ m are
// not stored. Every (head, row) has its own accumulator over e and the same sum4 tree.
template <int G>
void scores_block(const uint16_t* qb, const uint16_t* kb, int hd, int64_t m, float* s,
                  int64_t s_stride) {
  __m512 a[G][4];
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g)
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) a[g][r] = _mm512_setzero_ps();
  for (int e = 0; e < hd; e += 32) {
    __m512i kv[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) kv[r] = _mm512_loadu_si512(kb + r * hd + e);
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
      const __m512bh qv = as_bh(_mm512_loadu_si512(qb + g * hd + e));
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) a[g][r] = _mm512_dpbf16_ps(a[g][r], qv, as_bh(kv[r]));
    }
  }
  const __mmask8 keep = static_cast<__mmask8>((1u << m) - 1);
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g)
    _mm_mask_storeu_ps(s + g * s_stride, keep, sum4(a[g][0], a[g][1], a[g][2], a[g][3]));
}

template <bool F16>
void bf16_scores(const float* q, int heads, int hd, const KvRows& k, int64_t n, float* s,
                 int64_t s_stride) {
  uint16_t* qb = bf16_buffer<uint16_t>(0, static_cast<int64_t>(heads) * hd);
  for (int64_t i = 0; i < static_cast<int64_t>(heads) * hd; i += 32)
    _mm512_storeu_si512(qb + i, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(
                                    _mm512_loadu_ps(q + i + 16), _mm512_loadu_ps(q + i))));
  uint16_t* kb = bf16_buffer<uint16_t>(1, 4 * static_cast<int64_t>(hd));
  for (int64_t j0 = 0; j0 < n; j0 += 4) {
    const int64_t m = std::min<int64_t>(4, n - j0);
    rows_to_bf16<F16>(k, j0, m, n, hd, kb);
    int g = 0;
    for (; g + 4 <= heads; g += 4)
      scores_block<4>(qb + g * hd, kb, hd, m, s + g * s_stride + j0, s_stride);
    const int left = heads - g;
    const uint16_t* qg = qb + g * hd;
    float* sg = s + g * s_stride + j0;
    if (left == 3) scores_block<3>(qg, kb, hd, m, sg, s_stride);
    if (left == 2) scores_block<2>(qg, kb, hd, m, sg, s_stride);
    if (left == 1) scores_block<1>(qg, kb, hd, m, sg, s_stride);
  }
}

// Keys per weighted-sum tile (a multiple of 16, for whole vectors of p): 32 KB of interleaved
// bf16 rows.
int64_t pair_tile_rows(int hd) { return std::max<int64_t>(16, 16384 / hd) & ~int64_t{15}; }

// Rows [j0, j0 + m) as pairs: dst[t * hd + e] (32 bits) = bf16 v_{j0+2t}[e] in the high half,
// bf16 v_{j0+2t+1}[e] (or 0 past m) in the low half, so that vdpbf16ps sums over positions.
// The earlier row goes high because vdpbf16ps adds the high product first, then the low one, each
// rounded like an FMA (Intel SDM; exact bf16 products): the pairs then give exactly the f32
// sequence acc += p_j·v_j in position order, so the sum does not depend on where runs are cut
// (a cut pair's missing half is 0·0, which adds nothing).
template <bool F16>
void rows_to_pairs(const KvRows& r, int64_t j0, int64_t m, int64_t n, int hd, uint32_t* dst) {
  // Words 0..15 hold row 2t+1, 16..31 row 2t; interleave them.
  alignas(64) static constexpr uint16_t kIdx[32] = {0,  16, 1,  17, 2,  18, 3,  19, 4,  20, 5,
                                                    21, 6,  22, 7,  23, 8,  24, 9,  25, 10, 26,
                                                    11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i idx = _mm512_load_si512(kIdx);
  for (int64_t t = 0; 2 * t < m; ++t) {
    const int64_t j = j0 + 2 * t;
    for (int64_t a = j + kPrefetchRows; a < std::min(j + kPrefetchRows + 2, n); ++a)
      prefetch_row<F16>(r, a, hd);
    const bool second = 2 * t + 1 < m;
    for (int e = 0; e < hd; e += 16) {
      const __m512 hi = load16<F16>(r, j, e);
      const __m512 lo = second ? load16<F16>(r, j + 1, e) : _mm512_setzero_ps();
      const __m512i b = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
      _mm512_storeu_si512(dst + t * hd + e, _mm512_permutexvar_epi16(idx, b));
    }
  }
}

// acc[g][e0 + 16c + i] += Σ_t pair p_g(t) · pair v_t[e0 + 16c + i] for g < G, c < C.
template <int G, int C>
void sum_block(const uint16_t* pb, int64_t pb_stride, const uint32_t* vt, int hd, int64_t pairs,
               float* acc) {
  __m512 a[G][C];
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) a[g][c] = _mm512_loadu_ps(acc + g * hd + 16 * c);
  for (int64_t t = 0; t < pairs; ++t) {
    __m512i vv[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) vv[c] = _mm512_loadu_si512(vt + t * hd + 16 * c);
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
      uint32_t w;
      std::memcpy(&w, pb + g * pb_stride + 2 * t, sizeof w);
      const __m512bh pp = as_bh(_mm512_set1_epi32(static_cast<int>(w)));
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) a[g][c] = _mm512_dpbf16_ps(a[g][c], pp, as_bh(vv[c]));
    }
  }
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) _mm512_storeu_ps(acc + g * hd + 16 * c, a[g][c]);
}

template <int C>
void sum_heads(const uint16_t* pb, int64_t pb_stride, int heads, const uint32_t* vt, int hd,
               int64_t pairs, float* acc) {
  int g = 0;
  for (; g + 4 <= heads; g += 4)
    sum_block<4, C>(pb + g * pb_stride, pb_stride, vt, hd, pairs, acc + g * hd);
  const uint16_t* pg = pb + g * pb_stride;
  float* ag = acc + g * hd;
  switch (heads - g) {
    case 3:
      return sum_block<3, C>(pg, pb_stride, vt, hd, pairs, ag);
    case 2:
      return sum_block<2, C>(pg, pb_stride, vt, hd, pairs, ag);
    case 1:
      return sum_block<1, C>(pg, pb_stride, vt, hd, pairs, ag);
  }
}

template <bool F16>
void bf16_weighted_sum(const float* p, int64_t p_stride, int heads, int hd, const KvRows& v,
                       int64_t n, float* acc) {
  const int64_t tile = pair_tile_rows(hd);
  uint32_t* vt = bf16_buffer<uint32_t>(1, tile / 2 * hd);
  uint16_t* pb = bf16_buffer<uint16_t>(2, heads * tile);
  for (int64_t j0 = 0; j0 < n; j0 += tile) {
    const int64_t m = std::min(tile, n - j0), pairs = (m + 1) / 2;
    rows_to_pairs<F16>(v, j0, m, n, hd, vt);
    // p_g as bf16 pairs [heads][tile / 2] (32 bits: p_j high, p_{j+1} low, like the rows), zero
    // past m so an odd last row pairs with 0 · 0.
    for (int g = 0; g < heads; ++g) {
      // The next tile's p_g: heads × a few lines at stride p_stride, too scattered for the
      // hardware prefetcher.
      for (int64_t j = j0 + tile; j < std::min(j0 + 2 * tile, n); j += 16)
        _mm_prefetch(reinterpret_cast<const char*>(p + g * p_stride + j), _MM_HINT_T0);
      for (int64_t j = 0; j < 2 * pairs; j += 16) {
        const int64_t left = m - j;
        const __mmask16 k =
            left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << std::max<int64_t>(left, 0)) - 1);
        const __m512 x = _mm512_maskz_loadu_ps(k, p + g * p_stride + j0 + j);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pb + g * tile + j),
                            _mm256_rol_epi32(reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(x)), 16));
      }
    }
    // The next tile's rows go to L2 a slice per block of values, spread over the dot products
    // (in one burst most of them would be dropped).
    const int64_t slice = (tile + hd / 64 - 1) / std::max(1, hd / 64);
    int64_t ahead = j0 + tile;
    int e = 0;
    for (; e + 64 <= hd; e += 64) {
      for (const int64_t end = std::min(ahead + slice, n); ahead < end; ++ahead)
        prefetch_row<F16, _MM_HINT_T1>(v, ahead, hd);
      sum_heads<4>(pb, tile, heads, vt + e, hd, pairs, acc + e);
    }
    if (hd - e == 32) sum_heads<2>(pb, tile, heads, vt + e, hd, pairs, acc + e);
  }
}

}  // namespace

void avx512_bf16_attn_scores(const float* q, int heads, int hd, const KvRows& k, int64_t n,
                             float* s, int64_t s_stride) {
  if (k.f16)
    bf16_scores<true>(q, heads, hd, k, n, s, s_stride);
  else
    bf16_scores<false>(q, heads, hd, k, n, s, s_stride);
}

void avx512_bf16_attn_weighted_sum(const float* p, int64_t p_stride, int heads, int hd,
                                   const KvRows& v, int64_t n, float* acc) {
  if (v.f16)
    bf16_weighted_sum<true>(p, p_stride, heads, hd, v, n, acc);
  else
    bf16_weighted_sum<false>(p, p_stride, heads, hd, v, n, acc);
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
void avx512_bf16_attn_scores(const float*, int, int, const KvRows&, int64_t, float*, int64_t) {
  fail("AVX-512 kernels are not built");
}
void avx512_bf16_attn_weighted_sum(const float*, int64_t, int, int, const KvRows&, int64_t,
                                   float*) {
  fail("AVX-512 kernels are not built");
}
}  // namespace ug::kern

#endif
