// Pieces shared by the AVX-512 matmul kernel files. Include only inside a region compiled for
// AVX-512 with VNNI (after `#pragma GCC target(...)`), never from generic code.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

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

// f16 scales at the start of 16 consecutive blocks of `stride` bytes (only `m`'s lanes read).
inline __m512 block_scales(const uint8_t* w, __m512i offsets, __mmask16 m) {
  const __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offsets, w, 1);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
}

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

#define UG_ROW_TABLE(fn) \
  { nullptr, fn<1>, fn<2>, fn<3>, fn<4>, fn<5>, fn<6>, fn<7>, fn<8> }

}  // namespace ug::kern::avx512
