#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/error.h"
#include "kernels/dot.h"
#include "kernels/isa.h"
#include "matmul_test_weights.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ug {
namespace {

using test::make_weights;
using test::Weights;

const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                        DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                        DType::Q4_K, DType::Q5_K, DType::Q6_K};

struct ScalarOnly {
  Isa saved = active_isa();
  ScalarOnly() { set_active_isa(Isa::Scalar); }
  ~ScalarOnly() { set_active_isa(saved); }
};

int64_t row_length(DType t) {
  // Odd numbers of blocks (and an odd length for the per-element types) so tails are exercised.
  const int64_t block = dtype_info(t).block;
  return block == 1 ? 37 : block == 32 ? 32 * 7 : 256 * 3;
}

TEST(Matmul, EveryTypeMatchesDequantizedDoubleReference) {
  ScalarOnly scalar;
  std::mt19937 rng(42);
  ThreadPool one(1), three(3);
  for (DType t : kTypes) {
    const int64_t in = row_length(t);
    for (int64_t out : {1, 3, 37}) {
      const Weights w = make_weights(t, in, out, rng);
      std::vector<float> wf(static_cast<size_t>(in * out));
      for (int64_t o = 0; o < out; ++o) dequantize_row(t, w.view.row(o), wf.data() + o * in, in);
      for (int64_t n_tokens : {1, 2, 5}) {
        SCOPED_TRACE(std::string(dtype_name(t)) + " out=" + std::to_string(out) +
                     " tokens=" + std::to_string(n_tokens));
        std::normal_distribution<float> dist(0.f, 1.f);
        std::vector<float> x(static_cast<size_t>(n_tokens * in));
        for (float& v : x) v = dist(rng);
        std::vector<float> y1(static_cast<size_t>(n_tokens * out), NAN), y3 = y1;
        matmul(w.view, x.data(), n_tokens, y1.data(), one);
        matmul(w.view, x.data(), n_tokens, y3.data(), three);
        for (int64_t tk = 0; tk < n_tokens; ++tk) {
          for (int64_t o = 0; o < out; ++o) {
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < in; ++i) {
              ref += double(wf[o * in + i]) * x[tk * in + i];
              mag += std::fabs(double(wf[o * in + i]) * x[tk * in + i]);
            }
            ASSERT_GT(mag, 0.0) << "weights must not be all zero";
            const double got = y1[tk * out + o];
            ASSERT_NEAR(got, ref, 1e-5 * mag + 1e-30) << "token " << tk << " row " << o;
            // Each row is computed the same way whichever thread takes it.
            ASSERT_EQ(std::memcmp(&y1[tk * out + o], &y3[tk * out + o], 4), 0);
          }
        }
      }
    }
  }
}

TEST(Matmul, ManyRowsSplitOverThreadsCoverEveryOutput) {
  ScalarOnly scalar;
  std::mt19937 rng(5);
  ThreadPool three(3);
  const int64_t in = 64, out = 1001, n_tokens = 3;
  const Weights w = make_weights(DType::Q8_0, in, out, rng);
  std::vector<float> x(static_cast<size_t>(n_tokens * in), 0.f);
  std::vector<float> y(static_cast<size_t>(n_tokens * out), NAN), row(static_cast<size_t>(in));
  for (int64_t t = 0; t < n_tokens; ++t) x[t * in + t] = 1.f;  // picks column t of w
  matmul(w.view, x.data(), n_tokens, y.data(), three);
  for (int64_t o = 0; o < out; ++o) {
    dequantize_row(DType::Q8_0, w.view.row(o), row.data(), in);
    for (int64_t t = 0; t < n_tokens; ++t) ASSERT_EQ(y[t * out + o], row[t]) << o << " " << t;
  }
}

TEST(Matmul, RejectsBadShapesAndShortData) {
  std::mt19937 rng(1);
  ThreadPool pool(1);
  Weights w = make_weights(DType::Q4_0, 64, 4, rng);
  std::vector<float> x(64), y(4);
  TensorView bad = w.view;
  bad.ne = {48, 4};  // not whole Q4_0 blocks
  EXPECT_THROW(matmul(bad, x.data(), 1, y.data(), pool), Error);
  bad = w.view;
  bad.nbytes -= 1;
  EXPECT_THROW(matmul(bad, x.data(), 1, y.data(), pool), Error);
  bad = w.view;
  bad.ne = {64, 2, 2};
  EXPECT_THROW(matmul(bad, x.data(), 1, y.data(), pool), Error);
  bad = w.view;
  bad.type = DType::Q8_K;
  bad.ne = {256, 1};
  bad.nbytes = 292;
  EXPECT_THROW(matmul(bad, x.data(), 1, y.data(), pool), Error);
}

TEST(Embedding, RowIsTheDecodedRowAndOutOfRangeThrows) {
  std::mt19937 rng(9);
  for (DType t : {DType::Q8_0, DType::F16, DType::Q6_K}) {
    const int64_t dim = row_length(t);
    const Weights w = make_weights(t, dim, 5, rng);
    std::vector<float> got(static_cast<size_t>(dim)), want(got.size());
    embedding_row(w.view, 3, got.data());
    dequantize_row(t, w.view.row(3), want.data(), dim);
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * 4), 0) << dtype_name(t);
    EXPECT_THROW(embedding_row(w.view, 5, got.data()), Error);
    EXPECT_THROW(embedding_row(w.view, -1, got.data()), Error);
  }
}

TEST(Dot, MatchesDoubleSumForEveryTailLength) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.f, 1.f);
  for (int64_t n : {0, 1, 15, 16, 17, 33, 1000}) {
    std::vector<float> a(static_cast<size_t>(n)), b(a.size());
    double ref = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      a[i] = dist(rng);
      b[i] = dist(rng);
      ref += double(a[i]) * b[i];
      mag += std::fabs(double(a[i]) * b[i]);
    }
    EXPECT_NEAR(dot_f32(a.data(), b.data(), n), ref, 1e-6 * mag + 1e-30) << n;
  }
}

}  // namespace
}  // namespace ug
