// AVX-512 activations: tanh(y) = 1 − 2 / (1 + e^(2y)), with the vector exp.
#include <cstdint>

#include "kernels/activation.h"

#if defined(__x86_64__) && defined(__GNUC__)
// See matmul_avx512.cpp: GCC 12's intrinsics start from _mm512_undefined_*().
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")

#include "kernels/avx512_util.h"

namespace ug::kern {

void avx512_geglu_tanh(float* g, const float* u, int64_t n) {
  const __m512 k = _mm512_set1_ps(0.7978845608028654f), c = _mm512_set1_ps(0.044715f);
  const __m512 one = _mm512_set1_ps(1.f), two = _mm512_set1_ps(2.f), half = _mm512_set1_ps(0.5f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    const __m512 z = _mm512_maskz_loadu_ps(m, g + i);
    const __m512 y = _mm512_mul_ps(k, _mm512_fmadd_ps(_mm512_mul_ps(c, z), _mm512_mul_ps(z, z), z));
    // Large |y| saturates cleanly: e^(2y) = inf gives 1, e^(2y) → 0 gives −1.
    const __m512 e = exp512(_mm512_min_ps(_mm512_mul_ps(two, y), _mm512_set1_ps(88.f)));
    const __m512 t = _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(one, e)));
    const __m512 r = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(half, z), _mm512_add_ps(one, t)),
                                   _mm512_maskz_loadu_ps(m, u + i));
    _mm512_mask_storeu_ps(g + i, m, r);
  }
}

}  // namespace ug::kern

#pragma GCC pop_options

#else

#include "base/error.h"

namespace ug::kern {
void avx512_geglu_tanh(float*, const float*, int64_t) { fail("AVX-512 kernels are not built"); }
}  // namespace ug::kern

#endif
