// ARM NEON kernels (Armv8.2-A with the dot-product extension), compiled for that target whatever
// the build flags; matmul() only calls them after checking the CPU (kernels/isa.h). Q4_0 and Q8_0
// use 8-bit activations (sdot products summed in int32, one f32 scale per block of 32); F32, F16
// and BF16 use f32 activations; other types are decoded to f32 per row block.
//
// Batch invariance: each token has its own accumulators and goes through the same operations in
// the same order whatever the tile size, and every multiply-add is an explicit fused one (no
// reliance on the compiler's contraction choices), so a token's result never depends on n_tokens.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "base/error.h"
#include "kernels/matmul_impl.h"

#if defined(__aarch64__) && defined(__GNUC__)
#include <arm_neon.h>

#pragma GCC push_options
// Whatever the build targets (baseline Armv8-A in a distribution build). GCC 12's arm_neon.h
// declares vdotq_s32 for "arch=armv8.2-a+dotprod": a bare "+dotprod" does not satisfy it.
#pragma GCC target("arch=armv8.2-a+dotprod")

namespace ug::kern {
namespace {

constexpr int kMaxTile = 4;  // tokens per pass over a row

inline float f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

// Four f32 weights starting at element i.
template <DType T>
inline float32x4_t load4(const uint8_t* w, int64_t i) {
  if constexpr (T == DType::F32) {
    return vld1q_f32(reinterpret_cast<const float*>(w + 4 * i));
  } else {
    const uint16x4_t h = vld1_u16(reinterpret_cast<const uint16_t*>(w + 2 * i));
    if constexpr (T == DType::F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
    // bf16 is the top half of an f32.
    return vreinterpretq_f32_u32(vshll_n_u16(h, 16));
  }
}

template <DType T>
inline float load1(const uint8_t* w, int64_t i) {
  if constexpr (T == DType::F32) {
    float f;
    std::memcpy(&f, w + 4 * i, 4);
    return f;
  } else if constexpr (T == DType::F16) {
    return f16(w + 2 * i);
  } else {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
}

// 16 elements per step in four independent accumulators per token (a 4-cycle FMA latency chain
// each), then a fixed reduction tree and a scalar tail for in % 16.
template <DType T, int NT>
void f32_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const int64_t in = job.in;
  const float* x = job.x + t0 * in;
  float32x4_t a0[NT], a1[NT], a2[NT], a3[NT];
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) a0[t] = a1[t] = a2[t] = a3[t] = vdupq_n_f32(0.f);
  int64_t i = 0;
  for (; i + 16 <= in; i += 16) {
    const float32x4_t w0 = load4<T>(w, i), w1 = load4<T>(w, i + 4), w2 = load4<T>(w, i + 8),
                      w3 = load4<T>(w, i + 12);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const float* xt = x + t * in + i;
      a0[t] = vfmaq_f32(a0[t], w0, vld1q_f32(xt));
      a1[t] = vfmaq_f32(a1[t], w1, vld1q_f32(xt + 4));
      a2[t] = vfmaq_f32(a2[t], w2, vld1q_f32(xt + 8));
      a3[t] = vfmaq_f32(a3[t], w3, vld1q_f32(xt + 12));
    }
  }
  for (int t = 0; t < NT; ++t) {
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0[t], a1[t]), vaddq_f32(a2[t], a3[t])));
    for (int64_t j = i; j < in; ++j) s = std::fma(load1<T>(w, j), x[t * in + j], s);
    out[t] = s;
  }
}

// One block of 32 codes (c0: elements 0-15, c1: 16-31) against every token's 8-bit activations:
// acc[t] += (c · x_t) · dw · d_t. Inlined with NT fixed, so the arrays live in registers.
template <int NT>
[[gnu::always_inline]] inline void q8_block(int8x16_t c0, int8x16_t c1, float dw,
                                            const int8_t* const* xq, const float* const* xd,
                                            int64_t b, float32x4_t* acc) {
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) {
    const int8_t* xb = xq[t] + 32 * b;
    const int32x4_t dot =
        vdotq_s32(vdotq_s32(vdupq_n_s32(0), c0, vld1q_s8(xb)), c1, vld1q_s8(xb + 16));
    acc[t] = vfmaq_n_f32(acc[t], vcvtq_f32_s32(dot), dw * xd[t][b]);
  }
}

// Q4_0 block: f16 d, then 16 bytes whose low nibbles are elements 0-15 and high nibbles 16-31
// (natural order, as Q8Acts holds them). Codes minus 8 are signed, so one sdot per half.
inline void q4_0_codes(const uint8_t* blk, int8x16_t& c0, int8x16_t& c1) {
  const uint8x16_t raw = vld1q_u8(blk + 2);
  c0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(0x0F))), vdupq_n_s8(8));
  c1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)), vdupq_n_s8(8));
}

// Q8_0 block: f16 d, then 32 signed codes (-128 included: sdot takes all 8 bits).
inline void q8_0_codes(const uint8_t* blk, int8x16_t& c0, int8x16_t& c1) {
  c0 = vld1q_s8(reinterpret_cast<const int8_t*>(blk + 2));
  c1 = vld1q_s8(reinterpret_cast<const int8_t*>(blk + 18));
}

// Even blocks go to acc0 and odd ones to acc1 (two FMA chains in flight per token), whatever NT.
template <int BlockBytes, void (*Codes)(const uint8_t*, int8x16_t&, int8x16_t&), int NT>
void q8_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const Q8Acts& a = *job.acts;
  const int64_t nb = job.in / 32;
  const int8_t* xq[NT];
  const float* xd[NT];
  float32x4_t acc0[NT], acc1[NT];
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) {
    xq[t] = a.qs_of(t0 + t);
    xd[t] = a.d_of(t0 + t);
    acc0[t] = acc1[t] = vdupq_n_f32(0.f);
  }
  int8x16_t c0, c1;
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const uint8_t* blk = w + BlockBytes * b;
    Codes(blk, c0, c1);
    q8_block<NT>(c0, c1, f16(blk), xq, xd, b, acc0);
    Codes(blk + BlockBytes, c0, c1);
    q8_block<NT>(c0, c1, f16(blk + BlockBytes), xq, xd, b + 1, acc1);
  }
  if (b < nb) {
    const uint8_t* blk = w + BlockBytes * b;
    Codes(blk, c0, c1);
    q8_block<NT>(c0, c1, f16(blk), xq, xd, b, acc0);
  }
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) out[t] = vaddvq_f32(vaddq_f32(acc0[t], acc1[t]));
}

template <int NT>
void q4_0_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  q8_row<18, q4_0_codes, NT>(w, job, t0, out);
}

template <int NT>
void q8_0_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  q8_row<34, q8_0_codes, NT>(w, job, t0, out);
}

#define UG_ROW_TABLE(fn) \
  { nullptr, fn<1>, fn<2>, fn<3>, fn<4> }

#define UG_F32_TABLE(fn, T) \
  { nullptr, fn<T, 1>, fn<T, 2>, fn<T, 3>, fn<T, 4> }

const RowFn kF32[] = UG_F32_TABLE(f32_row, DType::F32);
const RowFn kF16[] = UG_F32_TABLE(f32_row, DType::F16);
const RowFn kBF16[] = UG_F32_TABLE(f32_row, DType::BF16);
const RowFn kQ4_0[] = UG_ROW_TABLE(q4_0_row);
const RowFn kQ8_0[] = UG_ROW_TABLE(q8_0_row);

}  // namespace

bool neon_uses_q8(DType type) { return type == DType::Q4_0 || type == DType::Q8_0; }

void neon_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  if (neon_uses_q8(job.type) && job.acts == nullptr)
    fail("NEON matmul: ", dtype_name(job.type), " weights need 8-bit activations");
  run_row_tables({kF32, kF16, kBF16, kQ4_0, kQ8_0, kMaxTile}, job, r0, r1);
}

}  // namespace ug::kern

#pragma GCC pop_options

#else  // not aarch64: never selected (isa_supported is false)

namespace ug::kern {
bool neon_uses_q8(DType) { return false; }
void neon_rows(const MatmulJob&, int64_t, int64_t) { fail("NEON kernels are not built"); }
}  // namespace ug::kern

#endif
