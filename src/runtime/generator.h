// One generation: prefill a prompt (in chunks that never split an image block), then sample
// token by token, streaming text, until a stop token, a stop string or the token limit.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "model/decoder.h"
#include "runtime/sampler.h"
#include "text/tokenizer.h"

namespace ug {

// A prompt as rows: token ids, and for multimodal soft tokens the embedding that replaces the
// placeholder's (input spec §5).
struct Prompt {
  std::vector<int32_t> tokens;
  std::vector<std::vector<float>> soft;  // empty, or one per row (empty vector = use the token)
  std::vector<std::pair<int64_t, int64_t>> bidirectional;  // [begin, end) image/video blocks
};

struct GenerateOptions {
  int max_tokens = 256;
  SamplingParams sampling;
  std::vector<int32_t> stop_ids;         // e.g. 1, 106, 50
  std::vector<std::string> stop_strings;
  int top_logprobs = 0;                  // candidates recorded per step
  int ubatch = 512;                      // prefill chunk size
};

struct StepInfo {
  int32_t id = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;
};

struct GenerateResult {
  std::vector<int32_t> generated;  // includes the stop token when one ended it
  std::string text;                // decoded output, stop token and stop string excluded
  std::vector<StepInfo> steps;
  std::string stop_reason;         // "stop" (token or string), "length", "cancelled"
  int64_t prompt_tokens = 0;
  double prompt_seconds = 0, generation_seconds = 0;
};

// on_text receives text as it becomes final (never half a character, never a piece of a stop
// string); returning false stops generation.
GenerateResult generate(Decoder& decoder, KvCache& cache, const Tokenizer& tokenizer,
                        const Prompt& prompt, const GenerateOptions& options,
                        const std::function<bool(const std::string&)>& on_text = nullptr,
                        const std::atomic<bool>* cancel = nullptr);

// Prefills rows [0, n) of the prompt into the cache; returns the logits of the last row (and,
// if asked, its post-norm hidden row: the MTP drafter's first h).
void prefill(Decoder& decoder, KvCache& cache, const Prompt& prompt, int ubatch,
             std::vector<float>& last_logits, std::vector<float>* last_hidden = nullptr);

// The request's sampling parameters plus the model's suppressed tokens (text spec §3.8).
SamplingParams with_model_suppression(SamplingParams params, const Gemma4Config& config);

// log-softmax(z)[id] over the whole vocabulary.
float log_softmax_at(const float* z, int64_t n, int32_t id);

// Length of the longest suffix of `text` that is a proper prefix of some stop string: that much
// must be held back until the next token decides.
size_t stop_string_hold(const std::string& text, const std::vector<std::string>& stops);

}  // namespace ug
