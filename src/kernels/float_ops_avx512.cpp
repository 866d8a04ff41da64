// AVX-512 f32 row operations (kernels/simd_float.h over 16-lane vectors, tails masked); the
// attention loops are attention_avx512.cpp's own. Compiled for that target whatever the build
// flags; called only after the CPU check (kernels/isa.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "kernels/avx512_target_begin.h"
#include "kernels/float_ops_impl.h"
#if defined(UG_AVX512_REGION)

namespace ug::kern {
namespace {

struct V {
  using F = __m512;
  using M = __mmask16;
  static constexpr int N = 16;

  static __mmask16 first(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }
  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float x) { return _mm512_set1_ps(x); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F load_n(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(first(n), p); }
  static void store_n(float* p, F v, int64_t n) { _mm512_mask_storeu_ps(p, first(n), v); }
  static F load_f16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static void store_f16(uint16_t* p, F v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                        _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fnma(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  // vminps/vmaxps return the second operand when either is NaN: a NaN in `a` comes through.
  static F min(F a, F b) { return _mm512_min_ps(b, a); }
  static F max(F a, F b) { return _mm512_max_ps(b, a); }
  static F abs(F a) { return _mm512_abs_ps(a); }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static F select(M m, F a, F b) { return _mm512_mask_blend_ps(m, b, a); }
  static F copysign(F mag, F sgn) {
    const __m512i s = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(s, _mm512_castps_si512(mag)),
                                               _mm512_and_si512(s, _mm512_castps_si512(sgn))));
  }
  static F round(F a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static F pow2i(F n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static float reduce_add(F v) { return _mm512_reduce_add_ps(v); }
};

}  // namespace
}  // namespace ug::kern

#define UG_SIMD_FLOAT_VEC 1
#include "kernels/simd_float.h"

namespace ug::kern {

namespace {
FloatOps avx512_table() {
  FloatOps t = simd::table();
  t.attn_scores = avx512_attn_scores;  // attention_avx512.cpp's tuned loops
  t.attn_exp = avx512_attn_exp;
  t.attn_weighted_sum = avx512_attn_weighted_sum;
  t.store_f16 = avx512_store_f16;
  t.round_through_f16 = avx512_round_through_f16;
  return t;
}
}  // namespace

const FloatOps& avx512_float_ops() {
  static const FloatOps ops = avx512_table();
  return ops;
}

}  // namespace ug::kern

#endif
#include "kernels/avx512_target_end.h"

#if !(defined(__x86_64__) && defined(__GNUC__))
namespace ug::kern {
const FloatOps& avx512_float_ops() { fail("AVX-512 kernels are not built for this architecture"); }
}  // namespace ug::kern
#endif
