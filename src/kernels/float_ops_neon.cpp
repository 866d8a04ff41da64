// ARM NEON f32 row operations and attention loops (kernels/simd_float.h over 4-lane vectors).
// Plain Armv8-A Advanced SIMD (f16 conversions included): no extension beyond the baseline, so
// they would run on any aarch64 CPU; dispatch selects them with the NEON variant (kernels/isa.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "kernels/float_ops_impl.h"

#if defined(__aarch64__) && defined(__GNUC__)
#include <arm_neon.h>

namespace ug::kern {
namespace {

struct V {
  using F = float32x4_t;
  using M = uint32x4_t;
  static constexpr int N = 4;

  static F zero() { return vdupq_n_f32(0.f); }
  static F set1(float x) { return vdupq_n_f32(x); }
  static F load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, F v) { vst1q_f32(p, v); }
  static F load_n(const float* p, int64_t n) {
    float b[4] = {0.f, 0.f, 0.f, 0.f};
    std::memcpy(b, p, static_cast<size_t>(n) * sizeof(float));
    return vld1q_f32(b);
  }
  static void store_n(float* p, F v, int64_t n) {
    float b[4];
    vst1q_f32(b, v);
    std::memcpy(p, b, static_cast<size_t>(n) * sizeof(float));
  }
  static F load_f16(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static void store_f16(uint16_t* p, F v) {  // fcvtn rounds as FPCR says: nearest even by default
    vst1_u16(p, vreinterpret_u16_f16(vcvt_f16_f32(v)));
  }
  static F add(F a, F b) { return vaddq_f32(a, b); }
  static F sub(F a, F b) { return vsubq_f32(a, b); }
  static F mul(F a, F b) { return vmulq_f32(a, b); }
  static F div(F a, F b) { return vdivq_f32(a, b); }
  static F fma(F a, F b, F c) { return vfmaq_f32(c, a, b); }
  static F fnma(F a, F b, F c) { return vfmsq_f32(c, a, b); }
  static F min(F a, F b) { return vminq_f32(a, b); }  // fmin/fmax: NaN if either is NaN
  static F max(F a, F b) { return vmaxq_f32(a, b); }
  static F abs(F a) { return vabsq_f32(a); }
  static M lt(F a, F b) { return vcltq_f32(a, b); }
  static F select(M m, F a, F b) { return vbslq_f32(m, a, b); }
  static F copysign(F mag, F sgn) { return vbslq_f32(vdupq_n_u32(0x80000000u), sgn, mag); }
  static F round(F a) { return vrndnq_f32(a); }
  static F pow2i(F n) {
    const int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
  static float reduce_add(F v) { return vaddvq_f32(v); }
};

}  // namespace
}  // namespace ug::kern

#define UG_SIMD_FLOAT_VEC 1
#include "kernels/simd_float.h"

namespace ug::kern {

const FloatOps& neon_float_ops() {
  static const FloatOps ops = simd::table();
  return ops;
}

}  // namespace ug::kern

#else

namespace ug::kern {
const FloatOps& neon_float_ops() { fail("NEON kernels are not built for this architecture"); }
}  // namespace ug::kern

#endif
