// Generated tokens to text and stop decisions, shared by plain and speculative generation and by
// the serving engine, so all of them sample, stop and stream alike.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/generator.h"

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

// One generated token at a time: sampling, log-probabilities, stop tokens and stop strings, and
// the text handed to on_text.
class TokenEmitter {
 public:
  // r receives the tokens, steps, text and stop reason; it, opt and on_text must outlive the
  // emitter.
  TokenEmitter(const Gemma4Config& config, const Tokenizer& tokenizer, const Prompt& prompt,
               const GenerateOptions& opt, const std::function<bool(const std::string&)>& on_text,
               const std::atomic<bool>* cancel, GenerateResult& r);

  // Samples the next token from the target's logits z[vocab], which the sampler may change in
  // place (a copy is kept only when log-probabilities are asked for). Returns true when
  // generation ends (a stop token or string, the client or cancel flag, max_tokens reached);
  // emitted says whether a token was added.
  bool take(float* z, bool& emitted);

  // The prompt and every token taken so far.
  const std::vector<int32_t>& history() const { return history_; }

  // Releases the text held back for a stop string that never came (call once, at the end).
  void finish();

 private:
  void release(const std::string& text);

  const Gemma4Config& config_;
  const GenerateOptions& opt_;
  const std::function<bool(const std::string&)>& on_text_;
  const std::atomic<bool>* cancel_;
  GenerateResult& r_;
  Sampler sampler_;
  std::vector<int32_t> history_;
  StopText text_;
  std::vector<float> raw_;  // z before sampling, for log-probabilities
  bool stopped_by_client_ = false;
};

}  // namespace ug
