// run/serve --quantize: every matrix gets the asked type, except a matrix whose rows do not split
// into that type's blocks, which falls back as `unigemma quantize` does (tensor/quant.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "model/weights.h"
#include "model_fixture.h"
#include "tensor/quant.h"

namespace ug {
namespace {

// The stored type of a matrix, before any repacking for the AVX-512 kernels.
struct NoRepack {
  NoRepack() { ::setenv("UG_REPACK", "0", 1); }
  ~NoRepack() { ::unsetenv("UG_REPACK"); }
};

double max_row_error(const Matrix& a, const Matrix& b) {
  std::vector<float> x(a.ne[0]), y(a.ne[0]);
  double worst = 0;
  for (int64_t r = 0; r < a.ne[1]; ++r) {
    dequantize_row(a.type, a.row(r), x.data(), a.ne[0]);
    dequantize_row(b.type, b.row(r), y.data(), b.ne[0]);
    for (int64_t i = 0; i < a.ne[0]; ++i) worst = std::max(worst, double(std::abs(x[i] - y[i])));
  }
  return worst;
}

TEST(QuantizeOnLoad, TheAudioProjectionFallsBackWhereItsRowsDoNotSplit) {
  NoRepack no_repack;
  const std::string g = test::tiny_model("gguf", DType::F32);
  LoadOptions plain;
  plain.mmproj_path = test::mmproj_of(g);
  auto f32 = load_gemma4(g, plain);
  ASSERT_TRUE(f32->audio && f32->vision);
  ASSERT_EQ(f32->audio->projection.ne[0], 640);  // 2.5 blocks of 256: no K-quant fits
  struct Case {
    DType asked, audio;
  } cases[] = {{DType::Q4_K, DType::Q5_0}, {DType::Q6_K, DType::Q8_0}, {DType::Q4_0, DType::Q4_0}};
  for (const Case& c : cases) {
    SCOPED_TRACE(dtype_name(c.asked));
    LoadOptions o = plain;
    o.quantize = c.asked;
    auto w = load_gemma4(g, o);
    EXPECT_EQ(w->audio->projection.type, c.audio);
    EXPECT_EQ(w->layers[0].w_gate.type, fit_row_length(c.asked, w->layers[0].w_gate.ne[0]));
    // The fallback is a quantization of the same values, not garbage.
    EXPECT_LT(max_row_error(w->audio->projection, f32->audio->projection), 0.05);
  }
}

}  // namespace
}  // namespace ug
