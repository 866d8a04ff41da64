// Token sampling in llama.cpp's default order: penalties -> top-k -> top-p -> min-p ->
// temperature -> draw. Seeded and reproducible; O(vocab) per token with reused buffers.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace ug {

struct SamplingParams {
  float temperature = 1.0f;  // <= 0: greedy (argmax, lowest id on ties)
  int top_k = 64;            // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.0f;        // <= 0: off
  float repeat_penalty = 1.0f;
  int repeat_last_n = 64;  // history tokens the penalties look at; -1: all, 0: off
  float frequency_penalty = 0.0f, presence_penalty = 0.0f;
  std::uint64_t seed = 0;
  std::vector<std::int32_t> suppress;  // never sampled (e.g. 258882, 258883)
};

class Sampler {
 public:
  Sampler(SamplingParams params, int vocab);

  // logits: [vocab], modified in place (penalties, suppression, scaling).
  // history: tokens generated or prompted so far, oldest first.
  std::int32_t sample(float* logits, const std::vector<std::int32_t>& history);

  const SamplingParams& params() const { return params_; }

 private:
  struct Candidate {
    std::int32_t id;
    float logit;
  };

  void apply_penalties(float* logits, const std::vector<std::int32_t>& history);

  SamplingParams params_;
  int vocab_;
  std::mt19937_64 rng_;
  std::vector<Candidate> cands_;       // [vocab]
  std::vector<float> probs_;           // [vocab]
  std::vector<std::int32_t> counts_;   // [vocab], all zero between calls
  std::vector<std::int32_t> touched_;  // ids with non-zero counts_
};

// log-softmax(z)[id] over the whole vocabulary.
float log_softmax_at(const float* z, int64_t n, int32_t id);

// The k most likely tokens with their log-probabilities (log-softmax over the whole vocab),
// most likely first, lower id first on ties.
std::vector<std::pair<std::int32_t, float>> top_logprobs(const float* logits, int vocab, int k);

}  // namespace ug
