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

template <DType T, int NT>
void f32_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const int64_t in = job.in;
  const float* x = job.x + t0 * in;
  __m512 a0[NT], a1[NT];
  for (int t = 0; t < NT; ++t) a0[t] = a1[t] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= in; i += 32) {
    const __m512 w0 = load_w<T>(w, i), w1 = load_w<T>(w, i + 16);
    for (int t = 0; t < NT; ++t) {
      a0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + t * in + i), a0[t]);
      a1[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + t * in + i + 16), a1[t]);
    }
  }
  for (; i < in; i += 16) {
    const int64_t rem = in - i < 16 ? in - i : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << rem) - 1);
    const __m512 w0 = load_w_masked<T>(w, i, m);
    for (int t = 0; t < NT; ++t)
      a0[t] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, x + t * in + i), a0[t]);
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(_mm512_add_ps(a0[t], a1[t]));
}

#define UG_F32_TABLE(fn, T) \
  { nullptr, fn<T, 1>, fn<T, 2>, fn<T, 3>, fn<T, 4>, fn<T, 5>, fn<T, 6>, fn<T, 7>, fn<T, 8> }

const RowFn kF32[] = UG_F32_TABLE(f32_row, DType::F32);
const RowFn kF16[] = UG_F32_TABLE(f32_row, DType::F16);
const RowFn kBF16[] = UG_F32_TABLE(f32_row, DType::BF16);

}  // namespace

void avx512_float_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  switch (job.type) {
    case DType::F32:
      return run_row_kernels(kF32, kMaxTile, job, r0, r1, false);
    case DType::F16:
      return run_row_kernels(kF16, kMaxTile, job, r0, r1, false);
    case DType::BF16:
      return run_row_kernels(kBF16, kMaxTile, job, r0, r1, false);
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
