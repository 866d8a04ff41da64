// One request's generated tokens: sampling, log-probabilities, stop tokens, stop strings, the
// token limit and the text released to the client. The engine keeps one per running request, so
// every front end samples, stops and streams alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "runtime/request.h"
#include "text/tokenizer.h"

namespace ug {

// The decoded text of generated tokens, released as soon as it can no longer be the start of a
// stop string.
class StopText {
 public:
  // stops must outlive this object.
  StopText(const Tokenizer& tokenizer, const std::vector<std::string>& stops)
      : stream_(tokenizer), stops_(stops) {}

  // Adds token id; returns the text that may be released now. Once a stop string appears, the
  // text before it is released, the rest dropped, and stopped() is true.
  std::string push(int32_t id);
  bool stopped() const { return stopped_; }

  // The text still held back, at the end of a generation that no stop string ended.
  std::string flush();

 private:
  StreamDecoder stream_;
  const std::vector<std::string>& stops_;
  std::string pending_;  // decoded, not yet released
  bool stopped_ = false;
};

class TokenEmitter {
 public:
  // request must outlive the emitter; history starts as the prompt's tokens.
  TokenEmitter(const Gemma4Config& config, const Tokenizer& tokenizer,
               const EngineRequest& request);

  // Samples the next token from the model's logits z [vocab], which are changed in place (a
  // copy is kept only when log-probabilities are asked for), and decides whether generation
  // ends. Throws ug::Error when the logits hold NaN or leave no token to sample.
  EngineToken take(float* z);

  StopReason stop() const { return stop_; }  // kNone while generation goes on
  void stop_with(StopReason r) { stop_ = r; }
  // Releases the text held back for a stop string that never came (call once, at the end).
  std::string flush();

  // The prompt and every token taken so far.
  const std::vector<int32_t>& history() const { return history_; }
  int64_t generated() const { return generated_; }
  const SamplingParams& sampling() const { return sampler_.params(); }

 private:
  const Gemma4Config& config_;
  const EngineRequest& req_;
  Sampler sampler_;
  std::vector<int32_t> history_;
  StopText text_;
  std::vector<float> raw_;  // z before sampling, for log-probabilities
  int64_t generated_ = 0;
  StopReason stop_ = StopReason::kNone;
};

// The request's sampling parameters plus the model's suppressed tokens (text spec §3.8).
SamplingParams with_model_suppression(SamplingParams params, const Gemma4Config& config);

// Length of the longest suffix of `text` that is a proper prefix of some stop string: that much
// must be held back until the next token decides.
size_t stop_string_hold(const std::string& text, const std::vector<std::string>& stops);

}  // namespace ug
