// llama.cpp's golden outputs on the third-party fixtures (shared/fixtures/golden-llamacpp*.json):
// reading the cases, and greedy decoding checked against them step by step. Shared by the text
// cases (tests/model) and the audio case (tests/runtime).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "isa_guard.h"
#include "kernels/isa.h"
#include "model/decoder.h"
#include "model/kv_cache.h"
#include "model/weights.h"

namespace ug::test {

inline const std::string kFixtures = std::string(UG_SHARED_DIR) + "/fixtures";

// |our − llama.cpp's| log-probability allowed on the well-conditioned fixture (s4343-wc), over
// each step's top-5 tokens. What separates us from llama.cpp there is its arithmetic (8-bit
// activations in the Q4_0 FFN matmuls, an f16 GELU table). Measured (greedy, 12–16 steps × 5):
// max 0.068 / 0.070 / 0.074 on the default path (f16 cache, AVX2) and 0.044 / 0.057 / 0.045 on
// the exact one (scalar, f32 cache) for text / long-text / audio; medians 0.011–0.019. The bounds
// are about twice those: a wrong formula (the s4242 fixture's tests list nats of difference) or
// a drift that moves every step shows in the median long before the ids change.
inline constexpr double kWcTolerance = 0.15;
inline constexpr double kWcMedianTolerance = 0.04;

// "" when every file is there, else the reason to skip (one line).
inline std::string missing_fixtures(const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (!std::filesystem::exists(kFixtures + "/" + n))
      return "../shared/fixtures/" + n +
             " is absent (the third-party fixtures are not checked out)";
  return "";
}

struct GoldenCase {
  std::string name, prompt;
  int prompt_tokens = 0;  // llama.cpp's count, BOS included
  std::vector<int32_t> generated;
  nlohmann::json steps;  // per step: {"id", "logprob", "top5": [[id, logprob] ×5]}
};

inline GoldenCase golden_case(const std::string& file, const std::string& name) {
  std::ifstream f(kFixtures + "/" + file);
  const nlohmann::json all = nlohmann::json::parse(f);
  for (const auto& c : all["cases"])
    if (c["name"] == name)
      return GoldenCase{name, c["prompt"].get<std::string>(),
                        c["prompt_tokens_evaluated"].get<int>(),
                        c["generated_ids"].get<std::vector<int32_t>>(), c["steps"]};
  throw std::runtime_error("no case " + name + " in " + file);
}

inline std::vector<float> log_softmax(const float* z, int64_t n) {
  const float mx = *std::max_element(z, z + n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(z[i]) - mx);
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(z[i] - mx - std::log(s));
  return out;
}

// Greedy decoding of a golden case: the prompt (a prepared batch), then one token at a time, each
// the argmax of the previous logits, for as many steps as llama.cpp took.
struct GreedyRun {
  std::vector<int32_t> ids;              // our greedy pick at each step
  std::vector<std::vector<float>> rows;  // each step's log-probabilities over the vocabulary
};

inline GreedyRun greedy(Decoder& dec, KvCache& cache, const Batch& prompt, size_t steps) {
  GreedyRun r;
  std::vector<float> logits;
  dec.forward(prompt, cache, logits);
  const int64_t V = dec.config().vocab_size;
  for (size_t s = 0; s < steps; ++s) {
    r.rows.push_back(log_softmax(logits.data(), V));
    const auto id =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    r.ids.push_back(id);
    if (s + 1 == steps) break;
    Batch next;
    next.tokens = {id};
    dec.forward(next, cache, logits);
  }
  return r;
}

// How a greedy run compares with llama.cpp's: ids step by step, and |our − llama.cpp's|
// log-probability of each step's top-5 tokens.
struct GoldenDiff {
  int id_mismatches = 0;
  std::string first_mismatch;
  double max_diff = 0, median_diff = 0;
};

inline GoldenDiff compare(const GreedyRun& run, const GoldenCase& g) {
  GoldenDiff d;
  std::vector<double> diffs;
  for (size_t s = 0; s < g.generated.size(); ++s) {
    if (run.ids[s] != g.generated[s] && d.id_mismatches++ == 0) {
      std::ostringstream m;
      m << "step " << s << ": " << run.ids[s] << " instead of " << g.generated[s];
      d.first_mismatch = m.str();
    }
    for (const auto& pair : g.steps[s]["top5"])
      diffs.push_back(std::fabs(run.rows[s][pair[0].get<int32_t>()] - pair[1].get<double>()));
  }
  std::sort(diffs.begin(), diffs.end());
  d.max_diff = diffs.back();
  d.median_diff = diffs[diffs.size() / 2];
  return d;
}

// The well-conditioned check of one case: greedy decoding of `prompt` gives llama.cpp's id at
// every step, with log-probabilities within kWcTolerance (max) and kWcMedianTolerance (median),
// on the default path (f16 cache, this CPU's kernels) and on the exact one (scalar, f32 cache).
inline void expect_wc_golden(const std::shared_ptr<const Gemma4Weights>& w, const Batch& prompt,
                             const GoldenCase& g) {
  ASSERT_EQ(static_cast<int>(prompt.tokens.size()), g.prompt_tokens);
  IsaGuard guard;
  for (bool exact : {false, true}) {
    const char* path = exact ? "exact" : "default";
    if (exact) set_active_isa(Isa::Scalar);
    Decoder dec(w, 2);
    KvCache cache(w->config, 128, 256, exact);
    const GoldenDiff d = compare(greedy(dec, cache, prompt, g.generated.size()), g);
    std::printf(
        "%s, %s path: %d of %zu greedy ids differ; |log-probability - llama.cpp's| "
        "median %.3f, max %.3f\n",
        g.name.c_str(), path, d.id_mismatches, g.generated.size(), d.median_diff, d.max_diff);
    EXPECT_EQ(d.id_mismatches, 0) << path << " path, " << d.first_mismatch;
    EXPECT_LT(d.max_diff, kWcTolerance) << path << " path";
    EXPECT_LT(d.median_diff, kWcMedianTolerance) << path << " path";
  }
}

}  // namespace ug::test
