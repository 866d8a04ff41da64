// AVX-512 VNNI kernels for the K-quant super-block types Q4_K and Q6_K (8-bit activations).
// Compiled for AVX-512 (avx512_target_begin.h).
//
// Few tokens (decode): each row is streamed once, two super-blocks (16 blocks of 32) at a time;
// the 16 block dot products land in the 16 lanes of one vector, which carries the 16 slot
// accumulators of the arithmetic shared with the packed kernel (matmul_avx512_kquant_common.h).
// Many tokens (prefill): the packed kernel (matmul_avx512_kquant_packed.cpp).
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "kernels/matmul_impl.h"
#include "tensor/quant.h"

// Everything above is compiled for the generic target; from here on, for AVX-512.
#include "kernels/avx512_target_begin.h"
#if defined(UG_AVX512_REGION)

#include "kernels/avx512_matmul_common.h"
#include "kernels/matmul_avx512_kquant_common.h"

namespace ug::kern {
namespace {

using namespace avx512;
using kq::lane_sums_i14;
using kq::lane_sums_i15;

// From this many tokens on, the packed kernel is as fast or faster (single thread; at 3840 → 256
// in L2, µs: Q4_K row kernel 5 tokens 37, packed 6 tokens 35; Q6_K 42 / 45; at 3840 → 15360, ms:
// Q4_K row 6 tokens 3.8, packed 3.9). Row kernels for 6 or more tokens run out of registers.
constexpr int64_t kPackMinTokens = 6;

constexpr int kRowTile = 5;  // tokens per pass of the row kernels

// Dword j of 128-bit lane L of the result: the sum of dwords j of 128-bit lanes 2L' and 2L' + 1
// (L' = L % 2) of a (L < 2) or b (L ≥ 2).
inline __m512i pair_sums(__m512i a, __m512i b) {
  return _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}

// After lane_sums of vectors 0-3 (a) and 4-7 (b), where vector j's 128-bit lanes 0-1 belong to
// block 2j and lanes 2-3 to block 2j + 1: the 16 block sums, lane = block.
inline __m512i pair_blocks(__m512i a, __m512i b) {
  // s: 128-bit lane 0 blocks 0,2,4,6; lane 1 blocks 1,3,5,7; lanes 2-3 the same for 8-15.
  const __m512i s = pair_sums(a, b);
  const __m512i idx = _mm512_set_epi32(15, 11, 14, 10, 13, 9, 12, 8, 7, 3, 6, 2, 5, 1, 4, 0);
  return _mm512_permutexvar_epi32(idx, s);
}

inline void prefetch_ahead(const uint8_t* p, int bytes) {
  for (int l = 0; l < bytes; l += 64)
    _mm_prefetch(reinterpret_cast<const char*>(p + l) + kPrefetch, _MM_HINT_T0);
}

// ---- Q4_K -------------------------------------------------------------------------------------
// 144-byte super-blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins for 8 blocks
// of 32, 128 bytes of nibbles (bytes 32c..32c+31: block 2c in the low nibbles, 2c + 1 high).

// Activations of the Q4_K row kernel: per super-block, blocks in the order 0 2 1 3 4 6 5 7, so
// that the low (high) nibbles of 64 contiguous code bytes (two 32-byte chunks: blocks 2c, 2c + 2
// (2c + 1, 2c + 3)) meet 64 contiguous activation bytes. Per call, per thread; the copy costs
// about one row's worth of work.
const int8_t* q4_k_acts(const Q8Acts& a) {
  thread_local std::vector<int8_t> buf;
  const auto n = static_cast<size_t>(a.n_tokens * a.in);
  if (buf.size() < n) buf.resize(n);
  constexpr int kOrder[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int64_t t = 0; t < a.n_tokens; ++t)
    for (int64_t sb = 0; sb < a.in / 256; ++sb) {
      const int8_t* src = a.qs_of(t) + 256 * sb;
      int8_t* dst = buf.data() + t * a.in + 256 * sb;
      for (int i = 0; i < 8; ++i)
        _mm256_storeu_si256(
            reinterpret_cast<__m256i*>(dst + 32 * i),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 32 * kOrder[i])));
    }
  return buf.data();
}

// Lane k: block k's d·sc and dmin·m, for the two super-blocks at b (the second only if kTwo).
template <bool kTwo>
inline void q4_k_scales(const uint8_t* b, __m512& dsc, __m512& dm) {
  const __m128i h0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
  const __m128i h1 =
      kTwo ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 144)) : _mm_setzero_si128();
  // Dwords: d | dmin << 16, then u0 u1 u2 (the 12 bytes of scales and mins), for each.
  const __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(h0), h1, 1);
  // Scales and mins 0-3 are the low 6 bits of u0 and u1; 4-7 take their low 4 bits from u2 (low
  // and high nibbles) and their top 2 bits from the top of u0 / u1.
  const __m256i x = _mm256_permutevar8x32_epi32(h, _mm256_setr_epi32(1, 1, 5, 5, 2, 2, 6, 6));
  const __m256i y =
      _mm256_srlv_epi32(_mm256_permutevar8x32_epi32(h, _mm256_setr_epi32(3, 3, 7, 7, 3, 3, 7, 7)),
                        _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
  const __m256i lo = _mm256_and_si256(x, _mm256_set1_epi32(0x3f3f3f3f));
  const __m256i hi =
      _mm256_or_si256(_mm256_and_si256(y, _mm256_set1_epi32(0x0f0f0f0f)),
                      _mm256_and_si256(_mm256_srli_epi32(x, 2), _mm256_set1_epi32(0x30303030)));
  // Bytes 0-15: the 16 scales (lane = block); 16-31: the 16 mins.
  const __m256i sm = _mm256_blend_epi32(lo, hi, 0xAA);
  // Words 0 and 8 of h are the two d, 1 and 9 the two dmin.
  alignas(64) static constexpr int16_t kD[32] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8,
                                                 1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 9, 9, 9, 9, 9, 9};
  const __m512i dd = _mm512_permutexvar_epi16(_mm512_load_si512(kD), _mm512_castsi256_si512(h));
  dsc = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(sm))),
                      _mm512_cvtph_ps(_mm512_castsi512_si256(dd)));
  dm = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(sm, 1))),
                     _mm512_cvtph_ps(_mm512_extracti64x4_epi64(dd, 1)));
}

// One group of 16 blocks (two super-blocks, or one when !kTwo) of one row for NT tokens.
template <int NT, bool kTwo>
inline void q4_k_group(const uint8_t* gw, const int8_t* const* xr, const float* const* xd,
                       const float* const* xs, __m512* acc) {
  constexpr int kVecs = kTwo ? 8 : 4;
  constexpr __mmask16 m = kTwo ? 0xFFFF : 0x00FF;
  __m512 dsc, dm;
  q4_k_scales<kTwo>(gw, dsc, dm);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  // Vector 2j: low nibbles of chunks 2j, 2j + 1 (of super-block j / 2); 2j + 1: high nibbles.
  __m512i q[8];
  for (int j = 0; j < kVecs / 2; ++j) {
    const __m512i raw = _mm512_loadu_si512(gw + 144 * (j / 2) + 16 + 64 * (j % 2));
    q[2 * j] = _mm512_and_si512(raw, low4);
    q[2 * j + 1] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
  }
  // After pair_sums: 128-bit lane 0 holds blocks 0 1 4 5, lane 1 2 3 6 7, lanes 2-3 the same + 8.
  const __m512i idx = _mm512_set_epi32(15, 14, 11, 10, 13, 12, 9, 8, 7, 6, 3, 2, 5, 4, 1, 0);
  for (int t = 0; t < NT; ++t) {
    __m512i p[8];
    for (int j = 0; j < 8; ++j)
      p[j] = j < kVecs ? _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[j],
                                             _mm512_loadu_si512(xr[t] + 64 * j))
                       : _mm512_setzero_si512();
    // |dword| ≤ 4·15·127 = 7620.
    const __m512i dots =
        _mm512_permutexvar_epi32(idx, pair_sums(lane_sums_i14(p), lane_sums_i14(p + 4)));
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(dots), _mm512_maskz_loadu_ps(m, xd[t]));
    acc[t] = _mm512_mask3_fmadd_ps(dsc, v, acc[t], m);
    acc[t] = _mm512_mask3_fnmadd_ps(dm, _mm512_maskz_loadu_ps(m, xs[t]), acc[t], m);
  }
}

template <int NT>
void q4_k_rows(const MatmulJob& job, int64_t r0, int64_t r1, int64_t t0, const int8_t* acts) {
  const Q8Acts& a = *job.acts;
  const GroupActs<NT> ta(a, t0);
  const int64_t nsb = job.in / 256, full = nsb / 2;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* w = job.w + r * job.row_bytes;
    __m512 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    const int8_t* xr[NT];
    const float* xd[NT];
    const float* xs[NT];
    auto at = [&](int64_t g) {
      for (int t = 0; t < NT; ++t) {
        xr[t] = acts + (t0 + t) * job.in + 512 * g;
        xd[t] = ta.d[t] + 16 * g;
        xs[t] = ta.s[t] + 16 * g;
      }
      return w + 288 * g;
    };
    for (int64_t g = 0; g < full; ++g) {
      const uint8_t* gw = at(g);
      prefetch_ahead(gw, 288);
      q4_k_group<NT, true>(gw, xr, xd, xs, acc);
    }
    if (nsb % 2) q4_k_group<NT, false>(at(full), xr, xd, xs, acc);
    for (int t = 0; t < NT; ++t) job.y[(t0 + t) * job.out + r] = kq::reduce16(acc[t]);
  }
}

// ---- Q6_K -------------------------------------------------------------------------------------
// 210-byte super-blocks of 256: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8
// scales for halves of 16, f16 d. Codes z are 0..63 with an offset of 32.

// One group of 16 blocks (two super-blocks, or one when !kTwo) of one row for NT tokens; corr:
// each token's Q6HalfSums for the group.
template <int NT, bool kTwo>
inline void q6_k_group(const uint8_t* gw, const int8_t* const* xr, const float* const* xd,
                       const int32_t* const* corr, __m512* acc) {
  constexpr int kSb = kTwo ? 2 : 1;
  constexpr __mmask16 m = kTwo ? 0xFFFF : 0x00FF;
  // Elements l and l+32 of a 128-element half take bits 0-1 and 2-3 of qh[l]; l+64 and l+96 bits
  // 4-5 and 6-7.
  const __m512i shl_lo = _mm512_set_epi64(2, 2, 2, 2, 4, 4, 4, 4);
  const __m512i shr_hi = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0);
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
  // Vector j: blocks 2j, 2j + 1 (codes 0..63); sc[k]: super-block k's scale of half i at
  // dword half_pos(i), where lane_sums leaves half i's sum.
  __m512i z[8], sc[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
  for (int k = 0; k < kSb; ++k) {
    const uint8_t* b = gw + 210 * k;
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(b + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 128 + 32 * h)));
      z[4 * k + 2 * h] = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                         _mm512_and_si512(_mm512_sllv_epi64(qh, shl_lo), bits45));
      z[4 * k + 2 * h + 1] =
          _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                          _mm512_and_si512(_mm512_srlv_epi64(qh, shr_hi), bits45));
    }
    sc[k] = _mm512_permutexvar_epi32(
        kq::half_pos_perm(),
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 192))));
  }
  const __m512 dv = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(f16(gw + 208)),
                                         _mm512_set1_ps(kTwo ? f16(gw + 418) : 0.f));
  for (int t = 0; t < NT; ++t) {
    __m512i p[8];
    for (int j = 0; j < 8; ++j)
      p[j] = j < 4 * kSb ? _mm512_dpbusd_epi32(_mm512_setzero_si512(), z[j],
                                               _mm512_loadu_si512(xr[t] + 64 * j))
                         : _mm512_setzero_si512();
    // Per half: s·(Σ z·x − 32·Σ x), then the two halves of each block summed (the dwords before
    // that are at most 4·63·127 = 32004).
    const __m512i h0 =
        _mm512_mullo_epi32(_mm512_add_epi32(lane_sums_i15(p), _mm512_loadu_si512(corr[t])), sc[0]);
    const __m512i h1 =
        kTwo ? _mm512_mullo_epi32(
                   _mm512_add_epi32(lane_sums_i15(p + 4), _mm512_loadu_si512(corr[t] + 16)), sc[1])
             : _mm512_setzero_si512();
    const __m512 v =
        _mm512_mul_ps(_mm512_cvtepi32_ps(pair_blocks(h0, h1)), _mm512_maskz_loadu_ps(m, xd[t]));
    acc[t] = _mm512_mask3_fmadd_ps(dv, v, acc[t], m);
  }
}

template <int NT>
void q6_k_rows(const MatmulJob& job, int64_t r0, int64_t r1, int64_t t0, const kq::Q6HalfSums& hs) {
  const Q8Acts& a = *job.acts;
  const GroupActs<NT> ta(a, t0);
  const int64_t nsb = job.in / 256, full = nsb / 2;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* w = job.w + r * job.row_bytes;
    __m512 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    const int8_t* xr[NT];
    const float* xd[NT];
    const int32_t* corr[NT];
    auto at = [&](int64_t g) {
      for (int t = 0; t < NT; ++t) {
        xr[t] = ta.qs[t] + 512 * g;
        xd[t] = ta.d[t] + 16 * g;
        corr[t] = hs.of(t0 + t) + 32 * g;
      }
      return w + 420 * g;
    };
    for (int64_t g = 0; g < full; ++g) {
      const uint8_t* gw = at(g);
      prefetch_ahead(gw, 420);
      q6_k_group<NT, true>(gw, xr, xd, corr, acc);
    }
    if (nsb % 2) q6_k_group<NT, false>(at(full), xr, xd, corr, acc);
    for (int t = 0; t < NT; ++t) job.y[(t0 + t) * job.out + r] = kq::reduce16(acc[t]);
  }
}

using Q4KRowFn = void (*)(const MatmulJob&, int64_t, int64_t, int64_t, const int8_t*);
using Q6KRowFn = void (*)(const MatmulJob&, int64_t, int64_t, int64_t, const kq::Q6HalfSums&);

template <typename F>
void for_token_tiles(const MatmulJob& job, F&& run) {
  for (int64_t t0 = 0; t0 < job.n_tokens; t0 += kRowTile) {
    const int64_t nt = job.n_tokens - t0 < kRowTile ? job.n_tokens - t0 : kRowTile;
    run(t0, nt);
  }
}

}  // namespace

void avx512_kquant_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  static_assert(kRowTile == 5, "the tables below cover 1..kRowTile tokens");
  if (job.type == DType::Q4_K) {
    if (job.n_tokens >= kPackMinTokens) return kq::q4_k_packed_rows(job, r0, r1);
    const int8_t* acts = q4_k_acts(*job.acts);
    return for_token_tiles(job, [&](int64_t t0, int64_t nt) {
      static constexpr Q4KRowFn kFns[] = {nullptr,      q4_k_rows<1>, q4_k_rows<2>,
                                          q4_k_rows<3>, q4_k_rows<4>, q4_k_rows<5>};
      kFns[nt](job, r0, r1, t0, acts);
    });
  }
  if (job.type == DType::Q6_K) {
    thread_local kq::Q6HalfSums hs;
    const bool packed = job.n_tokens >= kPackMinTokens;
    kq::q6_half_sums(*job.acts, packed, hs);
    if (packed) return kq::q6_k_packed_rows(job, r0, r1, hs);
    return for_token_tiles(job, [&](int64_t t0, int64_t nt) {
      static constexpr Q6KRowFn kFns[] = {nullptr,      q6_k_rows<1>, q6_k_rows<2>,
                                          q6_k_rows<3>, q6_k_rows<4>, q6_k_rows<5>};
      kFns[nt](job, r0, r1, t0, hs);
    });
  }
  fail("AVX-512 K-quant kernel called for ", dtype_name(job.type));
}

}  // namespace ug::kern

#include "kernels/avx512_target_end.h"

#else  // not x86-64: never selected (isa_supported is false)

namespace ug::kern {
void avx512_kquant_rows(const MatmulJob&, int64_t, int64_t) {
  fail("AVX-512 kernels are not built");
}
}  // namespace ug::kern

#endif
