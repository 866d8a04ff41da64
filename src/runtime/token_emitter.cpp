#include "runtime/token_emitter.h"

#include <algorithm>

namespace ug {

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
                           const Prompt& prompt, const GenerateOptions& opt,
                           const std::function<bool(const std::string&)>& on_text,
                           const std::atomic<bool>* cancel, GenerateResult& r)
    : config_(config),
      opt_(opt),
      on_text_(on_text),
      cancel_(cancel),
      r_(r),
      sampler_(with_model_suppression(opt.sampling, config), config.vocab_size),
      history_(prompt.tokens),
      text_(tokenizer, opt.stop_strings) {}

void TokenEmitter::release(const std::string& text) {
  if (text.empty()) return;
  r_.text += text;
  if (on_text_ && !on_text_(text)) stopped_by_client_ = true;
}

bool TokenEmitter::take(float* z, bool& emitted) {
  emitted = false;
  if (cancel_ && cancel_->load()) {
    r_.stop_reason = "cancelled";
    return true;
  }
  const int vocab = static_cast<int>(config_.vocab_size);
  StepInfo info;
  if (opt_.top_logprobs > 0) info.top = top_logprobs(z, vocab, opt_.top_logprobs);
  if (opt_.top_logprobs > 0) raw_.assign(z, z + vocab);
  const int32_t id = sampler_.sample(z, history_);
  info.id = id;
  if (opt_.top_logprobs > 0) info.logprob = log_softmax_at(raw_.data(), vocab, id);
  r_.generated.push_back(id);
  history_.push_back(id);
  r_.steps.push_back(std::move(info));
  emitted = true;
  if (std::find(opt_.stop_ids.begin(), opt_.stop_ids.end(), id) != opt_.stop_ids.end()) {
    r_.stop_reason = "stop";
    return true;
  }
  release(text_.push(id));
  if (text_.stopped()) {
    r_.stop_reason = "stop";
    return true;
  }
  if (stopped_by_client_) {
    r_.stop_reason = "cancelled";
    return true;
  }
  return static_cast<int>(r_.generated.size()) >= opt_.max_tokens;
}

void TokenEmitter::finish() {
  if (!text_.stopped()) release(text_.flush());
}

}  // namespace ug
