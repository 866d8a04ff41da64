// Pieces shared by the AVX-512 matmul kernel files. Include only inside a region compiled for
// AVX-512 with VNNI (after `#pragma GCC target(...)`), never from generic code.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "base/error.h"
#include "kernels/matmul_impl.h"
#include "kernels/q8_acts.h"
#include "tensor/quant.h"

namespace ug::kern::avx512 {

constexpr int kMaxTile = 8;  // tokens per pass over a row

// Bytes ahead that each row's stream is prefetched: with short rows, or rows visited in turns,
// the hardware prefetchers alone leave loads waiting on memory.
constexpr int kPrefetch = 4096;  // measured best of 1-8 KB at 12B shapes

inline float f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline __m512i idx32(const int32_t (&v)[16]) { return _mm512_loadu_si512(v); }

// Pointers of a tile's tokens into the quantized activations.
template <int NT>
struct GroupActs {
  const int8_t* qs[NT];
  const float* d[NT];
  const float* s[NT];
  GroupActs(const Q8Acts& a, int64_t t0) {
    for (int t = 0; t < NT; ++t) {
      qs[t] = a.qs_of(t0 + t);
      d[t] = a.d_of(t0 + t);
      s[t] = a.s_of(t0 + t);
    }
  }
};

// The 16-slot accumulation shared by the Q4_0/Q8_0 and K-quant kernels (see matmul_avx512.cpp):
// Slots summed as ((s_k + s_k+8) + (.. + s_k+12)) ...: h_k = s_k + s_k+8, q_k = h_k + h_k+4,
// p_k = q_k + q_k+2, result p_0 + p_1.
__attribute__((always_inline)) inline float reduce16(__m512 s) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  const __m128 p = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(p, _mm_movehdup_ps(p)));
}

// The same tree over 16 slot vectors (lane = row).
__attribute__((always_inline)) inline __m512 reduce16_lanes(const __m512* s) {
  __m512 h[8], q[4];
  for (int k = 0; k < 8; ++k) h[k] = _mm512_add_ps(s[k], s[k + 8]);
  for (int k = 0; k < 4; ++k) q[k] = _mm512_add_ps(h[k], h[k + 4]);
  return _mm512_add_ps(_mm512_add_ps(q[0], q[2]), _mm512_add_ps(q[1], q[3]));
}

// Dword j of 128-bit lane m of the result: the sum of v[j]'s 128-bit lane m.
inline __m512i lane_sums(const __m512i* v) {
  const __m512i t0 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
  const __m512i t1 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
}

// 4×4 transpose of dwords inside each 128-bit lane: afterwards a holds every lane's dword 0 of
// a, b, c, d (in that order), b the dwords 1, and so on.
inline void transpose4(__m512i& a, __m512i& b, __m512i& c, __m512i& d) {
  const __m512i t0 = _mm512_unpacklo_epi32(a, b), t1 = _mm512_unpackhi_epi32(a, b);
  const __m512i t2 = _mm512_unpacklo_epi32(c, d), t3 = _mm512_unpackhi_epi32(c, d);
  a = _mm512_unpacklo_epi64(t0, t2);
  b = _mm512_unpackhi_epi64(t0, t2);
  c = _mm512_unpacklo_epi64(t1, t3);
  d = _mm512_unpackhi_epi64(t1, t3);
}

// Calls f(std::integral_constant<int, n>) for n = job tokens 1..3: the row kernels are templates
// on the token count, and 4 or more tokens go to the packed kernels.
template <class F>
void with_few_tokens(int64_t n, const char* what, F&& f) {
  switch (n) {
    case 1:
      return f(std::integral_constant<int, 1>{});
    case 2:
      return f(std::integral_constant<int, 2>{});
    case 3:
      return f(std::integral_constant<int, 3>{});
    default:
      fail(what, ": ", n, " tokens (the packed kernel takes 4 or more)");
  }
}

// A packed prefill tile's block (matmul_avx512.cpp): 16 rows in the lanes.
struct alignas(64) PackedBlock {
  __m512i w[8];  // w[i] lane r: row r's codes of elements 4i..4i+3, unsigned
  __m512 d;      // lane r: row r's block scale
};

}  // namespace ug::kern::avx512

namespace ug::kern {
// Repacked Q4_0/Q8_0 (matmul_avx512_lanes.cpp): rows [r0, r1) (r0 even) for 1-3 tokens, and a
// packed tile's blocks [b0, b0 + nb) of rows [r, r + 16) (lanes outside rm stay zero).
void lanes_exact_rows(const MatmulJob& job, int64_t r0, int64_t r1);
void pack_lanes_blocks(const MatmulJob& job, int64_t r, __mmask16 rm, int64_t b0, int nb,
                       avx512::PackedBlock* out);
}  // namespace ug::kern

namespace ug::kern::avx512 {

#define UG_ROW_TABLE(fn) \
  { nullptr, fn<1>, fn<2>, fn<3>, fn<4>, fn<5>, fn<6>, fn<7>, fn<8> }

}  // namespace ug::kern::avx512
