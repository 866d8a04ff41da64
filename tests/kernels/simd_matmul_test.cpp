// The SIMD variants against the scalar reference, for every weight type, every variant this CPU
// runs, and shapes that leave partial tiles, lone blocks and masked tails.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "isa_guard.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "kernels/matmul_shared.h"
#include "kernels/q8_acts.h"
#include "matmul_test_weights.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ug {
namespace {

using test::make_weights;
using test::tolerance;
using test::Weights;

using test::IsaGuard;

std::vector<Isa> simd_isas() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::Avx2, Isa::Avx512})
    if (isa_supported(isa)) v.push_back(isa);
  return v;
}

bool takes_q8_acts(Isa isa, DType t) {
  if (isa == Isa::Avx2)
    return t == DType::Q4_0 || t == DType::Q8_0 || t == DType::Q4_K || t == DType::Q5_K ||
           t == DType::Q6_K;
  return t == DType::Q4_0 || t == DType::Q8_0 || t == DType::Q4_K || t == DType::Q6_K;
}

const DType kTypes[] = {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q6_K, DType::BF16,
                        DType::F16,  DType::F32,  DType::Q4_1, DType::Q5_0, DType::Q5_1,
                        DType::Q5_K, DType::Q2_K, DType::Q3_K};

TEST(SimdMatmul, EveryTypeAndVariantAgreesWithScalar) {
  const std::vector<Isa> isas = simd_isas();
  if (isas.empty()) GTEST_SKIP() << "no SIMD variant runs on this CPU";
  IsaGuard guard;
  std::mt19937 rng(7);
  ThreadPool one(1), two(2);
  for (DType t : kTypes) {
    const int64_t block = dtype_info(t).block;
    std::vector<int64_t> ins;
    if (block == 256)
      ins = {256, 768};
    else if (block == 32)
      ins = {32, 96, 224};  // lone last block in 32 and 96 and 224
    else
      ins = {37, 224};
    for (int64_t in : ins)
      for (int64_t out : {1, 3, 37, 256}) {
        const Weights w = make_weights(t, in, out, rng);
        for (int64_t n : {1, 2, 5, 67}) {
          std::normal_distribution<float> dist(0.f, 1.f);
          std::vector<float> x(static_cast<size_t>(n * in));
          for (float& v : x) v = dist(rng);
          std::vector<float> ref(static_cast<size_t>(n * out), NAN);
          set_active_isa(Isa::Scalar);
          matmul(w.view, x.data(), n, ref.data(), one);
          for (Isa isa : isas) {
            SCOPED_TRACE(std::string(dtype_name(t)) + " " + isa_name(isa) +
                         " in=" + std::to_string(in) + " out=" + std::to_string(out) +
                         " tokens=" + std::to_string(n));
            set_active_isa(isa);
            std::vector<float> y1(ref.size(), NAN), y2(ref.size(), NAN);
            matmul(w.view, x.data(), n, y1.data(), one);
            matmul(w.view, x.data(), n, y2.data(), two);
            ASSERT_EQ(std::memcmp(y1.data(), y2.data(), y1.size() * 4), 0)
                << "1 and 2 threads differ";
            const bool q8 = takes_q8_acts(isa, t);
            for (int64_t tk = 0; tk < n; ++tk)
              for (int64_t o = 0; o < out; ++o)
                ASSERT_NEAR(y1[tk * out + o], ref[tk * out + o],
                            tolerance(q8, w, x.data() + tk * in, in, o))
                    << "token " << tk << " row " << o;
          }
        }
      }
  }
}

// A server batches several sequences into one matmul: each token's result must be bit for bit
// the one it gets alone (whichever kernel path the batch size selects).
TEST(SimdMatmul, EachTokenIsIndependentOfItsBatch) {
  IsaGuard guard;
  std::mt19937 rng(17);
  ThreadPool pool(2);
  const int64_t n = 37;
  for (DType t : kTypes) {
    // 37 blocks: two full groups of 16 and a partial one, and a partial Q4_0 quad.
    const int64_t in = dtype_info(t).block == 256 ? 512 : 1184, out = 45;
    const Weights w = make_weights(t, in, out, rng);
    std::normal_distribution<float> dist(0.f, 1.f);
    std::vector<float> x(static_cast<size_t>(n * in));
    for (float& v : x) v = dist(rng);
    for (Isa isa : simd_isas()) {
      set_active_isa(isa);
      std::vector<float> all(static_cast<size_t>(n * out));
      matmul(w.view, x.data(), n, all.data(), pool);
      for (int64_t m : {1, 2, 3, 4, 5, 9}) {
        std::vector<float> part(static_cast<size_t>(m * out));
        for (int64_t t0 = 0; t0 + m <= n; t0 += 7) {
          matmul(w.view, x.data() + t0 * in, m, part.data(), pool);
          ASSERT_EQ(std::memcmp(part.data(), all.data() + t0 * out, part.size() * 4), 0)
              << dtype_name(t) << " " << isa_name(isa) << ": tokens " << t0 << ".." << t0 + m - 1
              << " alone differ from the same tokens in a batch of " << n;
        }
      }
    }
  }
}

TEST(SimdMatmul, SharedInputEqualsSeparateCalls) {
  IsaGuard guard;
  std::mt19937 rng(19);
  ThreadPool pool(2);
  const int64_t in = 256;
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::F32}) {
    const Weights a = make_weights(t, in, 70, rng), b = make_weights(t, in, 33, rng);
    const Weights c = make_weights(DType::Q8_0, in, 20, rng);  // another type: run on its own
    std::normal_distribution<float> dist(0.f, 1.f);
    for (int64_t n : {1, 6}) {
      std::vector<float> x(static_cast<size_t>(n * in));
      for (float& v : x) v = dist(rng);
      for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
        if (!isa_supported(isa)) continue;
        set_active_isa(isa);
        std::vector<float> ya(n * 70), yb(n * 33), yc(n * 20), ra(ya.size()), rb(yb.size()),
            rc(yc.size());
        matmul(a.view, x.data(), n, ra.data(), pool);
        matmul(b.view, x.data(), n, rb.data(), pool);
        matmul(c.view, x.data(), n, rc.data(), pool);
        matmul_shared_input({{&a.view, ya.data()}, {&b.view, yb.data()}}, x.data(), n, pool);
        EXPECT_EQ(std::memcmp(ya.data(), ra.data(), ya.size() * 4), 0) << dtype_name(t);
        EXPECT_EQ(std::memcmp(yb.data(), rb.data(), yb.size() * 4), 0) << dtype_name(t);
        matmul_shared_input({{&a.view, ya.data()}, {&c.view, yc.data()}}, x.data(), n, pool);
        EXPECT_EQ(std::memcmp(ya.data(), ra.data(), ya.size() * 4), 0) << dtype_name(t);
        EXPECT_EQ(std::memcmp(yc.data(), rc.data(), yc.size() * 4), 0) << dtype_name(t);
      }
    }
  }
}

// Stored Q8_0 codes may be -128 (no quantizer here writes it); |w| then needs all 8 bits.
TEST(SimdMatmul, Q8_0WithMinus128Codes) {
  IsaGuard guard;
  std::mt19937 rng(11);
  const int64_t in = 96, out = 5;
  std::vector<uint8_t> bytes(static_cast<size_t>(row_bytes(DType::Q8_0, in) * out));
  std::uniform_int_distribution<int> code(-128, 127);
  for (size_t b = 0; b < bytes.size(); b += 34) {
    const uint16_t d = f32_to_f16(0.01f);
    std::memcpy(&bytes[b], &d, 2);
    for (size_t j = 0; j < 32; ++j)
      bytes[b + 2 + j] = static_cast<uint8_t>(j % 3 ? code(rng) : -128);
  }
  TensorView w{"w", DType::Q8_0, {in, out}, bytes.data(), bytes.size()};
  std::vector<float> x(static_cast<size_t>(in)), ref(out), y(out);
  std::normal_distribution<float> dist(0.f, 1.f);
  for (float& v : x) v = dist(rng);
  ThreadPool pool(1);
  set_active_isa(Isa::Scalar);
  matmul(w, x.data(), 1, ref.data(), pool);
  std::vector<float> wf(static_cast<size_t>(in));
  for (Isa isa : simd_isas()) {
    set_active_isa(isa);
    matmul(w, x.data(), 1, y.data(), pool);
    for (int64_t o = 0; o < out; ++o) {
      dequantize_row(DType::Q8_0, w.row(o), wf.data(), in);
      double bound = 0;
      for (int64_t i = 0; i < in; ++i) {
        float amax = 0;
        for (int64_t j = i / 32 * 32; j < i / 32 * 32 + 32; ++j)
          amax = std::fmax(amax, std::fabs(x[j]));
        bound += std::fabs(wf[i]) * (amax / 254.0 + 1e-5 * std::fabs(x[i]));
      }
      EXPECT_NEAR(y[o], ref[o], bound) << isa_name(isa) << " row " << o;
    }
  }
}

TEST(SimdMatmul, UndecodableTypeThrowsInCallerForEveryVariant) {
  IsaGuard guard;
  std::vector<uint8_t> bytes(292 * 4);
  TensorView w{"w", DType::Q8_K, {256, 4}, bytes.data(), bytes.size()};
  std::vector<float> x(256), y(4);
  ThreadPool pool(2);
  for (Isa isa : simd_isas()) {
    set_active_isa(isa);
    EXPECT_THROW(matmul(w, x.data(), 1, y.data(), pool), Error) << isa_name(isa);
  }
}

TEST(Q8Acts, RoundingErrorIsWithinHalfAStepAndQ4OrderHoldsTheSameValues) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.f, 2.f);
  const int64_t in = 96, n = 3;  // 3 blocks: the second pair is padded
  std::vector<float> x(static_cast<size_t>(n * in));
  for (float& v : x) v = dist(rng);
  x[5] = 0.f;
  for (int j = 32; j < 64; ++j) x[j] = 0.f;  // an all-zero block gets scale 0
  Q8Acts a;
  quantize_acts(x.data(), n, in, a);
  ASSERT_EQ(a.pairs, 2);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t b = 0; b < 4; ++b) {
      int32_t sum = 0;
      float amax = 0;
      for (int j = 0; j < 32; ++j) {
        const int q = a.qs_of(t)[b * 32 + j];
        sum += q;
        if (b == 3) {
          EXPECT_EQ(q, 0);
          continue;
        }
        const float xv = x[t * in + b * 32 + j];
        amax = std::fmax(amax, std::fabs(xv));
        EXPECT_LE(std::abs(q), 127);
        EXPECT_LE(std::fabs(q * a.d_of(t)[b] - xv), a.d_of(t)[b] * 0.5f * 1.0001f + 1e-30f);
      }
      if (b < 3) {
        EXPECT_FLOAT_EQ(a.d_of(t)[b], amax / 127.f);
      }
      EXPECT_FLOAT_EQ(a.s_of(t)[b], a.d_of(t)[b] * static_cast<float>(sum));
    }
  }
  EXPECT_EQ(a.d_of(0)[1], 0.f);
  // Q4_0 order: the same values and scales; per run of 4 blocks, elements 0-15 of each block,
  // then elements 16-31 of each; the 4th (missing) block is zero.
  Q8Acts q4;
  quantize_acts(x.data(), n, in, q4, ActOrder::Q4);
  ASSERT_EQ(q4.pairs, 2);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t b = 0; b < 4; ++b) {
      EXPECT_EQ(q4.d_of(t)[b], a.d_of(t)[b]);
      EXPECT_EQ(q4.s_of(t)[b], a.s_of(t)[b]);
      for (int j = 0; j < 32; ++j)
        EXPECT_EQ(q4.qs_of(t)[(j < 16 ? 0 : 64) + b * 16 + j % 16], a.qs_of(t)[b * 32 + j])
            << "token " << t << " block " << b << " element " << j;
    }
  EXPECT_THROW(quantize_acts(x.data(), 1, 48, a), Error);
}

TEST(Isa, NamesRoundTripAndScalarIsAlwaysThere) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    EXPECT_EQ(isa_from_name(isa_name(isa)), isa);
  EXPECT_FALSE(isa_from_name("sse9"));
  EXPECT_TRUE(isa_supported(Isa::Scalar));
  IsaGuard guard;
  set_active_isa(Isa::Scalar);
  EXPECT_EQ(active_isa(), Isa::Scalar);
}

}  // namespace
}  // namespace ug
