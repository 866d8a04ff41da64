// The attention kernels of every variant this CPU runs against plain loops (the f32 checks are
// float_ops_checks.h's, shared with the NEON checker; the bf16 ones are here).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "float_ops_checks.h"
#include "kernels/attention.h"
#include "kernels/float_ops_impl.h"
#include "kernels/isa.h"
#include "tensor/half.h"

namespace ug {
namespace {

using test::AttnCase;

struct IsaGuard {
  Isa saved = active_isa();
  AttnBf16 saved_bf16 = attn_bf16();
  ~IsaGuard() {
    set_active_isa(saved);
    set_attn_bf16(saved_bf16);
  }
};

std::vector<Isa> all_isas() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon})
    if (isa_supported(isa)) v.push_back(isa);
  return v;
}

// The f32 loops of every variant; the bf16 loops are checked below with their own bounds.
TEST(AttentionKernels, ScoresAndWeightedSumMatchPlainLoops) {
  IsaGuard guard;
  set_attn_bf16(AttnBf16::Off);
  for (Isa isa : all_isas()) {
    set_active_isa(isa);
    EXPECT_EQ(test::check_attention_loops(), "") << isa_name(isa);
  }
}

// f32 → bf16 bits, round to nearest even (finite values), as vcvtne2ps2bf16 does.
uint16_t bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

double bf16_round(float x) {
  const uint32_t u = static_cast<uint32_t>(bf16_bits(x)) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// The bf16 loops round q, K, V and p to bf16 (nearest even: relative error ≤ u = 2^-8, an 8-bit
// significand), so each product q_e·k_e (p_j·v_j[e]) is off by at most (2u + u²) of its size,
// and the f32 accumulation adds well under 1e-5 of Σ|products| at these lengths:
// |got − exact| ≤ (2^-7 + 2^-16 + 1e-5) · Σ|products|. Against the same sums of the bf16-rounded
// inputs (exact products) only the f32 accumulation remains: ≤ 1e-5 · Σ|products|, which catches
// a dropped or doubled product that the first bound would hide.
constexpr double kBf16Rel = 1.0 / 128 + 1.0 / 65536 + 1e-5;

// got against init + Σ a(k)·b(k) over k < len: within f32 rounding of the sum of bf16-rounded
// products, and within kBf16Rel of the exact sum (both relative to Σ |a·b|).
template <class A, class B>
testing::AssertionResult near_bf16_dot(double got, double init, int len, A a, B b) {
  double exact = init, rounded = init, mag = std::fabs(init);
  for (int k = 0; k < len; ++k) {
    exact += double(a(k)) * b(k);
    rounded += bf16_round(a(k)) * bf16_round(b(k));
    mag += std::fabs(double(a(k)) * b(k));
  }
  if (std::fabs(got - rounded) > 1e-5 * mag)
    return testing::AssertionFailure() << got << " vs bf16-rounded " << rounded;
  if (std::fabs(got - exact) > kBf16Rel * mag)
    return testing::AssertionFailure() << got << " vs exact " << exact;
  return testing::AssertionSuccess();
}

TEST(AttentionKernels, Bf16LoopsMatchDoublePrecision) {
  if (!isa_has_avx512_bf16()) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  IsaGuard guard;
  set_active_isa(Isa::Avx512);
  set_attn_bf16(AttnBf16::Always);
  std::mt19937 rng(21);
  for (int hd : {32, 64, 256, 512})
    for (int heads = 1; heads <= 16; ++heads)
      for (int64_t n : {1, 2, 7, 37, 77}) {
        if ((hd < 256 && heads % 5 != 1) || (hd == 512 && n == 37)) continue;  // time
        const AttnCase c(heads, hd, n, rng);
        std::vector<float> s_f16, acc_f16;
        for (bool f16 : {true, false}) {
          SCOPED_TRACE("hd=" + std::to_string(hd) + " heads=" + std::to_string(heads) +
                       " n=" + std::to_string(n) + (f16 ? " f16 rows" : " f32 rows"));
          ASSERT_EQ(attn_path(heads, hd, c.k(f16)), AttnPath::Bf16);
          std::vector<float> s(static_cast<size_t>(heads * n), NAN);
          attn_scores(c.q.data(), heads, hd, c.k(f16), n, s.data(), n);
          std::vector<float> acc(static_cast<size_t>(heads * hd), 0.5f);
          attn_weighted_sum(c.p.data(), n, heads, hd, c.v(f16), n, acc.data());
          for (int g = 0; g < heads; ++g) {
            for (int64_t j = 0; j < n; ++j)
              ASSERT_TRUE(near_bf16_dot(
                  s[g * n + j], 0.0, hd, [&](int e) { return c.q[g * hd + e]; },
                  [&](int e) { return c.kf[j * c.stride + e]; }))
                  << "score " << g << "," << j;
            for (int e = 0; e < hd; ++e)
              ASSERT_TRUE(near_bf16_dot(
                  acc[g * hd + e], 0.5, static_cast<int>(n), [&](int j) { return c.p[g * n + j]; },
                  [&](int j) { return c.vf[j * c.stride + e]; }))
                  << "value " << g << "," << e;
          }
          // Batch rows (f32 holding f16 values) compute exactly like cache rows (f16 bits).
          if (f16) {
            s_f16 = s;
            acc_f16 = acc;
          } else {
            ASSERT_EQ(s, s_f16);
            ASSERT_EQ(acc, acc_f16);
          }
        }
      }
}

// Runs are cut at the cache ring's wrap, between cached and new rows, and by the parallel split:
// scores and sums must not depend on where a run starts, on every path this CPU has.
TEST(AttentionKernels, ScoresAndSumsDoNotDependOnWhereARunStarts) {
  IsaGuard guard;
  std::vector<std::pair<Isa, AttnBf16>> paths;
  for (Isa isa : all_isas()) paths.emplace_back(isa, AttnBf16::Off);
  if (isa_has_avx512_bf16()) paths.emplace_back(Isa::Avx512, AttnBf16::Always);
  for (auto [isa, bf16] : paths) {
    set_active_isa(isa);
    set_attn_bf16(bf16);
    EXPECT_EQ(test::check_attention_runs(), "")
        << isa_name(isa) << (bf16 == AttnBf16::Off ? "" : "+bf16");
  }
}

// Which loops run: bf16 only for f16 rows (or f32 rows holding f16 values) on a CPU with
// AVX512_BF16 and the bf16 path allowed; otherwise, and always for true f32 rows, the f32 loops
// with their results unchanged.
TEST(AttentionKernels, Bf16DispatchFallsBackToTheF32Loops) {
  IsaGuard guard;
  if (!isa_has_avx512_bf16()) {
    EXPECT_THROW(set_attn_bf16(AttnBf16::Auto), Error);
    EXPECT_EQ(attn_bf16(), AttnBf16::Off);
  }
  std::mt19937 rng(44);
  const AttnCase c(16, 512, 9, rng);
  const KvRows f32_rows{c.kf.data(), c.stride, false};
  for (Isa isa : all_isas()) {
    set_active_isa(isa);
    for (AttnBf16 mode : {AttnBf16::Off, AttnBf16::Auto, AttnBf16::Always}) {
      if (mode != AttnBf16::Off && !isa_has_avx512_bf16()) continue;
      set_attn_bf16(mode);
      SCOPED_TRACE(std::string(isa_name(isa)) + " mode " + std::to_string(static_cast<int>(mode)));
      const bool simd = isa != Isa::Scalar;  // every SIMD variant has f32 loops
      const bool bf16 = isa == Isa::Avx512;  // only AVX-512 has bf16 ones
      const AttnPath f32_path = simd ? AttnPath::F32 : AttnPath::Scalar;
      // Auto takes bf16 only over long key ranges; Always over any.
      const AttnPath f16_path = bf16 && mode != AttnBf16::Off ? AttnPath::Bf16 : f32_path;
      const AttnPath short_path = bf16 && mode == AttnBf16::Always ? AttnPath::Bf16 : f32_path;
      auto spanning = [](KvRows r, int64_t span) {
        r.span = span;
        return r;
      };
      const int64_t kLong = kAttnBf16MinKeys, kShort = kAttnBf16MinKeys - 1;
      EXPECT_EQ(attn_path(16, 512, spanning(c.k(true), kLong)), f16_path);
      EXPECT_EQ(attn_path(16, 512, spanning(c.k(false), kLong)), f16_path);
      EXPECT_EQ(attn_path(16, 512, spanning(c.k(true), kShort)), short_path);
      EXPECT_EQ(attn_path(16, 512, spanning(f32_rows, kLong)), f32_path);
      EXPECT_EQ(attn_path(kAttnBf16MinHeads, 256, spanning(c.k(true), kLong)), f16_path);
      EXPECT_EQ(attn_path(kAttnBf16MinHeads - 1, 256, spanning(c.k(true), kLong)),
                mode == AttnBf16::Always && bf16 ? AttnPath::Bf16 : f32_path);
      EXPECT_EQ(attn_path(4, 48, spanning(c.k(true), kLong)),
                simd ? AttnPath::F32 : AttnPath::Scalar);
      EXPECT_EQ(attn_path(4, 40, spanning(c.k(true), kLong)), AttnPath::Scalar);
      if (!simd) continue;
      if (!bf16) {  // the public entry points give exactly what the variant's f32 loops give
        const kern::FloatOps& ops = *kern::float_ops(isa);
        std::vector<float> s(16 * 9), ref(s.size()), acc(16 * 512, 0.f), acc_ref(acc);
        attn_scores(c.q.data(), 16, 512, spanning(c.k(true), kLong), 9, s.data(), 9);
        ops.attn_scores(c.q.data(), 16, 512, c.k(true), 9, ref.data(), 9);
        attn_weighted_sum(c.p.data(), 9, 16, 512, spanning(c.v(true), kLong), 9, acc.data());
        ops.attn_weighted_sum(c.p.data(), 9, 16, 512, c.v(true), 9, acc_ref.data());
        EXPECT_EQ(s, ref);
        EXPECT_EQ(acc, acc_ref);
        continue;
      }
      // The public entry points give exactly what the chosen variant gives.
      std::vector<float> s(16 * 9), ref(s.size()), acc(16 * 512, 0.f), acc_ref(acc);
      attn_scores(c.q.data(), 16, 512, spanning(c.k(true), kLong), 9, s.data(), 9);
      attn_weighted_sum(c.p.data(), 9, 16, 512, spanning(c.v(true), kLong), 9, acc.data());
      if (f16_path == AttnPath::Bf16) {
        kern::avx512_bf16_attn_scores(c.q.data(), 16, 512, c.k(true), 9, ref.data(), 9);
        kern::avx512_bf16_attn_weighted_sum(c.p.data(), 9, 16, 512, c.v(true), 9, acc_ref.data());
      } else {
        kern::avx512_attn_scores(c.q.data(), 16, 512, c.k(true), 9, ref.data(), 9);
        kern::avx512_attn_weighted_sum(c.p.data(), 9, 16, 512, c.v(true), 9, acc_ref.data());
      }
      EXPECT_EQ(s, ref);
      EXPECT_EQ(acc, acc_ref);
      // f32 rows never take bf16.
      attn_scores(c.q.data(), 16, 512, f32_rows, 9, s.data(), 9);
      kern::avx512_attn_scores(c.q.data(), 16, 512, f32_rows, 9, ref.data(), 9);
      EXPECT_EQ(s, ref);
    }
  }
}

TEST(AttentionKernels, ExpSumAndF16RoundingMatchTheLibrary) {
  IsaGuard guard;
  for (Isa isa : all_isas()) {
    set_active_isa(isa);
    EXPECT_EQ(test::check_exp_and_f16(), "") << isa_name(isa);
  }
}

}  // namespace
}  // namespace ug
