// AVX2 + FMA + F16C kernels (Haswell, Zen 1 and later), compiled for that target whatever the
// build flags; matmul() only calls them after checking the CPU (kernels/isa.h). Q4_0 and Q8_0
// use 8-bit activations (maddubs products summed in int32, one f32 scale per block of 32);
// F32/F16/BF16 use f32 activations; other types are decoded to f32 per row block.
#include <cstdint>
#include <cstring>

#include "kernels/matmul_impl.h"
#include "tensor/quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace ug::kern {
namespace {

constexpr int kMaxTile = 4;  // tokens per pass over a row (16 ymm registers)

inline float f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline float hsum(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

template <DType T>
inline __m256 load_w(const uint8_t* w, int64_t i) {
  if constexpr (T == DType::F32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(w) + i);
  } else {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i));
    if constexpr (T == DType::F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
}

template <DType T>
inline float load_w1(const uint8_t* w, int64_t i) {
  if constexpr (T == DType::F32) {
    float f;
    std::memcpy(&f, w + 4 * i, 4);
    return f;
  } else {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    if constexpr (T == DType::F16) return _cvtsh_ss(h);
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
}

template <DType T, int NT>
void f32_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const int64_t in = job.in;
  const float* x = job.x + t0 * in;
  __m256 a0[NT], a1[NT];
  for (int t = 0; t < NT; ++t) a0[t] = a1[t] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= in; i += 16) {
    const __m256 w0 = load_w<T>(w, i), w1 = load_w<T>(w, i + 8);
    for (int t = 0; t < NT; ++t) {
      a0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + t * in + i), a0[t]);
      a1[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + t * in + i + 8), a1[t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    float s = hsum(_mm256_add_ps(a0[t], a1[t]));
    for (int64_t j = i; j < in; ++j) s += load_w1<T>(w, j) * x[t * in + j];
    out[t] = s;
  }
}

// Q4_0: Σ (q - 8)·x = Σ q·x - 8·Σ x; the second term comes from the activations' block sums.
template <int NT>
void q4_0_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const Q8Acts& a = *job.acts;
  const int64_t nb = job.in / 32;
  const __m256i low4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  float bias[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm256_setzero_ps();
    bias[t] = 0.f;
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = w + 18 * b;
    const float dw = f16(blk);
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
    const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), low4);
    for (int t = 0; t < NT; ++t) {
      const __m256i x =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs_of(t0 + t) + 32 * b));
      const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(q, x), ones);
      acc[t] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(dw * a.d_of(t0 + t)[b]), acc[t]);
      bias[t] += dw * a.s_of(t0 + t)[b];
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]) - 8.f * bias[t];
}

// Q8_0: maddubs multiplies unsigned by signed bytes, so |w| is used and w's sign moves onto x.
template <int NT>
void q8_0_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const Q8Acts& a = *job.acts;
  const int64_t nb = job.in / 32;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = w + 34 * b;
    const float dw = f16(blk);
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    const __m256i aq = _mm256_abs_epi8(q);
    for (int t = 0; t < NT; ++t) {
      const __m256i x =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs_of(t0 + t) + 32 * b));
      const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(aq, _mm256_sign_epi8(x, q)), ones);
      acc[t] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(dw * a.d_of(t0 + t)[b]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
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

bool avx2_uses_q8(DType type) { return type == DType::Q4_0 || type == DType::Q8_0; }

void avx2_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  run_row_tables({kF32, kF16, kBF16, kQ4_0, kQ8_0, kMaxTile}, job, r0, r1);
}

}  // namespace ug::kern

#pragma GCC pop_options

#else  // not x86-64: never selected (isa_supported is false)

#include "base/error.h"

namespace ug::kern {
bool avx2_uses_q8(DType) { return false; }
void avx2_rows(const MatmulJob&, int64_t, int64_t) { fail("AVX2 kernels are not built"); }
}  // namespace ug::kern

#endif
