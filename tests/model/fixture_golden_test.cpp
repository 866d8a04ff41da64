// The decoder on the third-party fixture GGUF (written by llama.cpp's gguf-py), teacher-forced on
// llama.cpp's own greedy output (shared/fixtures/golden-llamacpp.json, text case):
// 1. against the independent float64 numpy reference: tight;
// 2. against llama.cpp's log-probabilities: loose. The fixture's random weights make attention so
//    peaked that 1e-6 relative noise moves log-probabilities by ~1e-2 and llama.cpp's 8-bit
//    activation rounding by up to ~1.8 (measured with the reference, tests/reference), so the
//    fixture README's "~1e-2" cannot hold; we require what the correct model shows and every
//    structural mistake we tried breaks (see tests/reference/test_reference.py).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "golden_util.h"
#include "kernels/isa.h"
#include "model/decoder.h"
#include "model/weights.h"
#include "npy.h"
#include "text/tokenizer.h"
#include "text/vocab_gguf.h"

namespace ug {
namespace {

const std::string kFixture = std::string(UG_SHARED_DIR) + "/fixtures/gemma4-fixture-f16-s4242.gguf";

struct Golden {
  std::vector<int32_t> prompt, generated;
  nlohmann::json steps;
};

Golden load_golden(const Tokenizer& tok, const std::string& name = "text") {
  std::ifstream f(std::string(UG_SHARED_DIR) + "/fixtures/golden-llamacpp.json");
  nlohmann::json golden = nlohmann::json::parse(f);
  for (const auto& c : golden["cases"])
    if (c["name"] == name) {
      Golden g;
      g.prompt = tok.encode(c["prompt"].get<std::string>(), true);
      g.prompt.insert(g.prompt.begin(), tok.bos_id());
      if (name == "text") {
        EXPECT_EQ(static_cast<int>(g.prompt.size()), c["prompt_tokens_evaluated"].get<int>());
      }
      g.generated = c["generated_ids"].get<std::vector<int32_t>>();
      g.steps = c["steps"];
      return g;
    }
  throw std::runtime_error("no " + name + " case in golden-llamacpp.json");
}

std::vector<float> log_softmax(const float* z, int64_t n) {
  float mx = *std::max_element(z, z + n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(z[i]) - mx);
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(z[i] - mx - std::log(s));
  return out;
}

// Logits of the rows that predict each golden step: prompt + generated[0..s) -> step s.
std::vector<std::vector<float>> teacher_forced(const std::shared_ptr<Gemma4Weights>& w,
                                               const Golden& g, bool f32_cache) {
  Decoder dec(w, 2);
  KvCache cache(w->config, 128, 256, f32_cache);
  std::vector<float> logits;
  Batch b;
  b.tokens = g.prompt;
  b.tokens.insert(b.tokens.end(), g.generated.begin(), g.generated.end() - 1);
  b.all_logits = true;
  dec.forward(b, cache, logits);
  const int64_t V = w->config.vocab_size;
  std::vector<std::vector<float>> rows;
  for (size_t s = 0; s < g.generated.size(); ++s)
    rows.push_back(log_softmax(&logits[(g.prompt.size() - 1 + s) * V], V));
  return rows;
}

TEST(FixtureGolden, MatchesTheFloat64Reference) {
  GgufFile file(kFixture);
  Tokenizer tok(vocab_from_gguf(file));
  Golden g = load_golden(tok);
  auto w = load_gemma4(kFixture);
  std::vector<std::vector<float>> ours;
  {
    Isa saved = active_isa();
    set_active_isa(Isa::Scalar);
    ours = teacher_forced(w, g, true);
    set_active_isa(saved);
  }
  std::vector<int32_t> all = g.prompt;
  all.insert(all.end(), g.generated.begin(), g.generated.end() - 1);
  std::string ids, npy = testing::TempDir() + "fixture_ref_" + std::to_string(::getpid()) + ".npy";
  for (size_t i = 0; i < all.size(); ++i) ids += (i ? "," : "") + std::to_string(all[i]);
  std::string cmd = "/usr/bin/python3 " + std::string(UG_SOURCE_DIR) +
                    "/tests/reference/gemma4_ref.py logits --model " + kFixture + " --tokens " +
                    ids + " --out " + npy + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  test::Npy ref = test::read_npy_f32(npy);
  std::remove(npy.c_str());
  const int64_t V = w->config.vocab_size;
  double worst = 0;
  for (size_t s = 0; s < g.generated.size(); ++s) {
    std::vector<float> r = log_softmax(&ref.data[(g.prompt.size() - 1 + s) * V], V);
    for (const auto& pair : g.steps[s]["top5"]) {
      int32_t t = pair[0].get<int32_t>();
      worst = std::max(worst, double(std::abs(r[t] - ours[s][t])));
    }
  }
  std::printf("max |log-probability difference| vs the float64 reference: %.2e\n", worst);
  EXPECT_LT(worst, 2e-2);
}

TEST(FixtureGolden, AgreesWithLlamaCppAsFarAsTheFixtureAllows) {
  GgufFile file(kFixture);
  Tokenizer tok(vocab_from_gguf(file));
  Golden g = load_golden(tok);
  auto w = load_gemma4(kFixture);
  std::vector<std::vector<float>> lp = teacher_forced(w, g, false);  // the default path
  std::vector<double> diffs;
  int top1 = 0, top5 = 0, first_rank = -1;
  for (size_t s = 0; s < g.generated.size(); ++s) {
    for (const auto& pair : g.steps[s]["top5"])
      diffs.push_back(std::abs(lp[s][pair[0].get<int32_t>()] - pair[1].get<double>()));
    const float chosen = lp[s][g.generated[s]];
    int rank = static_cast<int>(
        std::count_if(lp[s].begin(), lp[s].end(), [&](float v) { return v > chosen; }));
    top1 += rank == 0;
    top5 += rank < 5;
    if (s == 0) first_rank = rank;
  }
  std::sort(diffs.begin(), diffs.end());
  const double median = diffs[diffs.size() / 2];
  std::printf(
      "vs llama.cpp: median |d| %.3f, max %.3f; llama.cpp's pick is our top-1 in %d/%zu, "
      "top-5 in %d/%zu steps\n",
      median, diffs.back(), top1, g.generated.size(), top5, g.generated.size());
  // Rank counts over later steps swing with any change of rounding (we saw 5-6 of 8 as the
  // kernels changed); the median separates the correct model (0.09-0.16) from every structural
  // mistake tried (>= 0.9), and the first step is not yet compounded by the chaos.
  EXPECT_LT(median, 0.3);
  EXPECT_EQ(first_rank, 0);
  EXPECT_GE(top5, 4);
}

// The well-conditioned fixture (shared/fixtures/README.md): its q/k norm weights are scaled so
// that attention is not one-hot, and there an exact implementation and llama.cpp agree to about
// 0.1 in log-probability with the same greedy ids. Greedy decoding, not teacher forcing: every
// step's pick must be llama.cpp's (test::expect_wc_golden; the tolerance's grounds are in
// golden_util.h).
const char kWcModel[] = "gemma4-fixture-f16-s4343-wc.gguf";
const char kWcGolden[] = "golden-llamacpp-wc.json";

void check_wc_text_case(const std::string& name) {
  const std::string missing = test::missing_fixtures({kWcModel, kWcGolden});
  if (!missing.empty()) GTEST_SKIP() << missing;
  const std::string path = test::kFixtures + "/" + kWcModel;
  GgufFile file(path);
  Tokenizer tok(vocab_from_gguf(file));
  const test::GoldenCase g = test::golden_case(kWcGolden, name);
  Batch prompt;
  prompt.tokens = tok.encode(g.prompt, true);
  prompt.tokens.insert(prompt.tokens.begin(), tok.bos_id());
  test::expect_wc_golden(load_gemma4(path), prompt, g);
}

TEST(FixtureGoldenWellConditioned, TextHasLlamaCppsGreedyIdsAndLogProbabilities) {
  check_wc_text_case("text");
}

// 62 prompt tokens: longer than the 16-token sliding window, so the ring and the window mask
// are exercised.
TEST(FixtureGoldenWellConditioned, LongTextHasLlamaCppsGreedyIdsAndLogProbabilities) {
  check_wc_text_case("long-text");
}

}  // namespace
}  // namespace ug
