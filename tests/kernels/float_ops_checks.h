// Checks of the f32 row operations, activations and attention f32 loops for the active kernel
// variant, against double-precision formulas, shared by the x86 kernel tests (row_ops_test.cpp,
// attention_kernels_test.cpp) and the cross-built NEON checker (tests/neon), which has no
// GoogleTest. Each returns "" when every check holds, else a description of the first failure.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/row_ops.h"
#include "tensor/half.h"

namespace ug::test {

// The first failure of a check: `first(cond, parts...)` records parts when cond is false.
class FirstFailure {
 public:
  template <class... Parts>
  bool operator()(bool ok, const Parts&... parts) {
    if (!ok && what_.empty()) {
      std::ostringstream s;
      (s << ... << parts);
      what_ = s.str();
    }
    return ok;
  }
  const std::string& what() const { return what_; }

 private:
  std::string what_;
};

inline std::vector<float> normal_values(int64_t n, float sd, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.f, sd);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Lengths around every vector width (4, 8, 16) and the 12B's head and row widths.
inline const int64_t kRowLengths[] = {1,  3,  4,  5,  7,   8,   9,   15,  16,
                                      17, 31, 33, 64, 100, 256, 512, 3840};

inline std::string check_rms_norm() {
  FirstFailure fail;
  std::mt19937 rng(1);
  for (int64_t n : kRowLengths) {
    const std::vector<float> x = normal_values(n, 3.f, rng), w = normal_values(n, 1.f, rng);
    double ss = 0;
    for (float v : x) ss += double(v) * v;
    const double scale = 1.0 / std::sqrt(ss / double(n) + 1e-6);
    for (bool weighted : {true, false}) {
      std::vector<float> y(static_cast<size_t>(n), NAN), inplace = x;
      rms_norm_f32(x.data(), weighted ? w.data() : nullptr, n, 1e-6f, y.data());
      rms_norm_f32(inplace.data(), weighted ? w.data() : nullptr, n, 1e-6f, inplace.data());
      fail(same_bits(y, inplace), "rms_norm n=", n, ": in place differs");
      for (int64_t i = 0; i < n; ++i) {
        const double ref = x[i] * scale * (weighted ? w[i] : 1.0);
        fail(std::fabs(y[i] - ref) <= 1e-6 * std::fabs(ref) + 1e-12, "rms_norm n=", n, " i=", i,
             ": ", y[i], " vs ", ref);
      }
    }
  }
  return fail.what();
}

inline std::string check_residual_adds() {
  FirstFailure fail;
  std::mt19937 rng(2);
  for (int64_t n : kRowLengths) {
    const std::vector<float> x = normal_values(n, 10.f, rng), y = normal_values(n, 1.f, rng);
    std::vector<float> sum = x, scaled = x, a = x, b = x;
    for (int64_t i = 0; i < n; ++i) {
      sum[i] = x[i] + y[i];
      scaled[i] = (x[i] + y[i]) * 0.37f;
    }
    add_f32(a.data(), y.data(), n);
    add_scaled_f32(b.data(), y.data(), 0.37f, n);
    fail(same_bits(a, sum), "add n=", n, " differs from x + y");
    fail(same_bits(b, scaled), "add_scaled n=", n, " differs from (x + y) * s");
  }
  return fail.what();
}

inline std::string check_rope() {
  FirstFailure fail;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> angle(-3.2f, 3.2f);
  for (int64_t hd : {8, 16, 64, 256, 512})
    for (int64_t n_rot : {hd / 2, hd / 8, int64_t{3}})
      for (int heads : {1, 2, 16}) {
        const std::vector<float> x = normal_values(heads * hd, 2.f, rng);
        std::vector<float> cs(static_cast<size_t>(n_rot)), sn(cs.size());
        for (int64_t d = 0; d < n_rot; ++d) {
          const float a = angle(rng);
          cs[d] = std::cos(a);
          sn[d] = std::sin(a);
        }
        std::vector<float> y = x;
        rope_neox_f32(y.data(), heads, hd, n_rot, cs.data(), sn.data());
        const int64_t half = hd / 2;
        for (int h = 0; h < heads; ++h)
          for (int64_t d = 0; d < half; ++d) {
            const float* v = &x[h * hd];
            const float* r = &y[h * hd];
            if (d >= n_rot) {
              fail(r[d] == v[d] && r[d + half] == v[d + half], "rope hd=", hd, " n_rot=", n_rot,
                   ": pair ", d, " past n_rot moved");
              continue;
            }
            const double lo = double(v[d]) * cs[d] - double(v[d + half]) * sn[d];
            const double hi = double(v[d + half]) * cs[d] + double(v[d]) * sn[d];
            const double tol = 2e-7 * (std::fabs(v[d]) + std::fabs(v[d + half]));
            fail(std::fabs(r[d] - lo) <= tol && std::fabs(r[d + half] - hi) <= tol, "rope hd=", hd,
                 " n_rot=", n_rot, " heads=", heads, " pair ", d, ": ", r[d], ",", r[d + half],
                 " vs ", lo, ",", hi);
          }
      }
  return fail.what();
}

// The SIMD tanh is within a few f32 ulps of the library's everywhere (measured: 2.3e-7 relative,
// like std::tanh's own 2.1e-7 after the f32 rounding of its argument), on both sides of its switch
// from the series (|y| < 0.5) to the exponential form, in saturation and at special values; NaN
// stays NaN through softcap, GeGLU and RMSNorm (so a broken model's logits show it).
inline std::string check_activations() {
  FirstFailure fail;
  std::vector<float> z;
  for (float v = -100.f; v <= 100.f; v += 0.0137f) z.push_back(v);
  for (float v : {0.f, -0.f, 1e-30f, -1e-20f, 14.99f, 15.f, 15.01f, -15.f, 1e30f, -1e30f})
    z.push_back(v);
  for (float cap : {30.f, 1.f}) {
    std::vector<float> y = z;
    softcap_f32(y.data(), static_cast<int64_t>(y.size()), cap);
    for (size_t i = 0; i < z.size(); ++i) {
      const double ref = cap * std::tanh(double(z[i] * (1.0f / cap)));
      fail(std::fabs(y[i] - ref) <= 4e-7 * std::fabs(ref) + 1e-38, "softcap cap=", cap, " z=", z[i],
           ": ", y[i], " vs ", ref);
    }
  }
  std::mt19937 rng(13);
  std::vector<float> g = normal_values(1001, 4.f, rng), u = normal_values(1001, 4.f, rng);
  g[0] = 60.f;
  g[1] = -60.f;
  g[2] = 0.f;
  std::vector<float> y = g;
  geglu_tanh_f32(y.data(), u.data(), static_cast<int64_t>(y.size()));
  for (size_t i = 0; i < y.size(); ++i) {
    const double x = g[i];
    const double ref =
        0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))) * u[i];
    fail(std::fabs(y[i] - ref) <= 1e-6 * std::fabs(x * u[i]) + 1e-30, "geglu z=", x, ": ", y[i],
         " vs ", ref);
  }
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> special = {inf, -inf, NAN, 0.f};
  softcap_f32(special.data(), 4, 30.f);
  fail(special[0] == 30.f && special[1] == -30.f && special[3] == 0.f,
       "softcap of inf, -inf, 0: ", special[0], ", ", special[1], ", ", special[3]);
  fail(std::isnan(special[2]), "softcap turned a NaN into ", special[2]);
  std::vector<float> gn = {NAN, 1.f}, un = {1.f, NAN};
  geglu_tanh_f32(gn.data(), un.data(), 2);
  fail(std::isnan(gn[0]) && std::isnan(gn[1]), "geglu lost a NaN");
  std::vector<float> xn = {1.f, NAN, 2.f};
  rms_norm_f32(xn.data(), nullptr, 3, 1e-6f, xn.data());
  fail(std::isnan(xn[0]), "rms_norm lost a NaN");
  return fail.what();
}

// Elementwise results do not depend on where an element sits (lane, tail, piece): the layer ops
// may split a batch's values anywhere and a token's values stay the same bits.
inline std::string check_elementwise_split() {
  FirstFailure fail;
  std::mt19937 rng(4);
  const int64_t n = 1000;
  const std::vector<float> g = normal_values(n, 3.f, rng), u = normal_values(n, 1.f, rng);
  std::vector<float> whole_g = g, whole_s = g;
  geglu_tanh_f32(whole_g.data(), u.data(), n);
  softcap_f32(whole_s.data(), n, 30.f);
  for (int64_t cut : {1, 3, 7, 13, 64, 333}) {
    std::vector<float> part_g = g, part_s = g;
    for (int64_t i = 0; i < n; i += cut) {
      const int64_t m = std::min(cut, n - i);
      geglu_tanh_f32(part_g.data() + i, u.data() + i, m);
      softcap_f32(part_s.data() + i, m, 30.f);
    }
    fail(same_bits(part_g, whole_g), "geglu in pieces of ", cut, " differs");
    fail(same_bits(part_s, whole_s), "softcap in pieces of ", cut, " differs");
  }
  return fail.what();
}

// Random q [heads][hd], K/V rows (f16 values, stride wider than hd) and p [heads][n] ≥ 0.
struct AttnCase {
  int heads, hd;
  int64_t n, stride;
  std::vector<float> q, kf, vf, p;
  std::vector<uint16_t> kh, vh;
  AttnCase(int heads_, int hd_, int64_t n_, std::mt19937& rng)
      : heads(heads_), hd(hd_), n(n_), stride(2 * hd_ + 32) {
    std::normal_distribution<float> dist(0.f, 1.f);
    q.resize(static_cast<size_t>(heads * hd));
    for (float& x : q) x = dist(rng);
    kf.resize(static_cast<size_t>(n * stride));
    vf.resize(kf.size());
    kh.resize(kf.size());
    vh.resize(kf.size());
    for (size_t i = 0; i < kf.size(); ++i) {
      kh[i] = f32_to_f16(dist(rng));
      vh[i] = f32_to_f16(dist(rng));
      kf[i] = f16_to_f32(kh[i]);
      vf[i] = f16_to_f32(vh[i]);
    }
    p.resize(static_cast<size_t>(heads * n));
    for (float& x : p) x = std::fabs(dist(rng));
  }
  // f16 bits, or the same values as f32 rows that stand for f16 cache rows.
  KvRows k(bool f16) const {
    return f16 ? KvRows{kh.data(), stride, true} : KvRows{kf.data(), stride, false, true};
  }
  KvRows v(bool f16) const {
    return f16 ? KvRows{vh.data(), stride, true} : KvRows{vf.data(), stride, false, true};
  }
};

// The f32 loops (the caller turns bf16 off): scores and weighted sums against double sums, over
// f16 rows, f32 rows holding f16 values (bit for bit the f16 rows' results) and plain f32 rows.
inline std::string check_attention_loops() {
  FirstFailure fail;
  std::mt19937 rng(5);
  for (int hd : {16, 256, 512})
    for (int heads : {1, 2, 16})
      for (int64_t n : {1, 3, 4, 37}) {
        const AttnCase c(heads, hd, n, rng);
        std::vector<float> s_f16, acc_f16;
        for (int rows = 0; rows < 3; ++rows) {  // f16 bits, f32 holding f16 values, plain f32
          const KvRows k = rows == 2 ? KvRows{c.kf.data(), c.stride, false} : c.k(rows == 0);
          const KvRows v = rows == 2 ? KvRows{c.vf.data(), c.stride, false} : c.v(rows == 0);
          std::vector<float> s(static_cast<size_t>(heads * n), NAN);
          attn_scores(c.q.data(), heads, hd, k, n, s.data(), n);
          std::vector<float> acc(static_cast<size_t>(heads * hd), 0.5f);
          attn_weighted_sum(c.p.data(), n, heads, hd, v, n, acc.data());
          for (int g = 0; g < heads; ++g) {
            for (int64_t j = 0; j < n; ++j) {
              double ref = 0, mag = 0;
              for (int e = 0; e < hd; ++e) {
                ref += double(c.q[g * hd + e]) * c.kf[j * c.stride + e];
                mag += std::fabs(double(c.q[g * hd + e]) * c.kf[j * c.stride + e]);
              }
              fail(std::fabs(s[g * n + j] - ref) <= 1e-5 * mag + 1e-6, "score hd=", hd,
                   " heads=", heads, " n=", n, " rows ", rows, " (", g, ",", j, "): ", s[g * n + j],
                   " vs ", ref);
            }
            for (int e = 0; e < hd; ++e) {
              double ref = 0.5, mag = 0.5;
              for (int64_t j = 0; j < n; ++j) {
                ref += double(c.p[g * n + j]) * c.vf[j * c.stride + e];
                mag += std::fabs(double(c.p[g * n + j]) * c.vf[j * c.stride + e]);
              }
              fail(std::fabs(acc[g * hd + e] - ref) <= 1e-5 * mag, "weighted sum hd=", hd,
                   " heads=", heads, " n=", n, " rows ", rows, " (", g, ",", e,
                   "): ", acc[g * hd + e], " vs ", ref);
            }
          }
          if (rows == 0) {
            s_f16 = s;
            acc_f16 = acc;
          } else if (rows == 1) {
            fail(same_bits(s, s_f16) && same_bits(acc, acc_f16), "hd=", hd, " heads=", heads,
                 " n=", n, ": f32 rows holding f16 values differ from the f16 rows");
          }
        }
      }
  return fail.what();
}

// Runs are cut at the cache ring's wrap, between cached and new rows, and by the parallel split:
// a score must come out the same, bit for bit, wherever its run starts, and so must a weighted
// sum accumulated run after run (then chunked prefill, one-chunk prefill and token-by-token
// decoding agree exactly). For the active variant and bf16 mode.
inline std::string check_attention_runs() {
  FirstFailure fail;
  std::mt19937 rng(33);
  for (int hd : {256, 512})
    for (int heads : {1, 2, 3, 16}) {
      const int64_t n = 61;
      const AttnCase c(heads, hd, n, rng);
      std::vector<float> whole(static_cast<size_t>(heads * n));
      attn_scores(c.q.data(), heads, hd, c.k(true), n, whole.data(), n);
      for (int64_t cut : {1, 2, 3, 5, 30}) {
        std::vector<float> runs(whole.size(), NAN);
        for (int64_t j = 0; j < n; j += cut) {
          const int64_t m = std::min(cut, n - j);
          const KvRows k{c.kh.data() + j * c.stride, c.stride, true};
          attn_scores(c.q.data(), heads, hd, k, m, runs.data() + j, n);
        }
        fail(same_bits(runs, whole), "hd=", hd, " heads=", heads, ": scores in runs of ", cut,
             " differ");
      }
      std::vector<float> acc_whole(static_cast<size_t>(heads * hd), 0.25f);
      attn_weighted_sum(c.p.data(), n, heads, hd, c.v(true), n, acc_whole.data());
      for (int64_t cut : {1, 2, 3, 5, 30}) {
        std::vector<float> acc(acc_whole.size(), 0.25f);
        for (int64_t j = 0; j < n; j += cut) {
          const int64_t m = std::min(cut, n - j);
          // Alternate cache rows (f16 bits) and batch rows (f32 holding f16 values).
          const KvRows v = (j / cut) % 2 ? KvRows{c.vf.data() + j * c.stride, c.stride, false, true}
                                         : KvRows{c.vh.data() + j * c.stride, c.stride, true};
          attn_weighted_sum(c.p.data() + j, n, heads, hd, v, m, acc.data());
        }
        fail(same_bits(acc, acc_whole), "hd=", hd, " heads=", heads, ": weighted sum in runs of ",
             cut, " differs");
      }
    }
  return fail.what();
}

inline std::string check_exp_and_f16() {
  FirstFailure fail;
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-100.f, 10.f);
  for (int64_t n : {1, 15, 16, 17, 1000}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = dist(rng);
    std::vector<float> e = x;
    const float sum = attn_exp(e.data(), n, 3.f);
    double ref_sum = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double ref = std::exp(double(x[j] - 3.f));  // the same f32 argument
      ref_sum += ref;
      fail(std::fabs(e[j] - ref) <= 2e-6 * ref + 1e-37, "exp(", x[j] - 3.f, "): ", e[j], " vs ",
           ref);
    }
    fail(std::fabs(sum - ref_sum) <= 1e-5 * ref_sum + 1e-36, "exp sum n=", n, ": ", sum, " vs ",
         ref_sum);
    std::vector<uint16_t> h(static_cast<size_t>(n));
    std::vector<float> r = x;
    store_f16(x.data(), h.data(), n);
    round_through_f16(r.data(), n);
    for (int64_t j = 0; j < n; ++j) {
      fail(h[j] == f32_to_f16(x[j]), "store_f16(", x[j], ") = ", h[j]);
      fail(r[j] == f16_to_f32(f32_to_f16(x[j])), "round_through_f16(", x[j], ") = ", r[j]);
    }
  }
  return fail.what();
}

}  // namespace ug::test
