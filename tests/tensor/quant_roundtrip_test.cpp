// Round-trip accuracy of every quantizer: quantize then dequantize, on random normal data and on
// edge data (zeros, constants, one huge outlier, tiny values).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/error.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ug {
namespace {

std::vector<float> round_trip(DType t, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(row_bytes(t, n));
  quantize_row(t, x.data(), q.data(), n);
  std::vector<float> y(x.size());
  dequantize_row(t, q.data(), y.data(), n);
  return y;
}

std::vector<float> normal(int64_t n, float sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, sigma);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

double rel_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double e = 0, s = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    e += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    s += double(x[i]) * x[i];
  }
  return std::sqrt(e / s);
}

// Half an f16 ulp at |v|: the most rounding a scale stored as f16 can add (2^-25 when subnormal).
double f16_half_ulp(double v) {
  return std::max(std::fabs(v) * std::ldexp(1.0, -11), std::ldexp(1.0, -25));
}

// Largest error the 32-element types may show, by construction: half a step d, plus what rounding
// d (and the min m) to f16 moves the largest level (qmax·d) by. The symmetric types Q4_0/Q5_0 have
// one level more on the side of the block's extreme value ([-8, 7]·d): an element of the other
// sign beyond (qmax − 0.5)·d is clamped to (qmax − 1)·d and may lose up to one whole step.
struct SmallBlockBound {
  int qmax;      // 127, 8, 16 (symmetric) or 15, 31 (with min)
  bool has_min;  // Q4_1 / Q5_1
  bool clamped;  // Q4_0 / Q5_0
};

SmallBlockBound small_bound(DType t) {
  switch (t) {
    case DType::Q8_0:
      return {127, false, false};
    case DType::Q4_0:
      return {8, false, true};
    case DType::Q5_0:
      return {16, false, true};
    case DType::Q4_1:
      return {15, true, false};
    case DType::Q5_1:
      return {31, true, false};
    default:
      ADD_FAILURE() << "not a small-block type";
      return {1, false, false};
  }
}

// Max over elements of |x − y| / bound(x); ≤ 1 means within the bound.
double worst_small_block_ratio(DType t, const std::vector<float>& x, const std::vector<float>& y) {
  const SmallBlockBound sb = small_bound(t);
  double worst = 0;
  for (size_t b = 0; b < x.size(); b += 32) {
    double amax = 0, extreme = 0, mn = x[b], mx = x[b];
    for (size_t j = b; j < b + 32; ++j) {
      if (std::fabs(double(x[j])) > amax) {
        amax = std::fabs(double(x[j]));
        extreme = x[j];
      }
      mn = std::min(mn, double(x[j]));
      mx = std::max(mx, double(x[j]));
    }
    const double d = sb.has_min ? (mx - mn) / sb.qmax : amax / sb.qmax;
    const double slack = sb.qmax * f16_half_ulp(d) + (sb.has_min ? f16_half_ulp(mn) : 0) +
                         1e-6 * std::max(amax, 1e-30);
    for (size_t j = b; j < b + 32; ++j) {
      double half_steps = 0.5;
      if (sb.clamped && d > 0) {
        const double level = -double(x[j]) / extreme * sb.qmax;  // the extreme is at −qmax
        if (level > sb.qmax - 0.5) half_steps = level - (sb.qmax - 1);
      }
      worst = std::max(worst, std::fabs(double(x[j]) - y[j]) / (half_steps * d + slack));
    }
  }
  return worst;
}

const DType kSmallTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q5_0, DType::Q4_1, DType::Q5_1};

TEST(QuantRoundTrip, SmallBlocksStayWithinHalfAStepOnNormalData) {
  const std::vector<float> x = normal(32 * 4096, 1.f, 7);
  for (DType t : kSmallTypes) {
    const double ratio = worst_small_block_ratio(t, x, round_trip(t, x));
    EXPECT_LE(ratio, 1.0) << dtype_name(t);
    std::printf("  %-5s worst |err| / (d/2 + f16 terms) = %.3f, rel RMSE %.4f\n", dtype_name(t),
                ratio, rel_rmse(x, round_trip(t, x)));
  }
}

// Measured rel RMSE on N(0, 0.02²), 131072 values: Q8_0 0.0054, Q4_0 0.086, Q5_0 0.043,
// Q4_1 0.079, Q5_1 0.038, Q4_K 0.072, Q5_K 0.036, Q6_K 0.018, F16 2.1e-4, BF16 1.7e-3.
// Bounds are those plus about 15%.
struct RmseBound {
  DType type;
  double bound;
};
const RmseBound kRmseBounds[] = {{DType::Q8_0, 0.0062}, {DType::Q4_0, 0.10},   {DType::Q5_0, 0.05},
                                 {DType::Q4_1, 0.09},   {DType::Q5_1, 0.044},  {DType::Q4_K, 0.083},
                                 {DType::Q5_K, 0.042},  {DType::Q6_K, 0.0205}, {DType::F16, 2.5e-4},
                                 {DType::BF16, 1.9e-3}};

double k_bound(DType t) {
  for (const RmseBound& rb : kRmseBounds)
    if (rb.type == t) return rb.bound;
  return 0;
}

TEST(QuantRoundTrip, RelativeRmseOnNormalData) {
  const std::vector<float> x = normal(256 * 512, 0.02f, 11);
  for (const RmseBound& rb : kRmseBounds) {
    const double e = rel_rmse(x, round_trip(rb.type, x));
    std::printf("  %-5s rel RMSE %.5f (bound %.5f)\n", dtype_name(rb.type), e, rb.bound);
    EXPECT_LE(e, rb.bound) << dtype_name(rb.type);
    EXPECT_GT(e, rb.bound / 4) << dtype_name(rb.type) << ": suspiciously exact, is it quantizing?";
  }
  EXPECT_EQ(rel_rmse(x, round_trip(DType::F32, x)), 0.0);
}

TEST(QuantRoundTrip, ZerosStayExactlyZero) {
  const std::vector<float> x(512, 0.f);
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1,
                  DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    for (float v : round_trip(t, x)) ASSERT_EQ(v, 0.f) << dtype_name(t);
  }
}

TEST(QuantRoundTrip, ConstantsComeBackWithinF16Rounding) {
  // Values whose K-type sub-scales stay normal f16 numbers (small ones are in the tiny-value test).
  for (float c : {0.37f, -2.5f, 7.f}) {
    const std::vector<float> x(512, c);
    for (DType t : {DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                    DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
      // One f16 rounding of the scale, times at most the 6-bit sub-scale for K types.
      const double tol = std::fabs(c) * 2 * std::ldexp(1.0, -10);
      for (float v : round_trip(t, x)) ASSERT_NEAR(v, c, tol) << dtype_name(t) << " c=" << c;
    }
  }
}

TEST(QuantRoundTrip, OneHugeOutlierIsKeptAndOthersStayBounded) {
  std::vector<float> x = normal(512, 1.f, 3);
  x[77] = 1000.f;  // f16-safe, so every scale stays finite
  for (DType t : kSmallTypes) {
    const std::vector<float> y = round_trip(t, x);
    EXPECT_LE(worst_small_block_ratio(t, x, y), 1.0) << dtype_name(t);
    EXPECT_NEAR(y[77], 1000.f, 1000.f * 2e-3) << dtype_name(t);
  }
  for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const std::vector<float> y = round_trip(t, x);
    EXPECT_NEAR(y[77], 1000.f, 1000.f * 0.01) << dtype_name(t);
    // The super-block holding the outlier loses resolution, the other one must not.
    std::vector<float> x2(x.begin() + 256, x.end()), y2(y.begin() + 256, y.end());
    EXPECT_LE(rel_rmse(x2, y2), t == DType::Q4_K   ? 0.11
                                : t == DType::Q5_K ? 0.055
                                                   : 0.027)
        << dtype_name(t);
  }
}

TEST(QuantRoundTrip, TinyValuesStayBoundedByF16Resolution) {
  // Scales near 1e-6 are f16 subnormals: the bound's 2^-25 term carries the error there.
  for (float sigma : {1e-3f, 1e-5f}) {
    const std::vector<float> x = normal(32 * 64, sigma, 5);
    for (DType t : kSmallTypes)
      EXPECT_LE(worst_small_block_ratio(t, x, round_trip(t, x)), 1.0)
          << dtype_name(t) << " sigma=" << sigma;
  }
  const std::vector<float> x = normal(256 * 8, 1e-3f, 9);
  for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const double e = rel_rmse(x, round_trip(t, x));
    std::printf("  %-5s rel RMSE at sigma 1e-3: %.4f\n", dtype_name(t), e);
    // Only 2048 values here, so allow more sampling noise than on the large normal set.
    EXPECT_LE(e, 1.25 * k_bound(t)) << dtype_name(t);
    for (float v : round_trip(t, x)) ASSERT_TRUE(std::isfinite(v));
  }
}

TEST(QuantRoundTrip, Q8_0RoundsHalfAwayFromZeroAsUpstream) {
  // amax 127 gives d = 1 exactly, so x·(1/d) = 2.5 is an exact tie: roundf gives 3, not 2.
  std::vector<float> x(32, 0.f);
  x[0] = 127.f;
  x[1] = 2.5f;
  x[2] = -2.5f;
  std::vector<uint8_t> q(34);
  quantize_row(DType::Q8_0, x.data(), q.data(), 32);
  EXPECT_EQ(static_cast<int8_t>(q[2 + 1]), 3);
  EXPECT_EQ(static_cast<int8_t>(q[2 + 2]), -3);
}

TEST(QuantApi, RejectsPartialBlocksAndUnsupportedTypes) {
  std::vector<float> x(64);
  std::vector<uint8_t> q(1024);
  EXPECT_THROW(dequantize_row(DType::Q4_K, q.data(), x.data(), 64), Error);
  EXPECT_THROW(quantize_row(DType::Q8_0, x.data(), q.data(), 33), Error);
  EXPECT_THROW(dequantize_row(DType::Q8_K, q.data(), x.data(), 256), Error);
  EXPECT_FALSE(can_quantize(DType::Q2_K));
  EXPECT_THROW(quantize_row(DType::Q2_K, x.data(), q.data(), 256), Error);
  EXPECT_TRUE(can_quantize(DType::Q6_K));
  try {
    quantize_row(DType::Q3_K, x.data(), q.data(), 256);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Q3_K"), std::string::npos) << e.what();
  }
}

TEST(QuantApi, F16AndBf16MatchHalfConversions) {
  const std::vector<float> x = {1.f, -0.1f, 65504.f, 1e-7f, 3.14159f, -0.f};
  std::vector<uint16_t> h(x.size()), b(x.size());
  quantize_row(DType::F16, x.data(), h.data(), 6);
  quantize_row(DType::BF16, x.data(), b.data(), 6);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(h[i], f32_to_f16(x[i]));
    EXPECT_EQ(b[i], f32_to_bf16(x[i]));
  }
}

}  // namespace
}  // namespace ug

namespace ug {
namespace {

TEST(QuantApi, F16DecodeAgreesWithHalfConversionForEveryBitPattern) {
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> got(all.size());
  dequantize_row(DType::F16, all.data(), got.data(), 65536);
  for (uint32_t i = 0; i < 65536; ++i) {
    const float want = f16_to_f32(all[i]);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got[i])) << i;
    } else {
      ASSERT_EQ(std::memcmp(&got[i], &want, 4), 0)
          << "bits " << i << ": " << got[i] << " vs " << want;
    }
  }
}

}  // namespace
}  // namespace ug
