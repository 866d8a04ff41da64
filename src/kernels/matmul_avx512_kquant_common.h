// Arithmetic shared by the two Q4_K / Q6_K kernels (matmul_avx512_kquant.cpp: few tokens, one row
// at a time, blocks of 32 in vector lanes; matmul_avx512_kquant_packed.cpp: many tokens, 16 rows
// in vector lanes). Include only inside a region compiled for AVX-512 (avx512_target_begin.h).
//
// A token's result must not depend on the other tokens of its call (a server batches sequences),
// so both kernels do the same float operations per (row, token). Integer dot products are exact
// in any order; per block b of 32 elements (activation scale dx_b, block sum sx_b = dx_b·Σx):
//   Q4_K: D_b = Σ q·x (q = 0..15)          v = cvt(D_b)·dx_b
//         slot = fma(d·sc_b, v, slot);  slot = fnmadd(dmin·m_b, sx_b, slot)
//   Q6_K: I_b = Σ_h s_h·(Σ z·x − 32·Σx) over the block's two halves h of 16 (z = 0..63)
//         v = cvt(I_b)·dx_b;  slot = fma(d, v, slot)
// with slot = slot[b mod 16], blocks in increasing order, and one fixed tree over the 16 slots
// (reduce16). d·sc_b and dmin·m_b are exact in f32 (11-bit × 6-bit mantissas).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <vector>

#include "kernels/avx512_matmul_common.h"
#include "kernels/matmul_impl.h"
#include "kernels/q8_acts.h"

namespace ug::kern::kq {

using avx512::lane_sums;
using avx512::reduce16;
using avx512::reduce16_lanes;
using avx512::transpose4;

// lane_sums for dwords of at most 16383 in magnitude: sums of 2 and of 4 then fit int16, so two
// rounds of signed-saturating packs (which never saturate) and vpmaddwd by 1 do the adds.
inline __m512i lane_sums_i14(const __m512i* v) {
  const __m512i one = _mm512_set1_epi16(1);
  const __m512i a = _mm512_madd_epi16(_mm512_packs_epi32(v[0], v[1]), one);
  const __m512i b = _mm512_madd_epi16(_mm512_packs_epi32(v[2], v[3]), one);
  return _mm512_madd_epi16(_mm512_packs_epi32(a, b), one);
}

// lane_sums for dwords of at most 32767 in magnitude (one round of packs).
inline __m512i lane_sums_i15(const __m512i* v) {
  const __m512i one = _mm512_set1_epi16(1);
  // 128-bit lane m: a = v0 dwords 0+1, 2+3, v1 dwords 0+1, 2+3; b the same for v2, v3.
  const __m512 a = _mm512_castsi512_ps(_mm512_madd_epi16(_mm512_packs_epi32(v[0], v[1]), one));
  const __m512 b = _mm512_castsi512_ps(_mm512_madd_epi16(_mm512_packs_epi32(v[2], v[3]), one));
  return _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))),
                          _mm512_castps_si512(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))));
}

// A super-block's 16 halves of 16 elements, h = 4j + m, sit at dword 4m + j after lane_sums of
// its 4 pairs of blocks: the Q6_K tables below use that order.
constexpr int half_pos(int h) { return 4 * (h % 4) + h / 4; }

// The transposition that takes halves to their half_pos (and back).
inline __m512i half_pos_perm() {
  return _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
}

// Per token, −32 × the sum of each half-block of 16 activations, 16 per super-block, plus one
// zero super-block of padding: the Q6_K offset of 32, applied in integers. In half_pos order for
// the row kernel (added after its lane_sums), in natural order for the packed kernel (one
// broadcast per half). Kept per thread and grown once.
struct Q6HalfSums {
  std::vector<int32_t> v;
  int64_t stride = 0;  // per token
  const int32_t* of(int64_t t) const { return v.data() + t * stride; }
};

inline void q6_half_sums(const Q8Acts& a, bool natural_order, Q6HalfSums& out) {
  const int64_t nsb = a.in / 256;
  out.stride = 16 * (nsb + 1);
  const auto n = static_cast<size_t>(out.stride * a.n_tokens);
  if (out.v.size() < n) out.v.resize(n);
  const __m512i ones = _mm512_set1_epi8(1), perm = half_pos_perm();
  for (int64_t t = 0; t < a.n_tokens; ++t) {
    const int8_t* x = a.qs_of(t);
    int32_t* o = out.v.data() + t * out.stride;
    for (int64_t sb = 0; sb < nsb; ++sb) {
      __m512i q[4];
      for (int j = 0; j < 4; ++j)
        q[j] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones,
                                   _mm512_loadu_si512(x + 256 * sb + 64 * j));
      __m512i s = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), lane_sums(q)), 5);
      if (natural_order) s = _mm512_permutexvar_epi32(perm, s);
      _mm512_storeu_si512(o + 16 * sb, s);
    }
    _mm512_storeu_si512(o + 16 * nsb, _mm512_setzero_si512());
  }
}

// Packed (many-token) path: rows [r0, r1) × every token (matmul_avx512_kquant_packed.cpp).
// half_sums: q6_half_sums of job.acts in natural order (Q6_K only).
void q4_k_packed_rows(const MatmulJob& job, int64_t r0, int64_t r1);
void q6_k_packed_rows(const MatmulJob& job, int64_t r0, int64_t r1, const Q6HalfSums& half_sums);

}  // namespace ug::kern::kq
