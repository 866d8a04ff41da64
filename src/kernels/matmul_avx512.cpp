// AVX-512 kernels (F/BW/VL/DQ + VNNI + VBMI: Ice Lake, Zen 4 and later), compiled for that target
// whatever the build flags; matmul() only calls them after checking the CPU (kernels/isa.h).
//
// Quantized types: a 64-byte vector holds 64 unsigned weight codes for one pair of activation
// blocks (Q8Acts); vpdpbusd gives 16 lane sums of 4 products, which are scaled per lane in f32.
// A row is streamed once per tile of up to 8 tokens, so decode (1 token) reads each weight byte
// once and prefill decodes each weight block once per 8 tokens.
// GCC 12's AVX-512 reduction intrinsics start from _mm512_undefined_*(), which -Wuninitialized
// reports inside the system header; the pragma must precede the include to cover it.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cstdint>
#include <cstring>

#include "kernels/matmul_impl.h"
#include "tensor/quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi")

namespace ug::kern {
namespace {

constexpr int kMaxTile = 8;        // tokens per pass over a row
constexpr int64_t kRowBlock = 16;  // rows kept hot in L1/L2 while every token tile passes

using RowFn = void (*)(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out);

inline float f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline __m512i idx32(const int32_t (&v)[16]) { return _mm512_loadu_si512(v); }

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

// ---- 8-bit activations -------------------------------------------------------------------------

// Pointers of the tile's tokens into the quantized activations.
template <int NT>
struct TileActs {
  const int8_t* qs[NT];
  const float* dxv[NT];
  const int32_t* b8[NT];
  const float* s[NT];
  TileActs(const Q8Acts& a, int64_t t0) {
    for (int t = 0; t < NT; ++t) {
      qs[t] = a.qs_of(t0 + t);
      dxv[t] = a.dxv_of(t0 + t);
      b8[t] = a.b8_of(t0 + t);
      s[t] = a.s_of(t0 + t);
    }
  }
};

// acc[t] += Σ_lanes (lane dot of q with pair p of token t, plus `bias`) × wsc × d_x.
// kBias: 0 none, 1 the stored -8·Σx (codes offset by 8), 4 times that (offset 32).
template <int NT, int kBias>
inline void accumulate_pair(const TileActs<NT>& ta, int64_t p, __m512i q, __m512 wsc, __m512* acc) {
  for (int t = 0; t < NT; ++t) {
    __m512i init = _mm512_setzero_si512();
    if constexpr (kBias == 1) init = _mm512_loadu_si512(ta.b8[t] + 16 * p);
    if constexpr (kBias == 4) init = _mm512_slli_epi32(_mm512_loadu_si512(ta.b8[t] + 16 * p), 2);
    const __m512i dot = _mm512_dpbusd_epi32(init, q, _mm512_loadu_si512(ta.qs[t] + 64 * p));
    const __m512 sc = _mm512_mul_ps(wsc, _mm512_loadu_ps(ta.dxv[t] + 16 * p));
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), sc, acc[t]);
  }
}

// Q4_0 (18-byte blocks: f16 d, 16 bytes of nibbles; low nibbles are elements 0-15).
alignas(64) constexpr uint8_t kQ40Perm[64] = {
    2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 2,  3,  4,  5,  6,  7,
    8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
    32, 33, 34, 35, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
alignas(64) constexpr uint16_t kQ40Shift[32] = {0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4,
                                                0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4};
alignas(32) constexpr uint16_t kQ40Scale[16] = {0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9};

template <int NT>
void q4_0_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const Q8Acts& a = *job.acts;
  const TileActs<NT> ta(a, t0);
  const int64_t full_pairs = job.in / 64;
  const __m512i perm = _mm512_load_si512(kQ40Perm), shift = _mm512_load_si512(kQ40Shift);
  const __m256i sidx = _mm256_load_si256(reinterpret_cast<const __m256i*>(kQ40Scale));
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512 acc[2][NT];
  for (int t = 0; t < NT; ++t) acc[0][t] = acc[1][t] = _mm512_setzero_ps();
  // Pairs whose 64-byte load stays inside the row; later ones load only their own bytes.
  const int64_t wide_pairs = job.in / 32 * 18 >= 64 ? (job.in / 32 * 18 - 64) / 36 + 1 : 0;
  auto unit = [&](int64_t p, __m512* ac) {
    __m512i raw;
    if (p < wide_pairs) {
      raw = _mm512_loadu_si512(w + 36 * p);
    } else {
      // A lone last block loads 18 bytes; the zero upper half then has scale 0.
      raw = _mm512_maskz_loadu_epi8(p < full_pairs ? 0xFFFFFFFFFull : 0x3FFFFull, w + 36 * p);
    }
    const __m512i q =
        _mm512_and_si512(_mm512_srlv_epi16(_mm512_permutexvar_epi8(perm, raw), shift), low4);
    const __m512 wsc = _mm512_cvtph_ps(_mm256_permutexvar_epi16(sidx, _mm512_castsi512_si256(raw)));
    accumulate_pair<NT, 1>(ta, p, q, wsc, ac);
  };
  int64_t p = 0;
  for (; p + 2 <= a.pairs; p += 2) {
    unit(p, acc[0]);
    unit(p + 1, acc[1]);
  }
  if (p < a.pairs) unit(p, acc[0]);
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][t], acc[1][t]));
}

// Q8_0 (34-byte blocks: f16 d, 32 signed bytes). vpdpbusd multiplies unsigned by signed bytes, so
// |w| is used and w's sign moves onto x.
alignas(64) constexpr uint8_t kQ80Perm[64] = {
    2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
    24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
    48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67};
alignas(64) constexpr uint16_t kQ80Scale[32] = {0,  0,  0,  0,  0,  0, 0, 0, 17, 17, 17,
                                                17, 17, 17, 17, 17, 0, 0, 0, 0,  0,  0,
                                                0,  0,  0,  0,  0,  0, 0, 0, 0,  0};

template <int NT>
void q8_0_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const Q8Acts& a = *job.acts;
  const TileActs<NT> ta(a, t0);
  const int64_t full_pairs = job.in / 64;
  const __m512i perm = _mm512_load_si512(kQ80Perm), sidx = _mm512_load_si512(kQ80Scale);
  __m512 acc[2][NT];
  for (int t = 0; t < NT; ++t) acc[0][t] = acc[1][t] = _mm512_setzero_ps();
  auto unit = [&](int64_t p, __m512* ac) {
    const uint8_t* b = w + 68 * p;
    __m512i raw0, raw1;
    if (p < full_pairs) {
      raw0 = _mm512_loadu_si512(b);
      raw1 = _mm512_maskz_loadu_epi8(0xF, b + 64);
    } else {
      raw0 = _mm512_maskz_loadu_epi8(0x3FFFFFFFFull, b);
      raw1 = _mm512_setzero_si512();
    }
    const __m512i q = _mm512_permutex2var_epi8(raw0, perm, raw1);
    const __m512 wsc =
        _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(sidx, raw0)));
    const __m512i aq = _mm512_abs_epi8(q);
    const __mmask64 neg = _mm512_movepi8_mask(q);
    for (int t = 0; t < NT; ++t) {
      const __m512i x = _mm512_loadu_si512(ta.qs[t] + 64 * p);
      const __m512i xs = _mm512_mask_sub_epi8(x, neg, _mm512_setzero_si512(), x);
      const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), aq, xs);
      const __m512 sc = _mm512_mul_ps(wsc, _mm512_loadu_ps(ta.dxv[t] + 16 * p));
      ac[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), sc, ac[t]);
    }
  };
  int64_t p = 0;
  for (; p + 2 <= a.pairs; p += 2) {
    unit(p, acc[0]);
    unit(p + 1, acc[1]);
  }
  if (p < a.pairs) unit(p, acc[0]);
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][t], acc[1][t]));
}

// Q4_K (144-byte super-blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins for 8
// sub-blocks of 32, 128 bytes of nibbles). w = d·sc·q − dmin·m; the min term uses the
// activations' block sums.
constexpr int32_t kQ4KScale[4][16] = {{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
                                      {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
                                      {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5},
                                      {6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7}};

template <int NT>
void q4_k_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const Q8Acts& a = *job.acts;
  const TileActs<NT> ta(a, t0);
  const int64_t nsb = job.in / 256;
  const __m512i shift = _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512i sidx[4];
  for (int c = 0; c < 4; ++c) sidx[c] = idx32(kQ4KScale[c]);
  __m512 acc[2][NT];
  __m256 accm[NT];
  for (int t = 0; t < NT; ++t) {
    acc[0][t] = acc[1][t] = _mm512_setzero_ps();
    accm[t] = _mm256_setzero_ps();
  }
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* b = w + 144 * sb;
    uint32_t u[3];
    std::memcpy(u, b + 4, 12);
    // Scales and mins 0-3 are the low 6 bits of bytes 0-3 and 4-7; 4-7 take their low 4 bits
    // from bytes 8-11 and their top 2 bits from the top of bytes 0-3 / 4-7.
    const uint32_t sc_lo = u[0] & 0x3f3f3f3f, m_lo = u[1] & 0x3f3f3f3f;
    const uint32_t sc_hi = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
    const uint32_t m_hi = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
    const __m128i sm = _mm_set_epi32(static_cast<int>(m_hi), static_cast<int>(m_lo),
                                     static_cast<int>(sc_hi), static_cast<int>(sc_lo));
    const __m512 dd =
        _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(f16(b)), _mm512_set1_ps(f16(b + 2)));
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(sm)), dd);
    const __m256 mins = _mm512_extractf32x8_ps(v, 1);
    for (int c = 0; c < 4; ++c) {
      const __m512i raw = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 + 32 * c)));
      const __m512i q = _mm512_and_si512(_mm512_srlv_epi64(raw, shift), low4);
      accumulate_pair<NT, 0>(ta, 4 * sb + c, q, _mm512_permutexvar_ps(sidx[c], v), acc[c & 1]);
    }
    for (int t = 0; t < NT; ++t)
      accm[t] = _mm256_fmadd_ps(mins, _mm256_loadu_ps(ta.s[t] + 8 * sb), accm[t]);
  }
  for (int t = 0; t < NT; ++t) {
    const __m256 m = accm[t];
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    out[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][t], acc[1][t])) - _mm_cvtss_f32(h);
  }
}

// Q6_K (210-byte super-blocks of 256: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8
// scales for sub-blocks of 16, f16 d). Codes are 0..63 with an offset of 32.
constexpr int32_t kQ6KScale[4][16] = {
    {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3},
    {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7},
    {8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11},
    {12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15}};

template <int NT>
void q6_k_row(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out) {
  const Q8Acts& a = *job.acts;
  const TileActs<NT> ta(a, t0);
  const int64_t nsb = job.in / 256;
  // Elements l and l+32 of a half take bits 0-1 and 2-3 of qh[l]; l+64 and l+96 bits 4-5, 6-7.
  const __m512i shl_lo = _mm512_set_epi64(2, 2, 2, 2, 4, 4, 4, 4);
  const __m512i shr_hi = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0);
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
  __m512i sidx[4];
  for (int g = 0; g < 4; ++g) sidx[g] = idx32(kQ6KScale[g]);
  __m512 acc[2][NT];
  for (int t = 0; t < NT; ++t) acc[0][t] = acc[1][t] = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* b = w + 210 * sb;
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 192)))),
                                   _mm512_set1_ps(f16(b + 208)));
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(b + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 128 + 32 * h)));
      const __m512i z1 = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                         _mm512_and_si512(_mm512_sllv_epi64(qh, shl_lo), bits45));
      const __m512i z2 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                         _mm512_and_si512(_mm512_srlv_epi64(qh, shr_hi), bits45));
      accumulate_pair<NT, 4>(ta, 4 * sb + 2 * h, z1, _mm512_permutexvar_ps(sidx[2 * h], v), acc[0]);
      accumulate_pair<NT, 4>(ta, 4 * sb + 2 * h + 1, z2, _mm512_permutexvar_ps(sidx[2 * h + 1], v),
                             acc[1]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][t], acc[1][t]));
}

// ---- driver ------------------------------------------------------------------------------------

#define UG_ROW_TABLE(fn) \
  { nullptr, fn<1>, fn<2>, fn<3>, fn<4>, fn<5>, fn<6>, fn<7>, fn<8> }

#define UG_F32_TABLE(fn, T) \
  { nullptr, fn<T, 1>, fn<T, 2>, fn<T, 3>, fn<T, 4>, fn<T, 5>, fn<T, 6>, fn<T, 7>, fn<T, 8> }

const RowFn kF32[] = UG_F32_TABLE(f32_row, DType::F32);
const RowFn kF16[] = UG_F32_TABLE(f32_row, DType::F16);
const RowFn kBF16[] = UG_F32_TABLE(f32_row, DType::BF16);
const RowFn kQ4_0[] = UG_ROW_TABLE(q4_0_row);
const RowFn kQ8_0[] = UG_ROW_TABLE(q8_0_row);
const RowFn kQ4_K[] = UG_ROW_TABLE(q4_k_row);
const RowFn kQ6_K[] = UG_ROW_TABLE(q6_k_row);

}  // namespace

bool avx512_uses_q8(DType type) {
  return type == DType::Q4_0 || type == DType::Q8_0 || type == DType::Q4_K || type == DType::Q6_K;
}

void avx512_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  const RowFn* fns = nullptr;
  switch (job.type) {
    case DType::F32:
      fns = kF32;
      break;
    case DType::F16:
      fns = kF16;
      break;
    case DType::BF16:
      fns = kBF16;
      break;
    case DType::Q4_0:
      fns = kQ4_0;
      break;
    case DType::Q8_0:
      fns = kQ8_0;
      break;
    case DType::Q4_K:
      fns = kQ4_K;
      break;
    case DType::Q6_K:
      fns = kQ6_K;
      break;
    default:
      break;
  }
  const int64_t in = job.in;
  float res[kMaxTile];
  for (int64_t rb = r0; rb < r1; rb += kRowBlock) {
    const int64_t re = rb + kRowBlock < r1 ? rb + kRowBlock : r1;
    const uint8_t* wb = job.w + rb * job.row_bytes;
    uint64_t stride = job.row_bytes;
    const RowFn* use = fns;
    if (use == nullptr) {
      // No integer kernel for this type: decode the row block once to f32.
      float* buf = row_scratch((re - rb) * in);
      for (int64_t r = rb; r < re; ++r)
        dequantize_row(job.type, job.w + r * job.row_bytes, buf + (r - rb) * in, in);
      wb = reinterpret_cast<const uint8_t*>(buf);
      stride = static_cast<uint64_t>(in) * sizeof(float);
      use = kF32;
    }
    for (int64_t t0 = 0; t0 < job.n_tokens; t0 += kMaxTile) {
      const int nt = static_cast<int>(job.n_tokens - t0 < kMaxTile ? job.n_tokens - t0 : kMaxTile);
      for (int64_t r = rb; r < re; ++r) {
        use[nt](wb + (r - rb) * stride, job, t0, res);
        for (int t = 0; t < nt; ++t) job.y[(t0 + t) * job.out + r] = res[t];
      }
    }
  }
}

}  // namespace ug::kern

#pragma GCC pop_options

#else  // not x86-64: never selected (isa_supported is false)

#include "base/error.h"

namespace ug::kern {
bool avx512_uses_q8(DType) { return false; }
void avx512_rows(const MatmulJob&, int64_t, int64_t) { fail("AVX-512 kernels are not built"); }
}  // namespace ug::kern

#endif
