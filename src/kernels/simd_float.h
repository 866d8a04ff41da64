// The f32 kernels of the decoder's row operations and attention loops, written once over a small
// vector type V and compiled per instruction set (float_ops_{avx2,avx512,neon}.cpp). Include only
// inside a region compiled for the target (after `#pragma GCC target`), after the file has defined
// its V: everything here has internal linkage, so no function is ever shared between targets.
//
// V provides (N float lanes; M a lane mask):
//   zero set1 load store load_n store_n (first n < N lanes; the rest read as 0 / left alone)
//   load_f16 store_f16 (N halves, round to nearest even)
//   add sub mul div fma(a,b,c)=a·b+c fnma(a,b,c)=c−a·b min max (NaN in the first operand wins)
//   abs lt select(m, if_true, if_false) copysign(magnitude, sign) round (to nearest even)
//   pow2i(n) = 2^n for integral n in [−126, 127]   reduce_add
//
// No lambdas here: a lambda's function-pointer thunk is not compiled for the region's target.
// Every element of an elementwise op goes through the same instructions wherever it sits in a
// vector, a row or a chunk of work (tails use load_n / store_n, not other formulas), so a value
// never depends on how a batch is split. Reductions (rms_norm, the attention dot products) depend
// only on the row's own length.
#pragma once

#ifndef UG_SIMD_FLOAT_VEC
#error "define the vector type V and UG_SIMD_FLOAT_VEC before including kernels/simd_float.h"
#endif

namespace ug::kern {
namespace {
namespace simd {

using F = V::F;
constexpr int N = V::N;

// e^x, relative error ~2e-7 for x in [−87, 88] (clamped there; NaN stays NaN): x = n·ln2 + r,
// |r| ≤ ln2/2, e^r by its Taylor polynomial of degree 6, times 2^n.
inline F exp(F x) {
  x = V::max(V::min(x, V::set1(88.f)), V::set1(-87.f));
  const F n = V::round(V::mul(x, V::set1(1.44269504f)));
  F r = V::fnma(n, V::set1(0.693145751953125f), x);  // ln2 in two parts: exact n·hi
  r = V::fnma(n, V::set1(1.428606765330187e-06f), r);
  F p = V::set1(1.f / 720);
  p = V::fma(p, r, V::set1(1.f / 120));
  p = V::fma(p, r, V::set1(1.f / 24));
  p = V::fma(p, r, V::set1(1.f / 6));
  p = V::fma(p, r, V::set1(0.5f));
  p = V::fma(p, r, V::set1(1.f));
  p = V::fma(p, r, V::set1(1.f));
  return V::mul(p, V::pow2i(n));
}

// tanh(y) within a few ulps: for |y| < 0.5 its odd Taylor series to y^15 (truncation < 1e-8
// relative), above 1 − 2/(1 + e^(2|y|)) with y's sign, which has no cancellation there
// (the result is ≥ 0.46). ±inf give ±1, NaN stays NaN.
inline F tanh(F y) {
  const F a = V::abs(y), y2 = V::mul(y, y);
  F p = V::set1(-929569.f / 638512875);
  p = V::fma(p, y2, V::set1(21844.f / 6081075));
  p = V::fma(p, y2, V::set1(-1382.f / 155925));
  p = V::fma(p, y2, V::set1(62.f / 2835));
  p = V::fma(p, y2, V::set1(-17.f / 315));
  p = V::fma(p, y2, V::set1(2.f / 15));
  p = V::fma(p, y2, V::set1(-1.f / 3));
  const F small = V::fma(V::mul(p, y2), y, y);
  const F e = exp(V::add(a, a));
  const F big = V::sub(V::set1(1.f), V::div(V::set1(2.f), V::add(V::set1(1.f), e)));
  return V::select(V::lt(a, V::set1(0.5f)), small, V::copysign(big, y));
}

inline float sum_squares(const float* x, int64_t n) {
  F a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    const F x0 = V::load(x + i), x1 = V::load(x + i + N);
    const F x2 = V::load(x + i + 2 * N), x3 = V::load(x + i + 3 * N);
    a0 = V::fma(x0, x0, a0);
    a1 = V::fma(x1, x1, a1);
    a2 = V::fma(x2, x2, a2);
    a3 = V::fma(x3, x3, a3);
  }
  for (; i + N <= n; i += N) {
    const F v = V::load(x + i);
    a0 = V::fma(v, v, a0);
  }
  if (i < n) {
    const F v = V::load_n(x + i, n - i);
    a1 = V::fma(v, v, a1);
  }
  return V::reduce_add(V::add(V::add(a0, a1), V::add(a2, a3)));
}

// y = x · (mean(x²) + eps)^(−1/2) · w (w may be null); y may be x.
inline void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y) {
  const double ms = static_cast<double>(sum_squares(x, n)) / static_cast<double>(n);
  const F scale = V::set1(static_cast<float>(1.0 / std::sqrt(ms + static_cast<double>(eps))));
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const F v = V::mul(V::load(x + i), scale);
    V::store(y + i, w ? V::mul(v, V::load(w + i)) : v);
  }
  if (i < n) {
    const int64_t m = n - i;
    const F v = V::mul(V::load_n(x + i, m), scale);
    V::store_n(y + i, w ? V::mul(v, V::load_n(w + i, m)) : v, m);
  }
}

inline void add(float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + N <= n; i += N) V::store(x + i, V::add(V::load(x + i), V::load(y + i)));
  if (i < n) V::store_n(x + i, V::add(V::load_n(x + i, n - i), V::load_n(y + i, n - i)), n - i);
}

// x = (x + y) · s.
inline void add_scaled(float* x, const float* y, float s, int64_t n) {
  const F sv = V::set1(s);
  int64_t i = 0;
  for (; i + N <= n; i += N) V::store(x + i, V::mul(V::add(V::load(x + i), V::load(y + i)), sv));
  if (i < n)
    V::store_n(x + i, V::mul(V::add(V::load_n(x + i, n - i), V::load_n(y + i, n - i)), sv), n - i);
}

// NeoX RoPE of `heads` heads of hd with the pair angles' cos/sin for pairs [0, n_rot).
inline void rope_neox(float* x, int heads, int64_t hd, int64_t n_rot, const float* cs,
                      const float* sn) {
  const int64_t half = hd / 2;
  for (int h = 0; h < heads; ++h) {
    float* lo = x + h * hd;
    float* hi = lo + half;
    int64_t d = 0;
    for (; d + N <= n_rot; d += N) {
      const F x0 = V::load(lo + d), x1 = V::load(hi + d);
      const F c = V::load(cs + d), s = V::load(sn + d);
      V::store(lo + d, V::fnma(x1, s, V::mul(x0, c)));  // x0·c − x1·s
      V::store(hi + d, V::fma(x0, s, V::mul(x1, c)));   // x1·c + x0·s
    }
    if (d < n_rot) {
      const int64_t m = n_rot - d;
      const F x0 = V::load_n(lo + d, m), x1 = V::load_n(hi + d, m);
      const F c = V::load_n(cs + d, m), s = V::load_n(sn + d, m);
      V::store_n(lo + d, V::fnma(x1, s, V::mul(x0, c)), m);
      V::store_n(hi + d, V::fma(x0, s, V::mul(x1, c)), m);
    }
  }
}

inline F softcap(F z, F cap, F inv) { return V::mul(cap, tanh(V::mul(z, inv))); }

inline void softcap(float* z, int64_t n, float cap) {
  const F c = V::set1(cap), inv = V::set1(1.0f / cap);
  int64_t i = 0;
  for (; i + N <= n; i += N) V::store(z + i, softcap(V::load(z + i), c, inv));
  if (i < n) V::store_n(z + i, softcap(V::load_n(z + i, n - i), c, inv), n - i);
}

// gelu_tanh(z)·u with gelu_tanh(z) = 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))).
inline F geglu(F z, F u) {
  const F z3 = V::mul(V::mul(z, z), z);
  const F t = tanh(V::mul(V::set1(0.7978845608028654f), V::fma(V::set1(0.044715f), z3, z)));
  return V::mul(V::mul(V::mul(V::set1(0.5f), z), V::add(V::set1(1.f), t)), u);
}

inline void geglu_tanh(float* g, const float* u, int64_t n) {
  int64_t i = 0;
  for (; i + N <= n; i += N) V::store(g + i, geglu(V::load(g + i), V::load(u + i)));
  if (i < n) V::store_n(g + i, geglu(V::load_n(g + i, n - i), V::load_n(u + i, n - i)), n - i);
}

// ---- attention loops (contracts: kernels/attention.h) ----------------------------------------

inline void store_f16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + N <= n; i += N) V::store_f16(dst + i, V::load(src + i));
  if (i < n) {
    uint16_t h[N];
    V::store_f16(h, V::load_n(src + i, n - i));
    std::memcpy(dst + i, h, static_cast<size_t>(n - i) * sizeof(uint16_t));
  }
}

inline F round_f16(F v) {
  uint16_t h[N];
  V::store_f16(h, v);
  return V::load_f16(h);
}

inline void round_through_f16(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + N <= n; i += N) V::store(x + i, round_f16(V::load(x + i)));
  if (i < n) V::store_n(x + i, round_f16(V::load_n(x + i, n - i)), n - i);
}

inline float attn_exp(float* s, int64_t n, float mx) {
  const F m = V::set1(mx);
  F sum = V::zero();
  int64_t j = 0;
  for (; j + N <= n; j += N) {
    const F e = exp(V::sub(V::load(s + j), m));
    V::store(s + j, e);
    sum = V::add(sum, e);
  }
  float total = V::reduce_add(sum);
  if (j < n) {
    V::store_n(s + j, exp(V::sub(V::load_n(s + j, n - j), m)), n - j);
    for (; j < n; ++j) total += s[j];
  }
  return total;
}

// Keys per tile: a tile of f32 rows stays near 32 KB.
inline int64_t tile_rows(int hd) { return std::max<int64_t>(4, 8192 / hd); }

inline float* tile_buffer(int64_t n) {
  thread_local std::vector<float> buf;
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  return buf.data();
}

// Rows [j0, j0 + m) of r as f32: in place (f32 rows) or converted into buf [m][hd].
inline const float* rows_f32(const KvRows& r, int64_t j0, int64_t m, int hd, float* buf,
                             int64_t* stride) {
  if (!r.f16) {
    *stride = r.stride;
    return static_cast<const float*>(r.base) + j0 * r.stride;
  }
  const uint16_t* src = static_cast<const uint16_t*>(r.base) + j0 * r.stride;
  for (int64_t j = 0; j < m; ++j)
    for (int e = 0; e < hd; e += N) V::store(buf + j * hd + e, V::load_f16(src + j * r.stride + e));
  *stride = hd;
  return buf;
}

// Scores of R rows (k0 at stride ks) against q [hd]: each row has two accumulators (even and
// odd vectors of e), summed the same way whatever R is, so a score never depends on the rows it
// was computed with. hd is a multiple of 2N.
template <int R>
inline void score_rows(const float* q, const float* k0, int64_t ks, int hd, float* out) {
  F a[R][2];
  for (int r = 0; r < R; ++r) a[r][0] = a[r][1] = V::zero();
  for (int e = 0; e < hd; e += 2 * N) {
    const F q0 = V::load(q + e), q1 = V::load(q + e + N);
    for (int r = 0; r < R; ++r) {
      a[r][0] = V::fma(q0, V::load(k0 + r * ks + e), a[r][0]);
      a[r][1] = V::fma(q1, V::load(k0 + r * ks + e + N), a[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) out[r] = V::reduce_add(V::add(a[r][0], a[r][1]));
}

// hd must be a multiple of 16 (attn_path).
inline void attn_scores(const float* q, int heads, int hd, const KvRows& k, int64_t n, float* s,
                        int64_t s_stride) {
  const int64_t tile = tile_rows(hd);
  float* buf = tile_buffer(tile * hd);
  for (int64_t j0 = 0; j0 < n; j0 += tile) {
    const int64_t m = std::min(tile, n - j0);
    int64_t ks;
    const float* kf = rows_f32(k, j0, m, hd, buf, &ks);
    for (int g = 0; g < heads; ++g) {
      const float* qg = q + g * hd;
      float* sg = s + g * s_stride + j0;
      int64_t j = 0;
      for (; j + 4 <= m; j += 4) score_rows<4>(qg, kf + j * ks, ks, hd, sg + j);
      for (; j < m; ++j) score_rows<1>(qg, kf + j * ks, ks, hd, sg + j);
    }
  }
}

// acc[g][e] += Σ_j p[g][j]·v_j[e], accumulated in position order (runs can be cut anywhere).
inline void attn_weighted_sum(const float* p, int64_t p_stride, int heads, int hd, const KvRows& v,
                              int64_t n, float* acc) {
  const int64_t tile = tile_rows(hd);
  float* buf = tile_buffer(tile * hd);
  for (int64_t j0 = 0; j0 < n; j0 += tile) {
    const int64_t m = std::min(tile, n - j0);
    int64_t vs;
    const float* vf = rows_f32(v, j0, m, hd, buf, &vs);
    for (int g = 0; g < heads; ++g) {
      const float* pg = p + g * p_stride + j0;
      float* ag = acc + g * hd;
      int e = 0;
      for (; e + 4 * N <= hd; e += 4 * N) {
        F a0 = V::load(ag + e), a1 = V::load(ag + e + N);
        F a2 = V::load(ag + e + 2 * N), a3 = V::load(ag + e + 3 * N);
        for (int64_t j = 0; j < m; ++j) {
          const F w = V::set1(pg[j]);
          const float* vj = vf + j * vs + e;
          a0 = V::fma(w, V::load(vj), a0);
          a1 = V::fma(w, V::load(vj + N), a1);
          a2 = V::fma(w, V::load(vj + 2 * N), a2);
          a3 = V::fma(w, V::load(vj + 3 * N), a3);
        }
        V::store(ag + e, a0);
        V::store(ag + e + N, a1);
        V::store(ag + e + 2 * N, a2);
        V::store(ag + e + 3 * N, a3);
      }
      for (; e < hd; e += N) {
        F a = V::load(ag + e);
        for (int64_t j = 0; j < m; ++j) a = V::fma(V::set1(pg[j]), V::load(vf + j * vs + e), a);
        V::store(ag + e, a);
      }
    }
  }
}

// The variant's table: every entry from here (AVX-512 replaces the attention loops by its own).
inline FloatOps table() {
  return FloatOps{rms_norm,    add,      add_scaled,        rope_neox, softcap,          geglu_tanh,
                  attn_scores, attn_exp, attn_weighted_sum, store_f16, round_through_f16};
}

}  // namespace simd
}  // namespace
}  // namespace ug::kern
