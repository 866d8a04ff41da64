// The AVX-512 Q4_K and Q6_K kernels (row kernels for few tokens, packed 16-row kernels for many)
// against a double-precision reference of the dequantized weights times the quantized
// activations, for every token count that selects a different path or tile split, row counts
// that leave partial 16-row tiles, and rows of odd and even super-block counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "isa_guard.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "kernels/q8_acts.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ug {
namespace {

using test::IsaGuard;

struct Matrix {
  DType type;
  int64_t in, out;
  std::vector<uint8_t> bytes;
  std::vector<float> f32;  // dequantized, [out][in]
  // Per block of 32: an upper bound of |each term| the kernels add for that block, divided by the
  // block's |x| sum (Q4_K: d·sc·max|q| + dmin·m; Q6_K: max |w|).
  std::vector<double> block_mag;
  TensorView view() const { return TensorView{"w", type, {in, out}, bytes.data(), bytes.size()}; }
};

// Q4_K scale/min j (0..7) of a super-block, decoded here from the format description (GGUF spec
// / ggml-common.h), independently of the kernels.
void q4_k_scale_min(const uint8_t* sb, int j, int& sc, int& m) {
  const uint8_t* q = sb + 4;
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// random_bytes: every byte random (all scale, min and code patterns, negative Q6_K scales),
// super-block scales set to small f16 values; otherwise quantized from normal floats.
Matrix make_matrix(DType t, int64_t in, int64_t out, bool random_bytes, std::mt19937& rng) {
  Matrix w{t, in, out, {}, {}, {}};
  const uint64_t rb = row_bytes(t, in);
  w.bytes.resize(rb * static_cast<uint64_t>(out));
  const int64_t sb_bytes = t == DType::Q4_K ? 144 : 210;
  if (random_bytes) {
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& b : w.bytes) b = static_cast<uint8_t>(byte(rng));
    std::uniform_real_distribution<float> scale(0.f, 0.01f);
    for (size_t b = 0; b < w.bytes.size(); b += static_cast<size_t>(sb_bytes)) {
      for (int off : t == DType::Q4_K ? std::vector<int>{0, 2} : std::vector<int>{208}) {
        const uint16_t h = f32_to_f16(scale(rng));
        std::memcpy(&w.bytes[b + static_cast<size_t>(off)], &h, 2);
      }
    }
  } else {
    std::normal_distribution<float> dist(0.f, 0.5f);
    std::vector<float> row(static_cast<size_t>(in));
    for (int64_t o = 0; o < out; ++o) {
      for (float& v : row) v = dist(rng);
      quantize_row(t, row.data(), w.bytes.data() + rb * static_cast<uint64_t>(o), in);
    }
  }
  w.f32.resize(static_cast<size_t>(in * out));
  w.block_mag.resize(static_cast<size_t>(in / 32 * out));
  for (int64_t o = 0; o < out; ++o) {
    const uint8_t* row = w.bytes.data() + rb * static_cast<uint64_t>(o);
    dequantize_row(t, row, w.f32.data() + o * in, in);
    for (int64_t b = 0; b < in / 32; ++b) {
      double mag = 0;
      if (t == DType::Q4_K) {
        const uint8_t* sb = row + sb_bytes * (b / 8);
        uint16_t hd, hm;
        std::memcpy(&hd, sb, 2);
        std::memcpy(&hm, sb + 2, 2);
        int sc, m;
        q4_k_scale_min(sb, static_cast<int>(b % 8), sc, m);
        mag = std::fabs(f16_to_f32(hd)) * sc * 15 + std::fabs(f16_to_f32(hm)) * m;
      } else {
        for (int64_t i = 0; i < 32; ++i)
          mag = std::fmax(mag, std::fabs(w.f32[static_cast<size_t>(o * in + 32 * b + i)]));
      }
      w.block_mag[static_cast<size_t>(o * (in / 32) + b)] = mag;
    }
  }
  return w;
}

std::vector<float> make_acts(int64_t n, int64_t in, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> x(static_cast<size_t>(n * in));
  for (int64_t t = 0; t < n; ++t) {
    // Tokens of very different sizes, and an all-zero block (activation scale 0).
    const float size = t % 3 == 0 ? 1.f : t % 3 == 1 ? 30.f : 0.01f;
    for (int64_t i = 0; i < in; ++i) x[static_cast<size_t>(t * in + i)] = size * dist(rng);
  }
  for (int64_t i = 0; i < 32; ++i) x[static_cast<size_t>(in - 32 + i)] = 0.f;
  return x;
}

// The kernels compute Σ_b w_b·x̂_b (x̂ = the 8-bit activations times their block scale) with
// exact integer dot products and f32 for the rest. With u = 2^-24 and M = Σ_b block_mag_b·Σ|x̂_b|
// (which bounds every term and every partial sum): the product by the activation scale, the
// rounded block sum of the Q4_K minimum and the rounding of the dequantized weight on the
// reference's side cost at most 3u·M; each of the 16 slot accumulators takes in/512 blocks of at
// most 2 roundings, and a 4-level tree sums the slots: (in/256 + 4)u·M. The tolerance,
// (in/256 + 16)u·M, is above that sum and far below what a misplaced code, scale, block or token
// gives.
void expect_close(const Matrix& w, const Q8Acts& a, int64_t n, const std::vector<float>& y,
                  const std::string& what) {
  const int64_t nb = w.in / 32;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t o = 0; o < w.out; ++o) {
      double ref = 0, mag = 0;
      for (int64_t b = 0; b < nb; ++b) {
        const double d = a.d_of(t)[b];
        double dot = 0, ax = 0;
        for (int64_t i = 0; i < 32; ++i) {
          const double xq = d * a.qs_of(t)[32 * b + i];
          dot += static_cast<double>(w.f32[static_cast<size_t>(o * w.in + 32 * b + i)]) * xq;
          ax += std::fabs(xq);
        }
        ref += dot;
        mag += w.block_mag[static_cast<size_t>(o * nb + b)] * ax;
      }
      const double tol = (w.in / 256.0 + 16) * std::ldexp(1.0, -24) * mag + 1e-30;
      const double got = y[static_cast<size_t>(t * w.out + o)];
      ASSERT_NEAR(got, ref, tol) << what << " token " << t << " row " << o;
    }
}

class KQuantKernels : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    if (!isa_supported(Isa::Avx512)) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  }
};

TEST_P(KQuantKernels, MatchDoubleReferenceOfQuantizedActivations) {
  const DType t = GetParam();
  IsaGuard guard;
  set_active_isa(Isa::Avx512);
  std::mt19937 rng(t == DType::Q4_K ? 41 : 43);
  ThreadPool pool(2);
  std::vector<int64_t> counts;
  for (int64_t n = 1; n <= 20; ++n) counts.push_back(n);
  counts.push_back(37);
  for (bool random_bytes : {false, true})
    for (int64_t in : {256, 512, 3840}) {
      // 37 rows: two full 16-row tiles and a partial one; 3 rows: one partial tile only.
      for (int64_t out : {37, 3}) {
        const Matrix w = make_matrix(t, in, out, random_bytes, rng);
        const std::vector<float> x = make_acts(37, in, rng);
        Q8Acts a;
        quantize_acts(x.data(), 37, in, a);
        for (int64_t n : counts) {
          std::vector<float> y(static_cast<size_t>(n * out), NAN);
          matmul(w.view(), x.data(), n, y.data(), pool);
          const std::string what = std::string(dtype_name(t)) + (random_bytes ? " random" : "") +
                                   " in=" + std::to_string(in) + " out=" + std::to_string(out) +
                                   " tokens=" + std::to_string(n);
          expect_close(w, a, n, y, what);
          if (HasFatalFailure()) return;
        }
      }
    }
}

// A token's result is bit for bit the one it gets alone, whatever the batch (row kernel or packed
// kernel, which tile of tokens, how many threads).
TEST_P(KQuantKernels, EachTokenIsBitIdenticalInAnyBatch) {
  const DType t = GetParam();
  IsaGuard guard;
  set_active_isa(Isa::Avx512);
  std::mt19937 rng(t == DType::Q4_K ? 51 : 53);
  ThreadPool one(1), two(2);
  for (int64_t in : {256, 512, 3840}) {
    const int64_t out = 45;
    const Matrix w = make_matrix(t, in, out, in == 512, rng);
    const int64_t n_max = 37;
    const std::vector<float> x = make_acts(n_max, in, rng);
    std::vector<float> alone(static_cast<size_t>(n_max * out));
    for (int64_t k = 0; k < n_max; ++k)
      matmul(w.view(), x.data() + k * in, 1, alone.data() + k * out, one);
    for (int64_t n = 2; n <= n_max; n += n < 20 ? 1 : 17) {
      for (ThreadPool* pool : {&one, &two}) {
        std::vector<float> y(static_cast<size_t>(n * out));
        // Tokens [n_max - n, n_max): different tokens in each tile position for each n.
        matmul(w.view(), x.data() + (n_max - n) * in, n, y.data(), *pool);
        for (int64_t k = 0; k < n; ++k)
          ASSERT_EQ(std::memcmp(y.data() + k * out, alone.data() + (n_max - n + k) * out, out * 4),
                    0)
              << dtype_name(t) << " in=" << in << ": token " << k << " of a batch of " << n << " ("
              << pool->size() << " threads) differs from the same token alone";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, KQuantKernels, ::testing::Values(DType::Q4_K, DType::Q6_K),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace ug
