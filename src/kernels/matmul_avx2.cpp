// AVX2 + FMA + F16C kernels (Haswell, Zen 1 and later), compiled for that target whatever the
// build flags; matmul() only calls them after checking the CPU (kernels/isa.h). Q4_0, Q8_0, Q4_K,
// Q5_K and Q6_K use 8-bit activations (maddubs products summed in int32, one f32 scale per block
// of 32); F32/F16/BF16 use f32 activations; other types are decoded to f32 per row block.
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

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

// ---- K-quants: super-blocks of 256 = 8 blocks of 32 ------------------------------------------
//
// Per block b of 32 and token: the integer dot D_b = Σ q·x (Q6_K: Σ_h s_h·Σ (z − 32)·x over its
// two halves of 16) with maddubs (|pair| ≤ 2·63·127) and madd (by 1, or Q6_K's half scale); the
// 8 blocks' partial sums are folded by one fixed hadd tree into lane b of one vector, then, per
// lane: Q4_K/Q5_K acc = fma(d·sc_b, D_b·dx_b, acc), acc = fnmadd(dmin·m_b, sx_b, acc); Q6_K
// acc = fma(d, D_b·dx_b, acc); the 8 lanes are summed at the end of the row. The same kernel
// serves every token count, so a token's result never depends on its batch.

// Lane b (0..7): the sum of v[b]'s 8 int32 lanes.
inline __m256i block_sums(const __m256i* v) {
  const __m256i a01 = _mm256_hadd_epi32(v[0], v[1]), a23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i a45 = _mm256_hadd_epi32(v[4], v[5]), a67 = _mm256_hadd_epi32(v[6], v[7]);
  // 128-bit half k of b0123: lanes 4k..4k+3 of v0, v1, v2, v3 summed (likewise b4567).
  const __m256i b0123 = _mm256_hadd_epi32(a01, a23), b4567 = _mm256_hadd_epi32(a45, a67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(b0123, b4567, 0x20),
                          _mm256_permute2x128_si256(b0123, b4567, 0x31));
}

// Q4_K/Q5_K: lane b = d·sc_b and dmin·m_b of the super-block at sb (16-byte header: f16 d, f16
// dmin, 12 bytes of 6-bit scales and mins; ggml's get_scale_min_k4).
inline void q4_k_scales(const uint8_t* sb, __m256& dsc, __m256& dm) {
  uint32_t u[3];
  std::memcpy(u, sb + 4, 12);
  // Scales and mins 0-3: the low 6 bits of u0 / u1; 4-7: the low / high nibbles of u2 and the
  // top 2 bits of u0 / u1.
  const uint32_t sc_lo = u[0] & 0x3f3f3f3f, m_lo = u[1] & 0x3f3f3f3f;
  const uint32_t sc_hi = (u[2] & 0x0f0f0f0f) | ((u[0] >> 2) & 0x30303030);
  const uint32_t m_hi = ((u[2] >> 4) & 0x0f0f0f0f) | ((u[1] >> 2) & 0x30303030);
  const __m128i sc = _mm_set_epi32(0, 0, static_cast<int>(sc_hi), static_cast<int>(sc_lo));
  const __m128i m = _mm_set_epi32(0, 0, static_cast<int>(m_hi), static_cast<int>(m_lo));
  dsc = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sc)), _mm256_set1_ps(f16(sb)));
  dm = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(m)), _mm256_set1_ps(f16(sb + 2)));
}

// Bytes shifted left by S bits within 16-bit lanes (right by −S when S < 0); callers mask.
template <int S>
inline __m256i shift16(__m256i v) {
  if constexpr (S > 0) return _mm256_slli_epi16(v, S);
  if constexpr (S < 0) return _mm256_srli_epi16(v, -S);
  return v;
}

// Block b's 32 codes (unsigned, element order) of a super-block.
template <DType T, int B>
inline __m256i k_codes(const uint8_t* sb) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  if constexpr (T == DType::Q6_K) {
    // Element 128h + 32j + l: nibble j / 2 of ql[64h + 32(j % 2) + l], bits 2j.. of qh[32h + l].
    constexpr int h = B / 4, j = B % 4;
    const __m256i ql =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + 64 * h + 32 * (j % 2)));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + 128 + 32 * h));
    const __m256i lo = _mm256_and_si256(shift16<-4 * (j / 2)>(ql), low4);
    return _mm256_or_si256(lo, _mm256_and_si256(shift16<4 - 2 * j>(qh), _mm256_set1_epi8(0x30)));
  } else {
    // Chunk c of 32 code bytes: block 2c in the low nibbles, 2c + 1 in the high ones; Q5_K's
    // fifth bit of block b, element l is bit b of qh[l].
    const uint8_t* qs = sb + (T == DType::Q5_K ? 48 : 16);
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * (B / 2)));
    __m256i q = _mm256_and_si256(shift16<-4 * (B % 2)>(raw), low4);
    if constexpr (T == DType::Q5_K) {
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + 16));
      q = _mm256_or_si256(q, _mm256_and_si256(shift16<4 - B>(qh), _mm256_set1_epi8(0x10)));
    }
    return q;
  }
}

// Q6_K: block b's multiplier for madd: its first half's scale in the low 128 bits, the second's
// in the high (s16: the 16 scales as int16).
inline __m256i q6_block_scales(__m256i s16, int b) {
  const __m256i pair = _mm256_permutevar8x32_epi32(s16, _mm256_set1_epi32(b));
  const __m256i pick = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3,
                                        2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
  return _mm256_shuffle_epi8(pair, pick);
}

template <int N, class F>
__attribute__((always_inline)) inline void for_each_block(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) { (f(std::integral_constant<int, I>{}), ...); }
  (std::make_integer_sequence<int, N>{});
}

// Q6_K: per token, the sums of each half (16 values) of the 8-bit activations as int16, 16 per
// super-block (|sum| ≤ 2032), for the offset of 32. Set by avx2_rows for the calling thread.
thread_local const int16_t* tl_q6_half_sums = nullptr;

template <DType T, int NT>
void k_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const Q8Acts& a = *job.acts;
  const int64_t nsb = job.in / 256;
  constexpr int kBytes = T == DType::Q4_K ? 144 : T == DType::Q5_K ? 176 : 210;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t g = 0; g < nsb; ++g) {
    const uint8_t* sb = w + kBytes * g;
    _mm_prefetch(reinterpret_cast<const char*>(sb) + 1024, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(sb) + 1024 + 64, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(sb) + 1024 + 128, _MM_HINT_T0);
    if constexpr (T == DType::Q6_K)
      _mm_prefetch(reinterpret_cast<const char*>(sb) + 1024 + 192, _MM_HINT_T0);
    __m256i s16 = ones;
    if constexpr (T == DType::Q6_K)
      s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + 192)));
    // The super-block's codes (and Q6_K's madd multipliers) once, then each token.
    __m256i q[8], mul[8];
    for_each_block<8>([&](auto bc) {
      constexpr int b = decltype(bc)::value;
      q[b] = k_codes<T, b>(sb);
      mul[b] = T == DType::Q6_K ? q6_block_scales(s16, b) : ones;
    });
    __m256i dots[NT][8];
    for (int t = 0; t < NT; ++t) {
      const int8_t* x = a.qs_of(t0 + t) + 256 * g;
      for (int b = 0; b < 8; ++b)
        dots[t][b] = _mm256_madd_epi16(
            _mm256_maddubs_epi16(q[b],
                                 _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32 * b))),
            mul[b]);
    }
    __m256 dsc, dm;
    if constexpr (T != DType::Q6_K) q4_k_scales(sb, dsc, dm);
    for (int t = 0; t < NT; ++t) {
      __m256i d = block_sums(dots[t]);
      const __m256 dx = _mm256_loadu_ps(a.d_of(t0 + t) + 8 * g);
      if constexpr (T == DType::Q6_K) {
        // Σ (z − 32)·x·s = Σ z·x·s − 32·Σ_h s_h·Σx_h.
        const __m256i hs = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(tl_q6_half_sums + (t0 + t) * (job.in / 16) + 16 * g));
        d = _mm256_sub_epi32(d, _mm256_slli_epi32(_mm256_madd_epi16(s16, hs), 5));
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(f16(sb + 208)),
                                 _mm256_mul_ps(_mm256_cvtepi32_ps(d), dx), acc[t]);
      } else {
        acc[t] = _mm256_fmadd_ps(dsc, _mm256_mul_ps(_mm256_cvtepi32_ps(d), dx), acc[t]);
        acc[t] = _mm256_fnmadd_ps(dm, _mm256_loadu_ps(a.s_of(t0 + t) + 8 * g), acc[t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
}

// Per token, the int16 sums of each half-block of 16 activations (Q6_K's offset).
const int16_t* q6_half_sums(const Q8Acts& a) {
  thread_local std::vector<int16_t> buf;
  const int64_t per = a.in / 16;
  const auto n = static_cast<size_t>(a.n_tokens * per);
  if (buf.size() < n) buf.resize(n);
  for (int64_t t = 0; t < a.n_tokens; ++t) {
    const int8_t* x = a.qs_of(t);
    for (int64_t h = 0; h < per; ++h) {
      int s = 0;
      for (int i = 0; i < 16; ++i) s += x[16 * h + i];
      buf[static_cast<size_t>(t * per + h)] = static_cast<int16_t>(s);
    }
  }
  return buf.data();
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
const RowFn kQ4_K[] = UG_F32_TABLE(k_row, DType::Q4_K);
const RowFn kQ5_K[] = UG_F32_TABLE(k_row, DType::Q5_K);
const RowFn kQ6_K[] = UG_F32_TABLE(k_row, DType::Q6_K);

}  // namespace

bool avx2_uses_q8(DType type) {
  return type == DType::Q4_0 || type == DType::Q8_0 || type == DType::Q4_K || type == DType::Q5_K ||
         type == DType::Q6_K || type == DType::Q4_0_LANES || type == DType::Q8_0_LANES;
}

void avx2_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  switch (job.type) {
    case DType::Q4_0_LANES:
    case DType::Q8_0_LANES:
      return avx2_lanes_rows(job, r0, r1);
    case DType::Q4_K:
      return run_row_kernels(kQ4_K, kMaxTile, job, r0, r1, false);
    case DType::Q5_K:
      return run_row_kernels(kQ5_K, kMaxTile, job, r0, r1, false);
    case DType::Q6_K:
      tl_q6_half_sums = q6_half_sums(*job.acts);
      return run_row_kernels(kQ6_K, kMaxTile, job, r0, r1, false);
    default:
      return run_row_tables({kF32, kF16, kBF16, kQ4_0, kQ8_0, kMaxTile}, job, r0, r1);
  }
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
