// The decoder's row-parallel layer ops and RoPE tables (model/layer_ops.h, model/rope.h).
#include "model/layer_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/error.h"
#include "base/thread_pool.h"
#include "kernels/activation.h"
#include "kernels/float_ops_checks.h"
#include "kernels/row_ops.h"
#include "model/config.h"
#include "model/rope.h"

namespace ug {
namespace {

std::vector<float> normal(int64_t n, float sd, uint32_t seed) {
  std::mt19937 rng(seed);
  return test::normal_values(n, sd, rng);
}

using test::same_bits;

// Split over threads or not, every row and value comes out as the single-row kernels give it:
// batch invariance of the decoder's row ops.
TEST(LayerOps, PoolSplitGivesTheSingleRowResults) {
  ThreadPool pool(2);
  const int64_t rows = 37, d = 3840, n_ff = 1000;
  const std::vector<float> x = normal(rows * d, 2.f, 1), w = normal(d, 1.f, 2);
  const std::vector<float> y = normal(rows * d, 1.f, 3);
  std::vector<float> got(x.size()), want(x.size());
  rms_norm_rows(pool, x.data(), w.data(), rows, d, 1e-6f, got.data());
  for (int64_t i = 0; i < rows; ++i) rms_norm_f32(&x[i * d], w.data(), d, 1e-6f, &want[i * d]);
  EXPECT_TRUE(same_bits(got, want)) << "rms_norm_rows";

  got = x;
  want = x;
  residual_add_scaled(pool, got.data(), y.data(), 0.5f, rows * d);
  add_scaled_f32(want.data(), y.data(), 0.5f, rows * d);
  EXPECT_TRUE(same_bits(got, want)) << "residual_add_scaled";
  residual_add(pool, got.data(), y.data(), rows * d);
  add_f32(want.data(), y.data(), rows * d);
  EXPECT_TRUE(same_bits(got, want)) << "residual_add";

  const std::vector<float> g = normal(rows * n_ff, 3.f, 4), u = normal(rows * n_ff, 1.f, 5);
  got = g;
  want = g;
  geglu(pool, got.data(), u.data(), rows * n_ff);
  for (int64_t i = 0; i < rows; ++i) geglu_tanh_f32(&want[i * n_ff], &u[i * n_ff], n_ff);
  EXPECT_TRUE(same_bits(got, want)) << "geglu";

  const int64_t vocab = 50001;
  const std::vector<float> z = normal(3 * vocab, 20.f, 6);
  got = z;
  want = z;
  softcap(pool, got.data(), 3 * vocab, 30.f);
  for (int64_t i = 0; i < 3; ++i) softcap_f32(&want[i * vocab], vocab, 30.f);
  EXPECT_TRUE(same_bits(got, want)) << "softcap";
}

// The tables give cos/sin of pos·ω (ω the f32 frequency) to f32 rounding at any position,
// including far past the first reservation, on the 12B's two layer kinds.
TEST(RopeTable, AnglesMatchCosSinAtEveryPosition) {
  const Gemma4Config c = Gemma4Config::preset_12b();
  std::vector<float> factors(c.head_dim_global / 2, 1.0f);
  for (size_t d = c.rotated_pairs_global(); d < factors.size(); ++d) factors[d] = 1e30f;
  for (bool sliding : {true, false}) {
    const std::vector<float> freq =
        sliding ? rope_inv_freq(c.rope_base_swa, c.head_dim_swa, {})
                : rope_inv_freq(c.rope_base_global, c.head_dim_global, factors);
    RopeTable t(freq);
    EXPECT_EQ(t.pairs(), sliding ? c.head_dim_swa / 2 : c.rotated_pairs_global());
    std::vector<float> cs(t.pairs()), sn(t.pairs());
    EXPECT_THROW(t.angles(RopeTable::kStep, cs.data(), sn.data()), Error);
    t.reserve(300000);
    for (int64_t pos : {0L, 1L, 255L, 256L, 257L, 1023L, 4097L, 65535L, 131071L, 299999L}) {
      t.angles(pos, cs.data(), sn.data());
      for (int64_t d = 0; d < t.pairs(); ++d) {
        const double a = double(pos) * double(freq[d]);
        ASSERT_NEAR(cs[d], std::cos(a), 1.2e-7) << "pos " << pos << " pair " << d;
        ASSERT_NEAR(sn[d], std::sin(a), 1.2e-7) << "pos " << pos << " pair " << d;
      }
    }
  }
}

}  // namespace
}  // namespace ug
