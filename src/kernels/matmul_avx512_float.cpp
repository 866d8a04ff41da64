// AVX-512 kernels for weights dotted in f32: F32, F16 and BF16 rows, and rows of types without
// an integer kernel, decoded to f32 first. Compiled for AVX-512 (avx512_target_begin.h).
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

// ---- f32 activations: F32, F16, BF16 weights (and rows decoded to f32) -------------------------

template <DType T>
inline __m512 load_w(const uint8_t* w, int64_t i) {
  if constexpr (T == DType::F32) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(w) + i);
  } else if constexpr (T == DType::F16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * i)));
  } else {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

template <DType T>
inline __m512 load_w_masked(const uint8_t* w, int64_t i, __mmask16 m) {
  if constexpr (T == DType::F32) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(w) + i);
  } else if constexpr (T == DType::F16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + 2 * i));
  } else {
    const __m256i h = _mm256_maskz_loadu_epi16(m, w + 2 * i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

// NR rows (row r at w + r·stride) × NT tokens: out[r·NT + t]. Each (row, token) keeps two
// accumulators (elements 32k..32k+15 and 32k+16..32k+31, the tail into the first) reduced in one
// fixed way, so its result does not depend on NR or NT: a batch's tokens get what they get alone.
// Several rows per pass share each load of x, which for rows of 15360 (60 KB of f32) comes from
// L2: one row at a time, those loads and not the weights would set the speed.
template <DType T, int NR, int NT>
void f32_rows(const uint8_t* w, uint64_t stride, const MatmulJob& job, int64_t t0, float* out) {
  const int64_t in = job.in;
  const float* x = job.x + t0 * in;
  __m512 a0[NR][NT], a1[NR][NT];
  for (int r = 0; r < NR; ++r)
    for (int t = 0; t < NT; ++t) a0[r][t] = a1[r][t] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= in; i += 32) {
    __m512 w0[NR], w1[NR];
    for (int r = 0; r < NR; ++r) {
      w0[r] = load_w<T>(w + r * stride, i);
      w1[r] = load_w<T>(w + r * stride, i + 16);
    }
    for (int t = 0; t < NT; ++t) {
      const __m512 x0 = _mm512_loadu_ps(x + t * in + i), x1 = _mm512_loadu_ps(x + t * in + i + 16);
      for (int r = 0; r < NR; ++r) {
        a0[r][t] = _mm512_fmadd_ps(w0[r], x0, a0[r][t]);
        a1[r][t] = _mm512_fmadd_ps(w1[r], x1, a1[r][t]);
      }
    }
  }
  for (; i < in; i += 16) {
    const int64_t rem = in - i < 16 ? in - i : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << rem) - 1);
    for (int t = 0; t < NT; ++t) {
      const __m512 x0 = _mm512_maskz_loadu_ps(m, x + t * in + i);
      for (int r = 0; r < NR; ++r)
        a0[r][t] = _mm512_fmadd_ps(load_w_masked<T>(w + r * stride, i, m), x0, a0[r][t]);
    }
  }
  for (int r = 0; r < NR; ++r)
    for (int t = 0; t < NT; ++t)
      out[r * NT + t] = _mm512_reduce_add_ps(_mm512_add_ps(a0[r][t], a1[r][t]));
}

template <DType T, int NT>
void f32_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  f32_rows<T, 1, NT>(w, 0, job, t0, out);
}

#define UG_F32_TABLE(fn, T) \
  { nullptr, fn<T, 1>, fn<T, 2>, fn<T, 3>, fn<T, 4>, fn<T, 5>, fn<T, 6>, fn<T, 7>, fn<T, 8> }

const RowFn kF32[] = UG_F32_TABLE(f32_row, DType::F32);
const RowFn kF16[] = UG_F32_TABLE(f32_row, DType::F16);
const RowFn kBF16[] = UG_F32_TABLE(f32_row, DType::BF16);

constexpr int kRowsPerPass = 4;  // with 1-2 tokens: 8-16 accumulators

// One or two tokens (decode, short drafts): kRowsPerPass rows per pass over x.
template <DType T, int NT>
void few_token_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  float res[kRowsPerPass * NT];
  int64_t r = r0;
  for (; r + kRowsPerPass <= r1; r += kRowsPerPass) {
    const uint8_t* w = job.w + r * job.row_bytes;
    for (int l = 0; l < kRowsPerPass; ++l)
      _mm_prefetch(reinterpret_cast<const char*>(w + l * job.row_bytes) + kPrefetch, _MM_HINT_T0);
    f32_rows<T, kRowsPerPass, NT>(w, job.row_bytes, job, 0, res);
    for (int k = 0; k < kRowsPerPass; ++k)
      for (int t = 0; t < NT; ++t) job.y[t * job.out + r + k] = res[k * NT + t];
  }
  for (; r < r1; ++r) {
    f32_rows<T, 1, NT>(job.w + r * job.row_bytes, 0, job, 0, res);
    for (int t = 0; t < NT; ++t) job.y[t * job.out + r] = res[t];
  }
}

template <DType T>
void float_rows(const RowFn* fns, const MatmulJob& job, int64_t r0, int64_t r1) {
  if (job.n_tokens == 1) return few_token_rows<T, 1>(job, r0, r1);
  if (job.n_tokens == 2) return few_token_rows<T, 2>(job, r0, r1);
  run_row_kernels(fns, kMaxTile, job, r0, r1, false);
}

}  // namespace

void avx512_float_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  switch (job.type) {
    case DType::F32:
      return float_rows<DType::F32>(kF32, job, r0, r1);
    case DType::F16:
      return float_rows<DType::F16>(kF16, job, r0, r1);
    case DType::BF16:
      return float_rows<DType::BF16>(kBF16, job, r0, r1);
    default:
      return run_row_kernels(kF32, kMaxTile, job, r0, r1, true);
  }
}

}  // namespace ug::kern

#include "kernels/avx512_target_end.h"

#else  // not x86-64: never selected (isa_supported is false)

namespace ug::kern {
void avx512_float_rows(const MatmulJob&, int64_t, int64_t) {
  fail("AVX-512 kernels are not built");
}
}  // namespace ug::kern

#endif
