#include "runtime/token_emitter.h"

#include <algorithm>

#include "base/error.h"
#include "runtime/constraint.h"

namespace ug {

namespace {

// One pass the compiler vectorises (x != x only for NaN); an early exit would not.
bool has_nan(const float* z, int64_t n) {
  bool bad = false;
  for (int64_t i = 0; i < n; ++i) bad |= z[i] != z[i];
  return bad;
}

}  // namespace

SamplingParams with_model_suppression(SamplingParams params, const Gemma4Config& config) {
  for (int32_t t : config.suppress_tokens)
    if (std::find(params.suppress.begin(), params.suppress.end(), t) == params.suppress.end())
      params.suppress.push_back(t);
  return params;
}

size_t stop_string_hold(const std::string& text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const auto& s : stops) {
    if (s.empty()) continue;
    for (size_t k = std::min(s.size() - 1, text.size()); k > hold; --k)
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
  }
  return hold;
}

std::string StopText::push(int32_t id) {
  pending_ += stream_.push(id);
  size_t stop_at = std::string::npos;
  for (const auto& s : stops_)
    if (!s.empty()) stop_at = std::min(stop_at, pending_.find(s));
  if (stop_at != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, stop_at);
    pending_.clear();
    return out;
  }
  const size_t n = pending_.size() - stop_string_hold(pending_, stops_);
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

std::string StopText::flush() {
  std::string out = std::move(pending_);
  pending_.clear();
  return out + stream_.flush();
}

TokenEmitter::TokenEmitter(const Gemma4Config& config, const Tokenizer& tokenizer,
                           const EngineRequest& request)
    : config_(config),
      req_(request),
      sampler_(with_model_suppression(request.sampling, config), config.vocab_size),
      history_(request.prompt.tokens),
      text_(tokenizer, request.stop_strings) {}

EngineToken TokenEmitter::take(float* z) {
  const int vocab = static_cast<int>(config_.vocab_size);
  if (has_nan(z, vocab))
    fail("the model produced NaN logits at generated token ", generated_ + 1,
         " (the weights or the input give non-finite values)");
  EngineToken out;
  StepInfo& info = out.step;
  const bool lp = req_.logprobs || req_.top_logprobs > 0;
  if (req_.top_logprobs > 0) info.top = top_logprobs(z, vocab, req_.top_logprobs);
  if (lp) raw_.assign(z, z + vocab);
  if (req_.constraint) req_.constraint->mask(z, vocab);
  info.id = sampler_.sample(z, history_);
  if (lp) info.logprob = log_softmax_at(raw_.data(), vocab, info.id);
  if (req_.constraint && !req_.constraint->accept(info.id))
    fail("the sampled token ", info.id, " is not allowed by the output constraint");
  history_.push_back(info.id);
  ++generated_;
  if (std::find(req_.stop_ids.begin(), req_.stop_ids.end(), info.id) != req_.stop_ids.end()) {
    stop_ = StopReason::kEndToken;
    return out;
  }
  out.text = text_.push(info.id);
  if (text_.stopped())
    stop_ = StopReason::kStopString;
  else if (req_.max_tokens > 0 && generated_ >= req_.max_tokens)
    stop_ = StopReason::kLength;
  return out;
}

std::string TokenEmitter::flush() { return text_.stopped() ? std::string() : text_.flush(); }

}  // namespace ug
