// AVX-512 kernels for Q4_0/Q8_0 matrices repacked at load (tensor/lanes.h).
//
// Decode (1-3 tokens): a 64-byte vector holds one code dword of 8 blocks of each row of a pair,
// so a group's vpdpbusd chain leaves block b's dot in its own lane with no shuffles; about 30
// vector operations per 288 bytes of Q4_0 instead of about 45 from the file layout, 2.5× the
// throughput from L2 (Q8_0: 1.4×). The float part is exactly that of the file-layout kernels
// (matmul_avx512.cpp): v_b = cvt(dot_b)·d_x[b] − offset·s_x[b], slot_{b mod 16} += d_w[b]·v_b in
// increasing b, one fixed reduce tree; groups alternate between the two halves of the 16 slots.
// So results are bit-identical to the file layout, and to the packed prefill kernel, which takes
// its tiles from this layout through gathers (pack_lanes_blocks).
#include <algorithm>
#include <cstdint>

#include "base/error.h"
#include "kernels/avx512_target_begin.h"
#include "kernels/matmul_impl.h"
#include "tensor/lanes.h"
#if defined(UG_AVX512_REGION)

#include "kernels/avx512_matmul_common.h"

namespace ug::kern {

using namespace avx512;

namespace {

// Bytes ahead of the stream that the decode kernel prefetches. Longer than the file-layout
// kernels' (kPrefetch): this kernel asks for lines about twice as fast. Measured at 12B shapes
// with 2 threads from DRAM: 4 KB 70, 8 KB 75, 12 KB 74, 16 KB 73 GB/s.
constexpr int kLanesPrefetch = 8192;

// 32 activation bytes in both halves of a vector (one per row of a pair). Broadcasting instead
// of storing them twice keeps a 15360-wide token in L1 (15 KB, not 30); from L2 the reloads
// took the line-fill buffers the weight stream needs, 16 % slower at that width.
inline __m512i both_rows(const int8_t* x) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
}

// Pairs [p0, p1) for NT tokens. acts: ActOrder::Lanes.
template <bool kQ4, int NT>
void lanes_rows(const MatmulJob& job, int64_t p0, int64_t p1) {
  const LanesShape s = lanes_shape(job.type, job.in, job.out);
  const Q8Acts& a = *job.acts;
  const int V = s.vecs;
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512 off = _mm512_set1_ps(kQ4 ? 8.f : 128.f);
  const GroupActs<NT> ta(a, 0);
  // Lanes of the last group that hold real blocks (both rows): blocks 8(G-1) + c, c < left.
  const int64_t left = s.blocks - 8 * (s.groups - 1);
  const __mmask16 last = static_cast<__mmask16>(((1u << left) - 1) * 0x101u);
  for (int64_t p = p0; p < p1; ++p) {
    __m512 acc[NT][2];
    for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
    for (int64_t g = 0; g < s.groups; ++g) {
      const uint8_t* q = job.w + s.codes_at(p, g);
      // One stream for every pair: prefetching a unit ahead runs on into the next pair.
      if ((g & 1) == 0)
        for (int l = 0; l < 2 * V + 1; ++l)
          _mm_prefetch(reinterpret_cast<const char*>(q) + 64 * l + kLanesPrefetch, _MM_HINT_T0);
      __m512i d0[NT], d1[NT];
      for (int t = 0; t < NT; ++t) d0[t] = d1[t] = _mm512_setzero_si512();
      if constexpr (kQ4) {
        for (int v = 0; v < 4; ++v) {
          const __m512i n = _mm512_loadu_si512(q + 64 * v);
          const __m512i lo = _mm512_and_si512(n, low4);
          const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(n, 4), low4);
          for (int t = 0; t < NT; ++t) {
            const int8_t* x = ta.qs[t] + 256 * g;
            d0[t] = _mm512_dpbusd_epi32(d0[t], lo, both_rows(x + 32 * v));
            d1[t] = _mm512_dpbusd_epi32(d1[t], hi, both_rows(x + 32 * v + 128));
          }
        }
      } else {
        for (int v = 0; v < 8; v += 2) {
          const __m512i c0 = _mm512_loadu_si512(q + 64 * v),
                        c1 = _mm512_loadu_si512(q + 64 * v + 64);
          for (int t = 0; t < NT; ++t) {
            const int8_t* x = ta.qs[t] + 256 * g;
            d0[t] = _mm512_dpbusd_epi32(d0[t], c0, both_rows(x + 32 * v));
            d1[t] = _mm512_dpbusd_epi32(d1[t], c1, both_rows(x + 32 * v + 32));
          }
        }
      }
      const __m512 dw = _mm512_cvtph_ps(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(job.w + s.scales_at(p, g))));
      const __mmask16 m = g + 1 < s.groups ? __mmask16(0xFFFF) : last;
      for (int t = 0; t < NT; ++t) {
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(d0[t], d1[t])),
                                 _mm512_broadcast_f32x8(_mm256_loadu_ps(ta.d[t] + 8 * g)));
        v = _mm512_fnmadd_ps(off, _mm512_broadcast_f32x8(_mm256_loadu_ps(ta.s[t] + 8 * g)), v);
        acc[t][g & 1] = _mm512_mask3_fmadd_ps(dw, v, acc[t][g & 1], m);
      }
    }
    // Row 2p's slots 0-7 are the low halves, 8-15 the high halves' partners: lanes 0-7 of
    // acc[.][0] (groups 0, 2, ...: blocks ≡ 0-7 mod 16) then lanes 0-7 of acc[.][1].
    for (int t = 0; t < NT; ++t) {
      float* y = job.y + t * job.out;
      y[2 * p] = reduce16(_mm512_shuffle_f32x4(acc[t][0], acc[t][1], _MM_SHUFFLE(1, 0, 1, 0)));
      if (2 * p + 1 < job.out)
        y[2 * p + 1] =
            reduce16(_mm512_shuffle_f32x4(acc[t][0], acc[t][1], _MM_SHUFFLE(3, 2, 3, 2)));
    }
  }
}

template <bool kQ4>
void lanes_rows(const MatmulJob& job, int64_t p0, int64_t p1) {
  with_few_tokens(job.n_tokens, "repacked row kernel",
                  [&](auto nt) { lanes_rows<kQ4, decltype(nt)::value>(job, p0, p1); });
}

}  // namespace

void lanes_exact_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  if (job.acts == nullptr || job.acts->order != ActOrder::Lanes)
    fail("repacked row kernel: activations not in lanes order");
  if (r0 % 2 != 0) fail("repacked row kernel: first row ", r0, " is odd");
  const int64_t p0 = r0 / 2, p1 = (r1 + 1) / 2;
  if (job.type == DType::Q4_0_LANES)
    lanes_rows<true>(job, p0, p1);
  else
    lanes_rows<false>(job, p0, p1);
}

namespace {
// out[c] lane 2k + h = in[k] lane 8h + c: the dwords of block c of 8 pairs' vectors, in row
// order. Each pair's two rows are first made adjacent (qword c = rows 2k, 2k + 1 of block c),
// then the 8×8 qwords are transposed.
inline void rows_of_pairs(const __m512i* in, __m512i* out) {
  const __m512i adj = _mm512_set_epi32(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0);
  __m512i p[8], t[8], u[8];
  for (int k = 0; k < 8; ++k) p[k] = _mm512_permutexvar_epi32(adj, in[k]);
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm512_unpacklo_epi64(p[k], p[k + 1]);      // 128-bit lane i: qwords 2i of both
    t[k + 1] = _mm512_unpackhi_epi64(p[k], p[k + 1]);  // qwords 2i + 1
  }
  for (int k = 0; k < 8; k += 4)
    for (int j = 0; j < 2; ++j) {
      u[k + 2 * j] = _mm512_shuffle_i64x2(t[k + j], t[k + j + 2], 0x88);
      u[k + 2 * j + 1] = _mm512_shuffle_i64x2(t[k + j], t[k + j + 2], 0xDD);
    }
  // u[0]: qwords 0 and 4 of pairs 0-3, u[1]: 2 and 6, u[2]: 1 and 5, u[3]: 3 and 7; u[4..7]
  // the same for pairs 4-7.
  constexpr int kFirst[4] = {0, 2, 1, 3};
  for (int j = 0; j < 4; ++j) {
    out[kFirst[j]] = _mm512_shuffle_i64x2(u[j], u[j + 4], 0x88);
    out[kFirst[j] + 4] = _mm512_shuffle_i64x2(u[j], u[j + 4], 0xDD);
  }
}
}  // namespace

void pack_lanes_blocks(const MatmulJob& job, int64_t r, __mmask16 rm, int64_t b0, int nb,
                       PackedBlock* out) {
  const LanesShape s = lanes_shape(job.type, job.in, job.out);
  const bool q4 = job.type == DType::Q4_0_LANES;
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const int64_t p = r / 2;
  if (p + 8 <= s.pairs) {
    // All 16 rows are stored (a padding row included): plain loads, transposed in registers.
    for (int64_t g = b0 / 8; g * 8 < b0 + nb; ++g) {
      __m512i in[8], blk[8];
      const int i0 = static_cast<int>(8 * g - b0);
      const int n = std::min(8, nb - i0);
      for (int k = 0; k < 8; ++k)
        in[k] = _mm512_castps_si512(_mm512_cvtph_ps(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(job.w + s.scales_at(p + k, g)))));
      rows_of_pairs(in, blk);
      for (int c = 0; c < n; ++c) out[i0 + c].d = _mm512_castsi512_ps(blk[c]);
      for (int v = 0; v < s.vecs; ++v) {
        for (int k = 0; k < 8; ++k)
          in[k] = _mm512_loadu_si512(job.w + s.codes_at(p + k, g) + 64 * v);
        rows_of_pairs(in, blk);
        for (int c = 0; c < n; ++c) {
          if (q4) {
            out[i0 + c].w[v] = _mm512_and_si512(blk[c], low4);  // elements 4v.., low nibbles
            out[i0 + c].w[v + 4] = _mm512_and_si512(_mm512_srli_epi32(blk[c], 4), low4);
          } else {
            out[i0 + c].w[v] = blk[c];  // already codes + 128
          }
        }
      }
    }
    return;
  }
  // The last rows of a matrix: masked gathers. Lane i = row r + i: pair p + i / 2, half i % 2;
  // each lane's block at the same offset within its pair.
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i pair = _mm512_mullo_epi32(_mm512_srli_epi32(lane, 1),
                                          _mm512_set1_epi32(static_cast<int>(s.pair_bytes)));
  const __m512i half = _mm512_and_si512(lane, _mm512_set1_epi32(1));
  const __m512i code_idx = _mm512_add_epi32(pair, _mm512_slli_epi32(half, 5));
  const __m512i scale_idx = _mm512_add_epi32(pair, _mm512_slli_epi32(half, 4));
  const __m512i zero = _mm512_setzero_si512();
  for (int i = 0; i < nb; ++i) {
    const int64_t b = b0 + i, g = b / 8, c = b % 8;
    const uint8_t* codes = job.w + s.codes_at(p, g) + 4 * c;
    const uint8_t* scales = job.w + s.scales_at(p, g) + 2 * c;
    out[i].d = _mm512_cvtph_ps(
        _mm512_cvtepi32_epi16(_mm512_mask_i32gather_epi32(zero, rm, scale_idx, scales, 1)));
    if (q4) {
      for (int v = 0; v < 4; ++v) {
        const __m512i w = _mm512_mask_i32gather_epi32(zero, rm, code_idx, codes + 64 * v, 1);
        out[i].w[v] = _mm512_and_si512(w, low4);  // elements 4v.., low nibbles
        out[i].w[v + 4] = _mm512_and_si512(_mm512_srli_epi32(w, 4), low4);  // 16 + 4v..
      }
    } else {
      for (int v = 0; v < 8; ++v)  // already codes + 128
        out[i].w[v] = _mm512_mask_i32gather_epi32(zero, rm, code_idx, codes + 64 * v, 1);
    }
  }
}

}  // namespace ug::kern

#include "kernels/avx512_target_end.h"

#endif
