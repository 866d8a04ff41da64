// The attention and activation kernels of every variant this CPU runs against plain loops.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/isa.h"
#include "tensor/half.h"

namespace ug {
namespace {

struct IsaGuard {
  Isa saved = active_isa();
  ~IsaGuard() { set_active_isa(saved); }
};

std::vector<Isa> all_isas() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (isa_supported(isa)) v.push_back(isa);
  return v;
}

TEST(AttentionKernels, ScoresAndWeightedSumMatchPlainLoops) {
  IsaGuard guard;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.f, 1.f);
  for (int hd : {16, 256, 512})
    for (int heads : {1, 2, 16})
      for (int64_t n : {1, 3, 4, 37})
        for (bool f16 : {true, false}) {
          const int64_t stride = hd * 2 + 16;  // rows of a wider cache row (other KV heads)
          std::vector<float> q(static_cast<size_t>(heads * hd)), kf(n * stride), vf(n * stride);
          std::vector<uint16_t> kh(kf.size()), vh(vf.size());
          for (float& x : q) x = dist(rng);
          for (size_t i = 0; i < kf.size(); ++i) {
            kh[i] = f32_to_f16(dist(rng));
            vh[i] = f32_to_f16(dist(rng));
            kf[i] = f16_to_f32(kh[i]);
            vf[i] = f16_to_f32(vh[i]);
          }
          const KvRows k = f16 ? KvRows{kh.data(), stride, true} : KvRows{kf.data(), stride, false};
          const KvRows v = f16 ? KvRows{vh.data(), stride, true} : KvRows{vf.data(), stride, false};
          std::vector<float> p(static_cast<size_t>(heads * n));
          for (float& x : p) x = std::fabs(dist(rng));
          for (Isa isa : all_isas()) {
            SCOPED_TRACE(std::string(isa_name(isa)) + " hd=" + std::to_string(hd) +
                         " heads=" + std::to_string(heads) + " n=" + std::to_string(n));
            set_active_isa(isa);
            std::vector<float> s(static_cast<size_t>(heads * n), NAN);
            attn_scores(q.data(), heads, hd, k, n, s.data(), n);
            std::vector<float> acc(static_cast<size_t>(heads * hd), 0.5f);
            attn_weighted_sum(p.data(), n, heads, hd, v, n, acc.data());
            for (int g = 0; g < heads; ++g) {
              for (int64_t j = 0; j < n; ++j) {
                double ref = 0, mag = 0;
                for (int e = 0; e < hd; ++e) {
                  ref += double(q[g * hd + e]) * kf[j * stride + e];
                  mag += std::fabs(double(q[g * hd + e]) * kf[j * stride + e]);
                }
                ASSERT_NEAR(s[g * n + j], ref, 1e-5 * mag + 1e-6) << "score " << g << "," << j;
              }
              for (int e = 0; e < hd; ++e) {
                double ref = 0.5, mag = 0.5;
                for (int64_t j = 0; j < n; ++j) {
                  ref += double(p[g * n + j]) * vf[j * stride + e];
                  mag += std::fabs(double(p[g * n + j]) * vf[j * stride + e]);
                }
                ASSERT_NEAR(acc[g * hd + e], ref, 1e-5 * mag) << "value " << g << "," << e;
              }
            }
          }
        }
}

TEST(AttentionKernels, ExpSumAndF16RoundingMatchTheLibrary) {
  IsaGuard guard;
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-100.f, 10.f);
  for (int64_t n : {1, 15, 16, 17, 1000}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = dist(rng);
    for (Isa isa : all_isas()) {
      set_active_isa(isa);
      std::vector<float> e = x;
      const float sum = attn_exp(e.data(), n, 3.f);
      double ref_sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        const double ref = std::exp(double(x[j] - 3.f));  // the same f32 argument
        ref_sum += ref;
        ASSERT_NEAR(e[j], ref, 2e-6 * ref + 1e-37) << isa_name(isa) << " x=" << x[j];
      }
      EXPECT_NEAR(sum, ref_sum, 1e-5 * ref_sum + 1e-36) << isa_name(isa);
      std::vector<uint16_t> h(static_cast<size_t>(n));
      std::vector<float> r = x;
      store_f16(x.data(), h.data(), n);
      round_through_f16(r.data(), n);
      for (int64_t j = 0; j < n; ++j) {
        ASSERT_EQ(h[j], f32_to_f16(x[j])) << isa_name(isa);
        ASSERT_EQ(r[j], f16_to_f32(f32_to_f16(x[j]))) << isa_name(isa);
      }
    }
  }
}

TEST(ActivationKernels, GegluMatchesTheFormula) {
  IsaGuard guard;
  std::mt19937 rng(13);
  std::normal_distribution<float> dist(0.f, 4.f);
  const int64_t n = 1001;
  std::vector<float> g(n), u(n);
  for (int64_t i = 0; i < n; ++i) {
    g[i] = dist(rng);
    u[i] = dist(rng);
  }
  g[0] = 60.f;
  g[1] = -60.f;
  g[2] = 0.f;
  for (Isa isa : all_isas()) {
    set_active_isa(isa);
    std::vector<float> y = g;
    geglu_tanh_f32(y.data(), u.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double z = g[i];
      const double ref =
          0.5 * z * (1 + std::tanh(0.7978845608028654 * (z + 0.044715 * z * z * z))) * u[i];
      ASSERT_NEAR(y[i], ref, 1e-6 * std::fabs(z * u[i]) + 1e-30) << isa_name(isa) << " z=" << z;
    }
  }
}

}  // namespace
}  // namespace ug
