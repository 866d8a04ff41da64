// AVX-512 kernels (F/BW/VL/DQ + VNNI + VBMI: Ice Lake, Zen 4 and later), compiled for that target
// whatever the build flags (avx512_target_begin.h); matmul() only calls them after checking the
// CPU (kernels/isa.h).
//
// Quantized types take 8-bit activations (Q8Acts) and vpdpbusd. Q4_0 and Q8_0 have two paths
// with the same float arithmetic per (row, token), so a token's result never depends on the other
// rows of its batch: up to 3 tokens stream each row once (exact_rows, blocks in vector lanes),
// more go through a repacked 16-row tile (packed_rows, rows in vector lanes). Q4_K and Q6_K follow
// the same scheme in their own files (matmul_avx512_kquant*.cpp).
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "kernels/matmul_impl.h"
#include "tensor/lanes.h"
#include "tensor/quant.h"

// Everything above is compiled for the generic target; from here on, for AVX-512.
#include "kernels/avx512_target_begin.h"
#if defined(UG_AVX512_REGION)

#include "kernels/avx512_matmul_common.h"
#include "kernels/avx512_util.h"

namespace ug::kern {
namespace {

using namespace avx512;

// Q4_0 (18-byte blocks: f16 d, 16 bytes of nibbles; low nibbles are elements 0-15). Codes are
// 0..15 with an offset of 8: Σ (q − 8)·x = Σ q·x − 8·Σ x, the second term from the block sums.
// Activations in Q4_0 order: a quad of 4 blocks (72 weight bytes) is one byte permute of its 64
// nibble bytes; low nibbles meet the quad's first 64 activation bytes, high nibbles the next 64,
// and both dot products land in the same lanes (lane l: block l / 4).
alignas(64) constexpr uint8_t kQ40QuadPerm[64] = {
    2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25,
    26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49,
    50, 51, 52, 53, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71};

// ---- few tokens: one row at a time, blocks in vector lanes ------------------------------------
//
// A token's result must not depend on which other rows share its matmul (a server batching
// several sequences must give each the tokens it would get alone), so the row kernel here and the
// packed kernel below share one float arithmetic per (row, token). Block b contributes
//   v_b = cvt(dot_b)·d_x[b] − offset·s_x[b],   slot_{b mod 16} = fma(d_w[b], v_b, slot_{b mod 16})
// in increasing b, and the 16 slots are summed by one fixed tree (reduce16). The row kernel keeps
// the slots in one vector (lane = slot, so a group of 16 blocks needs no shuffling of floats);
// the packed kernel keeps one vector per slot (lane = row).

// 16 Q4_0 blocks (4 quads of 72 bytes) of one row: each quad's codes in activation order (low
// nibbles, then high nibbles), and the 16 block scales (lane = block).
struct Q40Group {
  __m512i lo[4], hi[4];
  __m512 d;
};

struct Q40Consts {
  __m512i perm, low4;
  // Words 0, 9, 18, 27 of a quad's first 64 bytes are its 4 block scales: quads 0 and 1 into
  // words 0-7, quads 2 and 3 into words 8-15.
  __m512i scales01, scales23;
};

inline Q40Consts q40_consts() {
  alignas(64) static constexpr int16_t k01[32] = {0, 9, 18, 27, 32, 41, 50, 59};
  alignas(64) static constexpr int16_t k23[32] = {0, 0, 0,  0,  0,  0,  0,  0,
                                                  0, 9, 18, 27, 32, 41, 50, 59};
  return {_mm512_load_si512(kQ40QuadPerm), _mm512_set1_epi8(0x0F), _mm512_load_si512(k01),
          _mm512_load_si512(k23)};
}

inline void load_q4_0_group(const uint8_t* w, int64_t k0, int64_t quads, int64_t row_len,
                            const Q40Consts& c, Q40Group& g) {
  __m512i first[4];
  for (int j = 0; j < 4; ++j) {
    const int64_t k = k0 + j;
    __m512i raw0 = _mm512_setzero_si512(), raw1 = raw0;
    if (k < quads) {
      const uint8_t* b = w + 72 * k;
      if (72 * k + 72 <= row_len) [[likely]] {
        raw0 = _mm512_loadu_si512(b);
        raw1 = _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + 64)));
      } else {
        const int64_t left = row_len - 72 * k;
        raw0 = _mm512_maskz_loadu_epi8(left >= 64 ? ~0ull : (1ull << left) - 1, b);
        if (left > 64) raw1 = _mm512_maskz_loadu_epi8((1ull << (left - 64)) - 1, b + 64);
      }
    }
    first[j] = raw0;
    const __m512i nib = _mm512_permutex2var_epi8(raw0, c.perm, raw1);
    g.lo[j] = _mm512_and_si512(nib, c.low4);
    g.hi[j] = _mm512_and_si512(_mm512_srli_epi16(nib, 4), c.low4);
  }
  const __m512i s =
      _mm512_mask_blend_epi16(0xFF00, _mm512_permutex2var_epi16(first[0], c.scales01, first[1]),
                              _mm512_permutex2var_epi16(first[2], c.scales23, first[3]));
  g.d = _mm512_cvtph_ps(_mm512_castsi512_si256(s));
}

// The 16 block dots of a group (lane = block); xq: the group's activations (Q4_0 order).
inline __m512i q4_0_group_dots(const Q40Group& g, const int8_t* xq) {
  __m512i q[4];
  for (int j = 0; j < 4; ++j) {
    const __m512i d =
        _mm512_dpbusd_epi32(_mm512_setzero_si512(), g.lo[j], _mm512_loadu_si512(xq + 128 * j));
    q[j] = _mm512_dpbusd_epi32(d, g.hi[j], _mm512_loadu_si512(xq + 128 * j + 64));
  }
  // q[j] lane 4m + l belongs to block 4j + m; summing each 128-bit lane gives lane 4m + j =
  // block 4j + m.
  const __m512i u = lane_sums(q);
  const __m512i idx = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  return _mm512_permutexvar_epi32(idx, u);
}

// 16 Q8_0 blocks (8 pairs of 68 bytes) of one row: each pair's codes + 128 (unsigned, for
// vpdpbusd) in one vector, and the 16 block scales (lane = block), taken from the loaded bytes
// (words 0 and 17 of a pair's first 64 bytes) rather than gathered: a 16-lane gather costs about
// a fifth of this kernel's time.
struct Q80Group {
  __m512i c[8];
  __m512 d;
};

inline void load_q8_0_group(const uint8_t* w, int64_t p0, int64_t pairs, int64_t full_pairs,
                            Q80Group& g) {
  // Codes of a pair: bytes 2..33 of its first 64 (block 2j), then the 32 bytes at 36 (2j + 1).
  alignas(64) static constexpr uint8_t kCodes[64] = {
      2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
      24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75,
      76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95};
  // Scales of pairs 2k and 2k + 1 into words 4k..4k+3 (k = 0..3).
  alignas(64) static constexpr int16_t kScales[4][32] = {
      {0, 17, 32, 49},
      {0, 0, 0, 0, 0, 17, 32, 49},
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 32, 49},
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 32, 49}};
  const __m512i codes = _mm512_load_si512(kCodes);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i first[8];
  for (int j = 0; j < 8; ++j) {
    const int64_t p = p0 + j;
    __m512i lo = _mm512_setzero_si512(), hi = lo;
    if (p < full_pairs) {
      const uint8_t* b = w + 68 * p;
      lo = _mm512_loadu_si512(b);
      hi = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 36)));
    } else if (p < pairs) {  // a lone last block (an odd block count): 34 bytes
      lo = _mm512_maskz_loadu_epi8((1ull << 34) - 1, w + 68 * p);
    }
    first[j] = lo;
    g.c[j] = _mm512_xor_si512(_mm512_permutex2var_epi8(lo, codes, hi), flip);
  }
  __m512i s = _mm512_permutex2var_epi16(first[0], _mm512_load_si512(kScales[0]), first[1]);
  for (int k = 1; k < 4; ++k)
    s = _mm512_mask_blend_epi16(
        0xFu << (4 * k), s,
        _mm512_permutex2var_epi16(first[2 * k], _mm512_load_si512(kScales[k]), first[2 * k + 1]));
  g.d = _mm512_cvtph_ps(_mm512_castsi512_si256(s));
}

// The 16 block dots of a group (lane = block); xq: the group's activations (natural order).
inline __m512i q8_0_group_dots(const Q80Group& g, const int8_t* xq) {
  __m512i q[8];
  for (int j = 0; j < 8; ++j)
    q[j] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), g.c[j], _mm512_loadu_si512(xq + 64 * j));
  // q[j]: 128-bit lanes 0-1 block 2j, 2-3 block 2j + 1. Sum each 128-bit lane (4 pairs at once),
  // then the two lanes of each block.
  const __m512i a = lane_sums(q), b = lane_sums(q + 4);
  // a: lanes m=0,1 → blocks 2j (j = 0..3), m=2,3 → 2j + 1; b the same for j = 4..7.
  const __m512i s = _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                                     _mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  // s lanes: 0-3 blocks 0,2,4,6; 4-7 blocks 1,3,5,7; 8-11 blocks 8,10,12,14; 12-15 blocks 9,...
  const __m512i idx = _mm512_set_epi32(15, 11, 14, 10, 13, 9, 12, 8, 7, 3, 6, 2, 5, 1, 4, 0);
  return _mm512_permutexvar_epi32(idx, s);
}

// Rows [r0, r1) for NT tokens, each row streamed once: a group of 16 blocks is unpacked once and
// dotted with every token.
template <DType T, int NT>
void exact_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  constexpr int kBlockBytes = T == DType::Q4_0 ? 18 : 34;
  const Q8Acts& a = *job.acts;
  const int64_t nb = job.in / 32, groups = (nb + 15) / 16;
  const int64_t row_len = nb * kBlockBytes;
  const GroupActs<NT> ta(a, 0);
  const Q40Consts c = q40_consts();
  const __m512 off = _mm512_set1_ps(T == DType::Q4_0 ? 8.f : 128.f);
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* w = job.w + r * job.row_bytes;
    __m512 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
      // Rows are contiguous: prefetching ahead runs on into the next row.
      const uint8_t* gw = w + kBlockBytes * 16 * g;
      for (int l = 0; l < kBlockBytes * 16; l += 64)
        _mm_prefetch(reinterpret_cast<const char*>(gw + l) + kPrefetch, _MM_HINT_T0);
      const int64_t left = nb - 16 * g;
      const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
      __m512i dots[NT];
      __m512 dw;
      if constexpr (T == DType::Q4_0) {
        Q40Group G;
        load_q4_0_group(w, 4 * g, (nb + 3) / 4, row_len, c, G);
        for (int t = 0; t < NT; ++t) dots[t] = q4_0_group_dots(G, ta.qs[t] + 512 * g);
        dw = G.d;
      } else {
        Q80Group G;
        load_q8_0_group(w, 8 * g, a.pairs, nb / 2, G);
        for (int t = 0; t < NT; ++t) dots[t] = q8_0_group_dots(G, ta.qs[t] + 512 * g);
        dw = G.d;
      }
      for (int t = 0; t < NT; ++t) {
        __m512 v =
            _mm512_mul_ps(_mm512_cvtepi32_ps(dots[t]), _mm512_maskz_loadu_ps(m, ta.d[t] + 16 * g));
        v = _mm512_fnmadd_ps(off, _mm512_maskz_loadu_ps(m, ta.s[t] + 16 * g), v);
        acc[t] = _mm512_mask3_fmadd_ps(dw, v, acc[t], m);
      }
    }
    for (int t = 0; t < NT; ++t) job.y[t * job.out + r] = reduce16(acc[t]);
  }
}

template <DType T>
void exact_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  with_few_tokens(job.n_tokens, "Q4_0/Q8_0 row kernel",
                  [&](auto nt) { exact_rows<T, decltype(nt)::value>(job, r0, r1); });
}

// ---- prefill: packed rows × tokens micro-kernel (Q4_0, Q8_0) -----------------------------------
//
// For many tokens the weights are repacked, a tile of 16 rows × 32 blocks at a time, into vectors
// whose 16 lanes are the 16 rows: vector i of a block holds each row's codes of elements
// 4i..4i+3 as unsigned bytes. One vpdpbusd with token t's 4 activation bytes broadcast then
// advances 16 rows at once, and the block scales are applied once per block and token for all 16
// rows. The tile (18 KB) stays in L1 while every token passes over it.

constexpr int kPackRows = 16, kPackBlocks = 32, kPackTokens = 4;

struct alignas(64) Slots16 {
  __m512 v;
};
// Measured at 3840 → 15360: packed already matches the row kernels at 4 tokens, and is 1.8× (16
// tokens) to 3× (128) faster beyond.
constexpr int64_t kPackMinTokens = 4;

// 16 bytes of rows k, 4 + k, 8 + k, 12 + k: after transpose4 over k = 0..3, vector i holds
// dword i of rows 0..15 in lane order.
inline __m512i rows4(const uint8_t* p, uint64_t stride, int k) {
  auto at = [&](int r) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + r * stride));
  };
  __m512i z = _mm512_castsi128_si512(at(k));
  z = _mm512_inserti32x4(z, at(4 + k), 1);
  z = _mm512_inserti32x4(z, at(8 + k), 2);
  return _mm512_inserti32x4(z, at(12 + k), 3);
}

// 16 bytes at p of each of the 16 rows, as 4 vectors of dwords (lane r = row r).
inline void load_transposed(const uint8_t* p, uint64_t stride, __m512i* v) {
  for (int k = 0; k < 4; ++k) v[k] = rows4(p, stride, k);
  transpose4(v[0], v[1], v[2], v[3]);
}

// Rows [r, r + 16) (lanes outside `rm` read nothing and stay zero) × blocks [b0, b0 + nb).
// A full tile is read with plain loads and transposed in registers; a partial one (the last
// rows of a matrix) with masked gathers.
template <DType T>
void pack_blocks(const MatmulJob& job, int64_t r, __mmask16 rm, int64_t b0, int nb,
                 PackedBlock* out) {
  constexpr int kBlockBytes = T == DType::Q4_0 ? 18 : 34;
  const uint64_t stride = job.row_bytes;
  const __m512i rows =
      _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                         _mm512_set1_epi32(static_cast<int>(stride)));
  const __m512i zero = _mm512_setzero_si512();
  const bool full = rm == 0xFFFF;
  const uint8_t* base = job.w + r * stride;
  for (int b = 0; b < nb; ++b) {
    const uint8_t* p = base + (b0 + b) * kBlockBytes;
    const __m512i dg = _mm512_mask_i32gather_epi32(zero, rm, rows, p, 1);
    out[b].d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dg));
    __m512i v[8];
    constexpr int kVecs = T == DType::Q4_0 ? 4 : 8;  // dwords of codes per row
    if (full) {
      load_transposed(p + 2, stride, v);
      if constexpr (T == DType::Q8_0) load_transposed(p + 18, stride, v + 4);
    } else {
      for (int i = 0; i < kVecs; ++i)
        v[i] = _mm512_mask_i32gather_epi32(zero, rm, rows, p + 2 + 4 * i, 1);
    }
    if constexpr (T == DType::Q4_0) {
      const __m512i low4 = _mm512_set1_epi8(0x0F);
      for (int i = 0; i < 4; ++i) {
        out[b].w[i] = _mm512_and_si512(v[i], low4);  // elements 4i.., low nibbles
        out[b].w[i + 4] = _mm512_and_si512(_mm512_srli_epi32(v[i], 4), low4);  // 16 + 4i..
      }
    } else {
      const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));  // signed → w + 128
      for (int i = 0; i < 8; ++i) out[b].w[i] = _mm512_xor_si512(v[i], bias);
    }
  }
}

// Dword of activation block b (from the tile's first) holding elements 4i..4i+3.
template <bool kQ4Order>
constexpr int x_dword(int b, int i) {
  if constexpr (kQ4Order) return b / 4 * 32 + b % 4 * 4 + (i < 4 ? i : 12 + i);
  return 8 * b + i;
}

static_assert(kPackBlocks % 16 == 0, "a tile's block b must fall in slot b mod 16");

// slots[16 t + j] (lane r = row r): slot j of token t0 + t, updated with the tile's blocks as
// exact_rows does (block b into slot b mod 16).
template <int NT, bool kQ4Order>
__attribute__((always_inline)) inline void packed_tile(const PackedBlock* pb, int nb,
                                                       const Q8Acts& a, int64_t t0, int64_t b0,
                                                       float offset, __m512* slots) {
  const int32_t* xq[NT];
  const float* xd[NT];
  const float* xs[NT];
  for (int t = 0; t < NT; ++t) {
    xq[t] = reinterpret_cast<const int32_t*>(a.qs_of(t0 + t) + 32 * b0);
    xd[t] = a.d_of(t0 + t) + b0;
    xs[t] = a.s_of(t0 + t) + b0;
  }
  const __m512 off = _mm512_set1_ps(offset);
  // Slot j takes the tile's blocks j and j + 16, in that order, accumulated in registers: the
  // slots go through memory once per tile, not once per block.
  for (int j = 0; j < 16; ++j) {
    __m512 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = b0 == 0 ? _mm512_setzero_ps() : slots[16 * t + j];
    for (int b = j; b < nb; b += 16) {
      const PackedBlock& P = pb[b];
      __m512i s0[NT], s1[NT];
      for (int t = 0; t < NT; ++t) {
        s0[t] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), P.w[0],
                                    _mm512_set1_epi32(xq[t][x_dword<kQ4Order>(b, 0)]));
        s1[t] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), P.w[1],
                                    _mm512_set1_epi32(xq[t][x_dword<kQ4Order>(b, 1)]));
      }
      for (int i = 2; i < 8; i += 2)
        for (int t = 0; t < NT; ++t) {
          s0[t] =
              _mm512_dpbusd_epi32(s0[t], P.w[i], _mm512_set1_epi32(xq[t][x_dword<kQ4Order>(b, i)]));
          s1[t] = _mm512_dpbusd_epi32(s1[t], P.w[i + 1],
                                      _mm512_set1_epi32(xq[t][x_dword<kQ4Order>(b, i + 1)]));
        }
      for (int t = 0; t < NT; ++t) {
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0[t], s1[t])),
                                 _mm512_set1_ps(xd[t][b]));
        v = _mm512_fnmadd_ps(off, _mm512_set1_ps(xs[t][b]), v);
        acc[t] = _mm512_fmadd_ps(P.d, v, acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) slots[16 * t + j] = acc[t];
  }
}

// Tokens [t0, t0 + NT) over one tile of blocks; their slots start at `slots`.
template <int NT>
void packed_tokens(const PackedBlock* pb, int nb, const MatmulJob& job, int64_t t0, int64_t b0,
                   float offset, __m512* slots) {
  if (job.acts->order == ActOrder::Q4)
    packed_tile<NT, true>(pb, nb, *job.acts, t0, b0, offset, slots);
  else
    packed_tile<NT, false>(pb, nb, *job.acts, t0, b0, offset, slots);
}

// Tokens per pass over a row tile's packed blocks: their slots (1 KB a token) stay in L1.
constexpr int64_t kSlotTokens = 16;

void packed_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  // A row tile's blocks, all packed once (16 rows × 480 blocks = 276 KB at width 15360: L2), then
  // read by each chunk of tokens; kept for the next call.
  thread_local std::vector<PackedBlock> packed;
  const int64_t nb = job.in / 32;
  if (static_cast<int64_t>(packed.size()) < nb) packed.resize(static_cast<size_t>(nb));
  thread_local Slots16 slot_buf[16 * kSlotTokens];
  __m512* slots = &slot_buf[0].v;
  const bool q4 = stored_dtype(job.type) == DType::Q4_0;
  const float offset = q4 ? 8.f : 128.f;
  for (int64_t r = r0; r < r1; r += kPackRows) {
    const int64_t rows = r1 - r < kPackRows ? r1 - r : kPackRows;
    const __mmask16 rm = static_cast<__mmask16>((1u << rows) - 1);
    for (int64_t b0 = 0; b0 < nb; b0 += kPackBlocks) {
      const int n = static_cast<int>(nb - b0 < kPackBlocks ? nb - b0 : kPackBlocks);
      if (is_lanes(job.type))
        pack_lanes_blocks(job, r, rm, b0, n, packed.data() + b0);
      else if (q4)
        pack_blocks<DType::Q4_0>(job, r, rm, b0, n, packed.data() + b0);
      else
        pack_blocks<DType::Q8_0>(job, r, rm, b0, n, packed.data() + b0);
    }
    for (int64_t tc = 0; tc < job.n_tokens; tc += kSlotTokens) {
      const int64_t te = tc + kSlotTokens < job.n_tokens ? tc + kSlotTokens : job.n_tokens;
      for (int64_t b0 = 0; b0 < nb; b0 += kPackBlocks) {
        const int n = static_cast<int>(nb - b0 < kPackBlocks ? nb - b0 : kPackBlocks);
        const PackedBlock* tile = packed.data() + b0;
        int64_t t0 = tc;
        for (; t0 + kPackTokens <= te; t0 += kPackTokens)
          packed_tokens<kPackTokens>(tile, n, job, t0, b0, offset, slots + 16 * (t0 - tc));
        switch (te - t0) {
          case 3:
            packed_tokens<3>(tile, n, job, t0, b0, offset, slots + 16 * (t0 - tc));
            break;
          case 2:
            packed_tokens<2>(tile, n, job, t0, b0, offset, slots + 16 * (t0 - tc));
            break;
          case 1:
            packed_tokens<1>(tile, n, job, t0, b0, offset, slots + 16 * (t0 - tc));
            break;
          default:
            break;
        }
      }
      for (int64_t t = tc; t < te; ++t)
        _mm512_mask_storeu_ps(job.y + t * job.out + r, rm, reduce16_lanes(slots + 16 * (t - tc)));
    }
  }
}

}  // namespace

bool avx512_uses_q8(DType type) {
  return type == DType::Q4_0 || type == DType::Q8_0 || type == DType::Q4_K || type == DType::Q6_K ||
         is_lanes(type);
}

ActOrder avx512_act_order(DType type, int64_t n_tokens) {
  if (is_lanes(type)) return n_tokens >= kPackMinTokens ? ActOrder::Natural : ActOrder::Lanes;
  return type == DType::Q4_0 ? ActOrder::Q4 : ActOrder::Natural;
}

void avx512_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  switch (job.type) {
    case DType::Q4_0:
    case DType::Q8_0:
      if (job.n_tokens >= kPackMinTokens) return packed_rows(job, r0, r1);
      return job.type == DType::Q4_0 ? exact_rows<DType::Q4_0>(job, r0, r1)
                                     : exact_rows<DType::Q8_0>(job, r0, r1);
    case DType::Q4_0_LANES:
    case DType::Q8_0_LANES:
      if (job.n_tokens >= kPackMinTokens) return packed_rows(job, r0, r1);
      return lanes_exact_rows(job, r0, r1);
    case DType::Q4_K:
    case DType::Q6_K:
      return avx512_kquant_rows(job, r0, r1);
    default:
      return avx512_float_rows(job, r0, r1);
  }
}

}  // namespace ug::kern

#include "kernels/avx512_target_end.h"

#else  // not x86-64: never selected (isa_supported is false)

#include "base/error.h"

namespace ug::kern {
bool avx512_uses_q8(DType) { return false; }
ActOrder avx512_act_order(DType, int64_t) { return ActOrder::Natural; }
void avx512_rows(const MatmulJob&, int64_t, int64_t) { fail("AVX-512 kernels are not built"); }
}  // namespace ug::kern

#endif
