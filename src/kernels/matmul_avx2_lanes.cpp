// AVX2 kernels for Q4_0/Q8_0 matrices repacked at load (tensor/lanes.h), every token count.
//
// The layout was made for AVX-512; each 32-byte half of its 64-byte vectors is one row's code
// dword of 8 consecutive blocks, which is what maddubs + madd want: lane c of the result is
// block c's partial dot, no shuffle and no horizontal sum. Per row and group of 8 blocks (256
// weights), Q4_0 takes 4 loads, 12 unpack ops, 8 maddubs, 8 int16 adds and one madd (8 nibble
// products per block sum to at most 8·2·15·127 = 30480, inside int16), then 5 float ops for
// the 8 blocks; the file-layout kernel (matmul_avx2.cpp) spends about 13 ops per block.
//
// The float part is that of the AVX-512 kernels (matmul_avx512_lanes.cpp, packed prefill):
// v_b = cvt(dot_b)·d_x[b] − offset·s_x[b], slot_{b mod 16} = fma(d_w[b], v_b, slot) in increasing
// b, and the same reduce tree over the 16 slots; dot_b is Σ code·x with Q4_0's unsigned nibbles
// (offset 8) and Q8_0's codes + 128 (offset 128), exactly as vpdpbusd forms it. So this variant
// gives the AVX-512 variant's bits, and a token's result never depends on its batch (tiles of
// up to 4 tokens run the same operations per token).
//
// Q8_0 codes + 128 times int8 activations would saturate maddubs' int16 pairs, so the dot is
// formed as Σ q·x with the sign trick (|q| unsigned, q's sign moved onto x) and 128·Σx added in
// int32 from the activations' block sums (exact).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/matmul_impl.h"
#include "tensor/lanes.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "base/error.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace ug::kern {
namespace {

constexpr int kMaxTile = 4;  // tokens per pass over a row
// Bytes ahead of the stream that are prefetched, as in the AVX-512 lanes kernel.
constexpr int kPrefetch = 8192;

// Per token and group, lane c: the sum of block 8g + c's 32 activation values (Q8_0's offset).
// acts in Lanes order: run v, dword c = elements 4v..4v+3 of block 8g + c.
const int32_t* block_sums(const Q8Acts& a, int64_t groups) {
  thread_local std::vector<int32_t> buf;
  const auto n = static_cast<size_t>(a.n_tokens * groups * 8);
  if (buf.size() < n) buf.resize(n);
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int64_t t = 0; t < a.n_tokens; ++t)
    for (int64_t g = 0; g < groups; ++g) {
      const int8_t* x = a.qs_of(t) + 256 * g;
      __m256i s = _mm256_setzero_si256();  // |pair| ≤ 254, 8 runs: ≤ 2032
      for (int v = 0; v < 8; ++v)
        s = _mm256_add_epi16(
            s, _mm256_maddubs_epi16(
                   ones8, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32 * v))));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(buf.data() + (t * groups + g) * 8),
                          _mm256_madd_epi16(s, ones16));
    }
  return buf.data();
}

// The AVX-512 reduce16 tree over slots 0-7 (even groups) and 8-15 (odd groups).
inline float reduce16(__m256 even, __m256 odd) {
  const __m256 h = _mm256_add_ps(even, odd);
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  const __m128 p = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(p, _mm_movehdup_ps(p)));
}

// A tile's activations, each pointer at group 0 of its token (Q8Acts in Lanes order).
template <int NT>
struct TileActs {
  const int8_t* qs[NT];
  const float* d[NT];
  const float* s[NT];
  const int32_t* sum[NT];  // block_sums() for Q8_0
};

// One group g (8 blocks) of one row for NT tokens: acc[t] = fma(d_w, v, acc[t]) per lane, in
// lanes c < left only when kLast (padding blocks of the last group). q: the row's first code
// dword of the group; dw16: its 8 f16 scales.
template <bool kQ4, int NT, bool kLast>
__attribute__((always_inline)) inline void group(const uint8_t* q, const uint8_t* dw16,
                                                 const TileActs<NT>& a, int64_t g, __m256 last,
                                                 __m256* acc) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i dot[NT];
  if constexpr (kQ4) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256i d16[NT];
    for (int t = 0; t < NT; ++t) d16[t] = _mm256_setzero_si256();
    for (int v = 0; v < 4; ++v) {
      const __m256i n = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * v));
      const __m256i lo = _mm256_and_si256(n, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(n, 4), low4);
      for (int t = 0; t < NT; ++t) {
        const int8_t* x = a.qs[t] + 256 * g + 32 * v;
        const __m256i plo =
            _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
        const __m256i phi =
            _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 128)));
        d16[t] = _mm256_add_epi16(d16[t], _mm256_add_epi16(plo, phi));
      }
    }
    for (int t = 0; t < NT; ++t) dot[t] = _mm256_madd_epi16(d16[t], ones);
  } else {
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
    for (int t = 0; t < NT; ++t) dot[t] = _mm256_setzero_si256();
    for (int v = 0; v < 8; ++v) {
      const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * v));
      const __m256i w = _mm256_xor_si256(c, flip);  // the signed code
      const __m256i aw = _mm256_abs_epi8(w);        // ≤ 128, unsigned for maddubs
      for (int t = 0; t < NT; ++t) {
        const __m256i x =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs[t] + 256 * g + 32 * v));
        dot[t] = _mm256_add_epi32(
            dot[t], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(x, w)), ones));
      }
    }
    for (int t = 0; t < NT; ++t) {
      const __m256i sx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.sum[t] + 8 * g));
      dot[t] = _mm256_add_epi32(dot[t], _mm256_slli_epi32(sx, 7));
    }
  }
  const __m256 off = _mm256_set1_ps(kQ4 ? 8.f : 128.f);
  const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(dw16)));
  for (int t = 0; t < NT; ++t) {
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(dot[t]), _mm256_loadu_ps(a.d[t] + 8 * g));
    v = _mm256_fnmadd_ps(off, _mm256_loadu_ps(a.s[t] + 8 * g), v);
    const __m256 next = _mm256_fmadd_ps(dw, v, acc[t]);
    acc[t] = kLast ? _mm256_blendv_ps(acc[t], next, last) : next;
  }
}

// Row 2p + h (h: the half of the pair's vectors) for tokens t0 .. t0 + NT - 1 into out[NT].
// Groups go two at a time (a unit of the layout): even groups into slots 0-7, odd into 8-15.
template <bool kQ4, int NT>
void lanes_row(const MatmulJob& job, const LanesShape& s, int64_t p, int h, int64_t t0,
               const int32_t* xsum, float* out) {
  constexpr int V = kQ4 ? 4 : 8;
  const int64_t G = s.groups;
  TileActs<NT> a;
  for (int t = 0; t < NT; ++t) {
    a.qs[t] = job.acts->qs_of(t0 + t);
    a.d[t] = job.acts->d_of(t0 + t);
    a.s[t] = job.acts->s_of(t0 + t);
    a.sum[t] = xsum ? xsum + (t0 + t) * G * 8 : nullptr;
  }
  const __m256 last = _mm256_castsi256_ps(
      _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(s.blocks - 8 * (G - 1))),
                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
  __m256 even[NT], odd[NT];
  for (int t = 0; t < NT; ++t) even[t] = odd[t] = _mm256_setzero_ps();
  const uint8_t* unit = job.w + s.codes_at(p, 0);
  // Units before the one that holds the last group.
  const int64_t full = (G - 1) / 2;
  for (int64_t u = 0; u < full; ++u, unit += s.unit_bytes) {
    // One stream for every pair: a unit ahead runs on into the next pair. The second half
    // re-reads the pair from L1.
    if (h == 0)
      for (int l = 0; l < 2 * V + 1; ++l)
        _mm_prefetch(reinterpret_cast<const char*>(unit) + 64 * l + kPrefetch, _MM_HINT_T0);
    const uint8_t* sc = unit + 2 * V * 64 + 16 * h;
    group<kQ4, NT, false>(unit + 32 * h, sc, a, 2 * u, last, even);
    group<kQ4, NT, false>(unit + V * 64 + 32 * h, sc + 32, a, 2 * u + 1, last, odd);
  }
  if (G - 2 * full == 2) {
    const uint8_t* sc = unit + 2 * V * 64 + 16 * h;
    group<kQ4, NT, false>(unit + 32 * h, sc, a, G - 2, last, even);
    group<kQ4, NT, true>(unit + V * 64 + 32 * h, sc + 32, a, G - 1, last, odd);
  } else {  // a lone last group: its scales follow its codes
    group<kQ4, NT, true>(unit + 32 * h, unit + V * 64 + 16 * h, a, G - 1, last, even);
  }
  for (int t = 0; t < NT; ++t) out[t] = reduce16(even[t], odd[t]);
}

using LanesRowFn = void (*)(const MatmulJob&, const LanesShape&, int64_t, int, int64_t,
                            const int32_t*, float*);
template <bool kQ4>
constexpr LanesRowFn kTable[] = {nullptr, lanes_row<kQ4, 1>, lanes_row<kQ4, 2>, lanes_row<kQ4, 3>,
                                 lanes_row<kQ4, 4>};

}  // namespace

void avx2_lanes_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  if (job.acts == nullptr || job.acts->order != ActOrder::Lanes)
    fail("repacked row kernel: activations not in lanes order");
  if (r0 % 2 != 0) fail("repacked row kernel: first row ", r0, " is odd");
  const LanesShape s = lanes_shape(job.type, job.in, job.out);
  const bool q4 = job.type == DType::Q4_0_LANES;
  const int32_t* xsum = q4 ? nullptr : block_sums(*job.acts, s.groups);
  const LanesRowFn* fns = q4 ? kTable<true> : kTable<false>;
  const int64_t p0 = r0 / 2, p1 = (r1 + 1) / 2;
  // 8 pairs (16 rows, at most 8·4.3 KB at width 3840) stay in L1/L2 while each tile of tokens
  // passes over them.
  constexpr int64_t kPairBlock = 8;
  float res[kMaxTile];
  for (int64_t pb = p0; pb < p1; pb += kPairBlock) {
    const int64_t pe = std::min(pb + kPairBlock, p1);
    for (int64_t t0 = 0; t0 < job.n_tokens; t0 += kMaxTile) {
      const int nt = static_cast<int>(std::min<int64_t>(job.n_tokens - t0, kMaxTile));
      for (int64_t p = pb; p < pe; ++p)
        for (int h = 0; h < 2 && 2 * p + h < r1; ++h) {
          fns[nt](job, s, p, h, t0, xsum, res);
          for (int t = 0; t < nt; ++t) job.y[(t0 + t) * job.out + 2 * p + h] = res[t];
        }
    }
  }
}

}  // namespace ug::kern

#pragma GCC pop_options

#else  // not x86-64: never selected (isa_supported is false)

#include "base/error.h"

namespace ug::kern {
void avx2_lanes_rows(const MatmulJob&, int64_t, int64_t) { fail("AVX2 kernels are not built"); }
}  // namespace ug::kern

#endif
