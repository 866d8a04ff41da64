// Small AVX-512 helpers shared by the kernel files. Include only inside a region compiled for
// AVX-512 (after `#pragma GCC target(...)`), never from generic code.
#pragma once

#include <immintrin.h>

namespace ug::kern {

// The four lane sums of a0..a3 in the low 128 bits (one shared reduction tree).
inline __m128 sum4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  const __m512 x01 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
  const __m512 x23 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
  const __m512d y0 = _mm512_castps_pd(x01), y1 = _mm512_castps_pd(x23);
  __m512 y = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(y0, y1)),
                           _mm512_castpd_ps(_mm512_unpackhi_pd(y0, y1)));
  y = _mm512_add_ps(y, _mm512_shuffle_f32x4(y, y, 0x4E));
  y = _mm512_add_ps(y, _mm512_shuffle_f32x4(y, y, 0xB1));
  return _mm512_castps512_ps128(y);
}

// e^x for x ≤ 88 (relative error ~1e-7; x below −87 gives ~e^−87, i.e. 0 after scaling).
inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
  __m512 p = _mm512_set1_ps(1.f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);
}

}  // namespace ug::kern
