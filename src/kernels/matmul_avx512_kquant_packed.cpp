// Q4_K and Q6_K for many tokens (prefill): packed rows × tokens micro-kernels, AVX-512 VNNI.
//
// The weights of 16 rows × 32 blocks of 32 (4 super-blocks) are repacked per call into a small
// per-thread tile whose vectors hold the 16 rows in their 16 lanes: vector i of a block holds
// each row's codes of elements 4i..4i+3 as unsigned bytes, next to the block's per-row scales.
// One vpdpbusd with 4 activation bytes of a token broadcast then advances 16 rows, and the float
// work per block and token is shared by the 16 rows. The tile (~20 KB) stays in L1 while every
// token passes over it. The float operations per (row, token) are those of the row kernels
// (matmul_avx512_kquant_common.h), so a token's result does not depend on its batch.
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/matmul_impl.h"

// Everything above is compiled for the generic target; from here on, for AVX-512.
#include "kernels/avx512_target_begin.h"
#if defined(UG_AVX512_REGION)

#include "kernels/matmul_avx512_kquant_common.h"

namespace ug::kern::kq {
namespace {

constexpr int kPackRows = 16, kPackBlocks = 32, kPackTokens = 4;
static_assert(kPackBlocks % 16 == 0, "a tile's block b must fall in slot b mod 16");

struct alignas(64) Q4KBlock {
  __m512i w[8];    // lane r: row r's codes of elements 4i..4i+3 (0..15)
  __m512 dsc, dm;  // lane r: row r's d·sc and dmin·m of this block
};

struct alignas(64) Q6KBlock {
  __m512i w[8];    // lane r: row r's codes of elements 4i..4i+3 (0..63)
  __m512i s0, s1;  // lane r: row r's int8 scales of the block's two halves
  __m512 d;        // lane r: row r's super-block scale
};

// 16 bytes at rows[r] + off for the 16 rows, as 4 vectors: v[i] lane r = dword i of row r.
inline void load_transposed(const uint8_t* const* rows, int64_t off, __m512i* v) {
  auto at = [&](int r) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[r] + off)); };
  for (int k = 0; k < 4; ++k) {
    __m512i z = _mm512_castsi128_si512(at(k));
    z = _mm512_inserti32x4(z, at(4 + k), 1);
    z = _mm512_inserti32x4(z, at(8 + k), 2);
    v[k] = _mm512_inserti32x4(z, at(12 + k), 3);
  }
  transpose4(v[0], v[1], v[2], v[3]);
}

inline __m512 f16_lanes(__m512i low16) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(low16)); }

// Byte k of each dword, as f32.
inline __m512 byte_ps(__m512i v, int k) {
  return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(v, 8 * k), _mm512_set1_epi32(0xFF)));
}

// Super-blocks [sb0, sb0 + nsb) of the 16 rows into out[8 * nsb].
void pack_q4_k(const uint8_t* const* rows, int64_t sb0, int nsb, Q4KBlock* out) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i m6 = _mm512_set1_epi32(0x3f3f3f3f), m4 = _mm512_set1_epi32(0x0f0f0f0f);
  const __m512i m2 = _mm512_set1_epi32(0x03030303);
  for (int s = 0; s < nsb; ++s) {
    const int64_t off = 144 * (sb0 + s);
    Q4KBlock* o = out + 8 * s;
    __m512i h[4];  // d | dmin << 16, then the 12 bytes of scales and mins
    load_transposed(rows, off, h);
    const __m512 d = f16_lanes(h[0]), dmin = f16_lanes(_mm512_srli_epi32(h[0], 16));
    // As q4_k_scale_words in the row kernel, per lane.
    const __m512i sc_lo = _mm512_and_si512(h[1], m6), m_lo = _mm512_and_si512(h[2], m6);
    const __m512i sc_hi =
        _mm512_or_si512(_mm512_and_si512(h[3], m4),
                        _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h[1], 6), m2), 4));
    const __m512i m_hi =
        _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(h[3], 4), m4),
                        _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h[2], 6), m2), 4));
    for (int k = 0; k < 4; ++k) {
      o[k].dsc = _mm512_mul_ps(byte_ps(sc_lo, k), d);
      o[4 + k].dsc = _mm512_mul_ps(byte_ps(sc_hi, k), d);
      o[k].dm = _mm512_mul_ps(byte_ps(m_lo, k), dmin);
      o[4 + k].dm = _mm512_mul_ps(byte_ps(m_hi, k), dmin);
    }
    for (int c = 0; c < 4; ++c) {
      __m512i raw[8];
      load_transposed(rows, off + 16 + 32 * c, raw);
      load_transposed(rows, off + 32 + 32 * c, raw + 4);
      for (int i = 0; i < 8; ++i) {
        o[2 * c].w[i] = _mm512_and_si512(raw[i], low4);
        o[2 * c + 1].w[i] = _mm512_and_si512(_mm512_srli_epi32(raw[i], 4), low4);
      }
    }
  }
}

void pack_q6_k(const uint8_t* const* rows, int64_t sb0, int nsb, Q6KBlock* out) {
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
  for (int s = 0; s < nsb; ++s) {
    const int64_t off = 210 * (sb0 + s);
    Q6KBlock* o = out + 8 * s;
    for (int h = 0; h < 2; ++h) {
      __m512i ql[16], qh[8];
      for (int q = 0; q < 4; ++q) load_transposed(rows, off + 64 * h + 16 * q, ql + 4 * q);
      for (int q = 0; q < 2; ++q) load_transposed(rows, off + 128 + 32 * h + 16 * q, qh + 4 * q);
      // Element 128h + 32j + l: nibble j / 2 of ql[64h + 32 (j % 2) + l], bits 2j.. of qh[l].
      for (int i = 0; i < 8; ++i) {
        auto code = [&](__m512i lo, __m512i hi) {
          return _mm512_or_si512(_mm512_and_si512(lo, low4), _mm512_and_si512(hi, bits45));
        };
        o[4 * h].w[i] = code(ql[i], _mm512_slli_epi32(qh[i], 4));
        o[4 * h + 1].w[i] = code(ql[8 + i], _mm512_slli_epi32(qh[i], 2));
        o[4 * h + 2].w[i] = code(_mm512_srli_epi32(ql[i], 4), qh[i]);
        o[4 * h + 3].w[i] = code(_mm512_srli_epi32(ql[8 + i], 4), _mm512_srli_epi32(qh[i], 2));
      }
    }
    __m512i sc[4], dd[4];
    load_transposed(rows, off + 192, sc);
    // Bytes 194..209 (not 208..223: the last row ends at 210); d is the top of dword 3.
    load_transposed(rows, off + 194, dd);
    const __m512 d = f16_lanes(_mm512_srli_epi32(dd[3], 16));
    for (int i = 0; i < 16; ++i) {
      // Scale i: byte i % 4 of dword i / 4, sign-extended.
      const __m512i v = _mm512_srai_epi32(_mm512_slli_epi32(sc[i / 4], 24 - 8 * (i % 4)), 24);
      if (i % 2 == 0)
        o[i / 2].s0 = v;
      else
        o[i / 2].s1 = v;
    }
    for (int b = 0; b < 8; ++b) o[b].d = d;
  }
}

// slots[16 t + j] (lane = row): slot j of token t0 + t, updated with the tile's nb blocks
// (first block b0) in increasing order, block b into slot b mod 16.
template <int NT>
void q4_k_tile(const Q4KBlock* pb, int nb, const Q8Acts& a, int64_t t0, int64_t b0, __m512* slots) {
  const int32_t* xq[NT];
  const float* xd[NT];
  const float* xs[NT];
  for (int t = 0; t < NT; ++t) {
    xq[t] = reinterpret_cast<const int32_t*>(a.qs_of(t0 + t)) + 8 * b0;
    xd[t] = a.d_of(t0 + t) + b0;
    xs[t] = a.s_of(t0 + t) + b0;
  }
  for (int b = 0; b < nb; ++b) {
    const Q4KBlock& P = pb[b];
    __m512i s0[NT], s1[NT];
    for (int t = 0; t < NT; ++t) {
      s0[t] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), P.w[0], _mm512_set1_epi32(xq[t][8 * b]));
      s1[t] =
          _mm512_dpbusd_epi32(_mm512_setzero_si512(), P.w[1], _mm512_set1_epi32(xq[t][8 * b + 1]));
    }
    for (int i = 2; i < 8; i += 2)
      for (int t = 0; t < NT; ++t) {
        s0[t] = _mm512_dpbusd_epi32(s0[t], P.w[i], _mm512_set1_epi32(xq[t][8 * b + i]));
        s1[t] = _mm512_dpbusd_epi32(s1[t], P.w[i + 1], _mm512_set1_epi32(xq[t][8 * b + i + 1]));
      }
    for (int t = 0; t < NT; ++t) {
      const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0[t], s1[t])),
                                     _mm512_set1_ps(xd[t][b]));
      __m512& slot = slots[16 * t + (b & 15)];
      slot = _mm512_fmadd_ps(P.dsc, v, slot);
      slot = _mm512_fnmadd_ps(P.dm, _mm512_set1_ps(xs[t][b]), slot);
    }
  }
}

template <int NT>
void q6_k_tile(const Q6KBlock* pb, int nb, const Q8Acts& a, const Q6HalfSums& hs, int64_t t0,
               int64_t b0, __m512* slots) {
  const int32_t* xq[NT];
  const float* xd[NT];
  const int32_t* corr[NT];
  for (int t = 0; t < NT; ++t) {
    xq[t] = reinterpret_cast<const int32_t*>(a.qs_of(t0 + t)) + 8 * b0;
    xd[t] = a.d_of(t0 + t) + b0;
    corr[t] = hs.of(t0 + t) + 2 * b0;
  }
  for (int b = 0; b < nb; ++b) {
    const Q6KBlock& P = pb[b];
    // s0: the block's first half (dwords 0-3), s1: the second; each plus −32·Σx of its half.
    __m512i s0[NT], s1[NT];
    for (int t = 0; t < NT; ++t) {
      s0[t] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), P.w[0], _mm512_set1_epi32(xq[t][8 * b]));
      s1[t] =
          _mm512_dpbusd_epi32(_mm512_setzero_si512(), P.w[4], _mm512_set1_epi32(xq[t][8 * b + 4]));
    }
    for (int i = 1; i < 4; ++i)
      for (int t = 0; t < NT; ++t) {
        s0[t] = _mm512_dpbusd_epi32(s0[t], P.w[i], _mm512_set1_epi32(xq[t][8 * b + i]));
        s1[t] = _mm512_dpbusd_epi32(s1[t], P.w[i + 4], _mm512_set1_epi32(xq[t][8 * b + i + 4]));
      }
    for (int t = 0; t < NT; ++t) {
      const __m512i h0 = _mm512_add_epi32(s0[t], _mm512_set1_epi32(corr[t][2 * b]));
      const __m512i h1 = _mm512_add_epi32(s1[t], _mm512_set1_epi32(corr[t][2 * b + 1]));
      const __m512i blk =
          _mm512_add_epi32(_mm512_mullo_epi32(h0, P.s0), _mm512_mullo_epi32(h1, P.s1));
      const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(blk), _mm512_set1_ps(xd[t][b]));
      __m512& slot = slots[16 * t + (b & 15)];
      slot = _mm512_fmadd_ps(P.d, v, slot);
    }
  }
}

// f(std::integral_constant<int, n>) for 0 < n < kPackTokens.
template <int N = 1, typename F>
inline void tail_tokens(int n, F&& f) {
  if constexpr (N < kPackTokens) {
    if (n == N) return f(std::integral_constant<int, N>{});
    tail_tokens<N + 1>(n, f);
  }
}

// Slot vectors of every token (16 per token, 1 KB), kept per thread for the next call.
__m512* slot_buffer(int64_t n_tokens) {
  struct alignas(64) Slot {
    __m512 v;
  };
  thread_local std::vector<Slot> buf;
  const auto n = static_cast<size_t>(16 * n_tokens);
  if (buf.size() < n) buf.resize(n);
  return &buf.data()->v;
}

// The weights of the tile after (r, b0): with few tokens the tiles go by fast, and 16 rows read
// at once are 16 streams, more than the hardware prefetchers follow.
inline void prefetch_next_tile(const MatmulJob& job, int64_t r, int64_t r1, int64_t b0,
                               int64_t nb) {
  const int64_t block_bytes = static_cast<int64_t>(job.row_bytes) / nb;
  int64_t b = b0 + kPackBlocks;
  if (b >= nb) {
    b = 0;
    r += kPackRows;
  }
  const int64_t rows = r1 - r < kPackRows ? r1 - r : kPackRows;
  const int64_t bytes = block_bytes * (nb - b < kPackBlocks ? nb - b : kPackBlocks);
  for (int64_t k = 0; k < rows; ++k) {
    const char* p =
        reinterpret_cast<const char*>(job.w + (r + k) * job.row_bytes + b * block_bytes);
    for (int64_t l = 0; l < bytes; l += 64) _mm_prefetch(p + l, _MM_HINT_T0);
  }
}

// Rows [r0, r1) in tiles of 16 rows × 32 blocks: pack(rows, first super-block, super-blocks,
// tile), then tile<NT>(tile, blocks, t0, first block, slots + 16 t0) for every token.
template <typename Block, typename Pack, typename Tile>
void packed_rows(const MatmulJob& job, int64_t r0, int64_t r1, Pack&& pack, Tile&& tile) {
  thread_local Block blocks[kPackBlocks];
  __m512* slots = slot_buffer(job.n_tokens);
  const int64_t nb = job.in / 32;
  for (int64_t r = r0; r < r1; r += kPackRows) {
    const int64_t n_rows = r1 - r < kPackRows ? r1 - r : kPackRows;
    // Lanes past the last row repeat the first row; their results are not stored.
    const uint8_t* rows[kPackRows];
    for (int k = 0; k < kPackRows; ++k)
      rows[k] = job.w + (r + (k < n_rows ? k : 0)) * job.row_bytes;
    for (int64_t i = 0; i < 16 * job.n_tokens; ++i) slots[i] = _mm512_setzero_ps();
    for (int64_t b0 = 0; b0 < nb; b0 += kPackBlocks) {
      const int n = static_cast<int>(nb - b0 < kPackBlocks ? nb - b0 : kPackBlocks);
      prefetch_next_tile(job, r, r1, b0, nb);
      pack(rows, b0 / 8, n / 8, blocks);
      int64_t t0 = 0;
      for (; t0 + kPackTokens <= job.n_tokens; t0 += kPackTokens)
        tile(std::integral_constant<int, kPackTokens>{}, blocks, n, t0, b0, slots + 16 * t0);
      // The last 1..kPackTokens - 1 tokens.
      tail_tokens(static_cast<int>(job.n_tokens - t0),
                  [&](auto nt) { tile(nt, blocks, n, t0, b0, slots + 16 * t0); });
    }
    const __mmask16 rm = static_cast<__mmask16>((1u << n_rows) - 1);
    for (int64_t t = 0; t < job.n_tokens; ++t)
      _mm512_mask_storeu_ps(job.y + t * job.out + r, rm, reduce16_lanes(slots + 16 * t));
  }
}

}  // namespace

void q4_k_packed_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  const Q8Acts& a = *job.acts;
  packed_rows<Q4KBlock>(
      job, r0, r1, pack_q4_k,
      [&](auto nt, const Q4KBlock* pb, int nb, int64_t t0, int64_t b0, __m512* slots) {
        q4_k_tile<decltype(nt)::value>(pb, nb, a, t0, b0, slots);
      });
}

void q6_k_packed_rows(const MatmulJob& job, int64_t r0, int64_t r1, const Q6HalfSums& hs) {
  const Q8Acts& a = *job.acts;
  packed_rows<Q6KBlock>(
      job, r0, r1, pack_q6_k,
      [&](auto nt, const Q6KBlock* pb, int nb, int64_t t0, int64_t b0, __m512* slots) {
        q6_k_tile<decltype(nt)::value>(pb, nb, a, hs, t0, b0, slots);
      });
}

}  // namespace ug::kern::kq

#include "kernels/avx512_target_end.h"

#endif
