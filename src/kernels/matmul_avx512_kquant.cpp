// AVX-512 VNNI kernels for the K-quant super-block types Q4_K and Q6_K (8-bit activations).
// Compiled for AVX-512 (avx512_target_begin.h).
#include <cstdint>
#include <cstring>

#include "base/error.h"
#include "kernels/matmul_impl.h"
#include "tensor/quant.h"

// Everything above is compiled for the generic target; from here on, for AVX-512.
#include "kernels/avx512_target_begin.h"
#if defined(UG_AVX512_REGION)

#include "kernels/avx512_matmul_common.h"
#include "kernels/avx512_util.h"

namespace ug::kern {
namespace {

using namespace avx512;

// Q4_K (144-byte super-blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins for 8
// sub-blocks of 32, 128 bytes of nibbles). w = d·sc·q − dmin·m; the min term uses the
// activations' block sums.
constexpr int32_t kQ4KScale[4][16] = {{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
                                      {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
                                      {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5},
                                      {6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7}};

template <int NT>
void q4_k_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const Q8Acts& a = *job.acts;
  const GroupActs<NT> ta(a, t0);
  const int64_t nsb = job.in / 256;
  const __m512i shift = _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512i sidx[4];
  for (int c = 0; c < 4; ++c) sidx[c] = idx32(kQ4KScale[c]);
  __m512 acc[2][NT];
  __m256 accm[NT];
  for (int t = 0; t < NT; ++t) {
    acc[0][t] = acc[1][t] = _mm512_setzero_ps();
    accm[t] = _mm256_setzero_ps();
  }
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* b = w + 144 * sb;
    uint32_t u[3];
    std::memcpy(u, b + 4, 12);
    // Scales and mins 0-3 are the low 6 bits of bytes 0-3 and 4-7; 4-7 take their low 4 bits
    // from bytes 8-11 and their top 2 bits from the top of bytes 0-3 / 4-7.
    const uint32_t sc_lo = u[0] & 0x3f3f3f3f, m_lo = u[1] & 0x3f3f3f3f;
    const uint32_t sc_hi = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
    const uint32_t m_hi = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
    const __m128i sm = _mm_set_epi32(static_cast<int>(m_hi), static_cast<int>(m_lo),
                                     static_cast<int>(sc_hi), static_cast<int>(sc_lo));
    const __m512 dd =
        _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(f16(b)), _mm512_set1_ps(f16(b + 2)));
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(sm)), dd);
    const __m256 mins = _mm512_extractf32x8_ps(v, 1);
    // Lanes 0-7: sub-block scale × the activation scale of the same 32 elements.
    __m512 D[NT];
    for (int t = 0; t < NT; ++t)
      D[t] = _mm512_mul_ps(v, _mm512_zextps256_ps512(_mm256_loadu_ps(ta.d[t] + 8 * sb)));
    for (int c = 0; c < 4; ++c) {
      const __m512i raw = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 + 32 * c)));
      const __m512i q = _mm512_and_si512(_mm512_srlv_epi64(raw, shift), low4);
      const int64_t p = 4 * sb + c;
      for (int t = 0; t < NT; ++t) {
        const __m512i dot =
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, _mm512_loadu_si512(ta.qs[t] + 64 * p));
        acc[c & 1][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot),
                                        _mm512_permutexvar_ps(sidx[c], D[t]), acc[c & 1][t]);
      }
    }
    for (int t = 0; t < NT; ++t)
      accm[t] = _mm256_fmadd_ps(mins, _mm256_loadu_ps(ta.s[t] + 8 * sb), accm[t]);
  }
  for (int t = 0; t < NT; ++t) {
    const __m256 m = accm[t];
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    out[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][t], acc[1][t])) - _mm_cvtss_f32(h);
  }
}

// Q6_K (210-byte super-blocks of 256: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8
// scales for sub-blocks of 16, f16 d). Codes are 0..63 with an offset of 32.
constexpr int32_t kQ6KScale[4][16] = {
    {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3},
    {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7},
    {8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11},
    {12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15}};

template <int NT>
void q6_k_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const Q8Acts& a = *job.acts;
  const GroupActs<NT> ta(a, t0);
  // Scale i covers elements 16i..16i+15, i.e. activation block i / 2.
  const __m512i half_idx = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  const __m512i off32 = _mm512_set1_epi8(32);
  const int64_t nsb = job.in / 256;
  // Elements l and l+32 of a half take bits 0-1 and 2-3 of qh[l]; l+64 and l+96 bits 4-5, 6-7.
  const __m512i shl_lo = _mm512_set_epi64(2, 2, 2, 2, 4, 4, 4, 4);
  const __m512i shr_hi = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0);
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
  __m512i sidx[4];
  for (int g = 0; g < 4; ++g) sidx[g] = idx32(kQ6KScale[g]);
  __m512 acc[2][NT];
  for (int t = 0; t < NT; ++t) acc[0][t] = acc[1][t] = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* b = w + 210 * sb;
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 192)))),
                                   _mm512_set1_ps(f16(b + 208)));
    __m512 D[NT];
    for (int t = 0; t < NT; ++t)
      D[t] = _mm512_mul_ps(
          v, _mm512_permutexvar_ps(half_idx,
                                   _mm512_zextps256_ps512(_mm256_loadu_ps(ta.d[t] + 8 * sb))));
    // Signed codes z − 32: |z − 32| against x with z − 32's sign (vpdpbusd takes unsigned ×
    // signed).
    auto pair = [&](int64_t p, __m512i z, __m512i idx, __m512* ac) {
      const __m512i c = _mm512_sub_epi8(z, off32);
      const __m512i ac8 = _mm512_abs_epi8(c);
      const __mmask64 neg = _mm512_movepi8_mask(c);
      for (int t = 0; t < NT; ++t) {
        const __m512i x = _mm512_loadu_si512(ta.qs[t] + 64 * p);
        const __m512i xs = _mm512_mask_sub_epi8(x, neg, _mm512_setzero_si512(), x);
        const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ac8, xs);
        ac[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_permutexvar_ps(idx, D[t]), ac[t]);
      }
    };
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(b + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 128 + 32 * h)));
      const __m512i z1 = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                         _mm512_and_si512(_mm512_sllv_epi64(qh, shl_lo), bits45));
      const __m512i z2 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                         _mm512_and_si512(_mm512_srlv_epi64(qh, shr_hi), bits45));
      pair(4 * sb + 2 * h, z1, sidx[2 * h], acc[0]);
      pair(4 * sb + 2 * h + 1, z2, sidx[2 * h + 1], acc[1]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][t], acc[1][t]));
}

const RowFn kQ4_K[] = UG_ROW_TABLE(q4_k_row);
const RowFn kQ6_K[] = UG_ROW_TABLE(q6_k_row);

}  // namespace

void avx512_kquant_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  if (job.type == DType::Q4_K) return run_row_kernels(kQ4_K, kMaxTile, job, r0, r1, false);
  if (job.type == DType::Q6_K) return run_row_kernels(kQ6_K, kMaxTile, job, r0, r1, false);
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
