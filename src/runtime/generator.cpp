#include "runtime/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "base/error.h"
#include "runtime/token_emitter.h"

namespace ug {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

SamplingParams with_model_suppression(SamplingParams params, const Gemma4Config& config) {
  for (int32_t t : config.suppress_tokens)
    if (std::find(params.suppress.begin(), params.suppress.end(), t) == params.suppress.end())
      params.suppress.push_back(t);
  return params;
}

float log_softmax_at(const float* z, int64_t n, int32_t id) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, z[i]);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(z[i]) - mx);
  return static_cast<float>(double(z[id]) - mx - std::log(s));
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

void prefill(Decoder& decoder, KvCache& cache, const Prompt& prompt, int ubatch,
             std::vector<float>& last_logits, std::vector<float>* last_hidden) {
  const int64_t n = static_cast<int64_t>(prompt.tokens.size());
  if (n == 0) fail("the prompt is empty");
  if (!prompt.soft.empty() && static_cast<int64_t>(prompt.soft.size()) != n)
    fail("prompt has ", n, " tokens but ", prompt.soft.size(), " soft-token rows");
  ubatch = std::max(1, ubatch);
  int64_t begin = 0;
  while (begin < n) {
    int64_t end = std::min(n, begin + ubatch);
    // An image block is prefilled in one chunk: its attention is bidirectional (input spec §1.8).
    for (const auto& [b, e] : prompt.bidirectional)
      if (b < end && e > end) end = (b > begin) ? b : e;
    Batch batch;
    batch.tokens.assign(prompt.tokens.begin() + begin, prompt.tokens.begin() + end);
    if (!prompt.soft.empty()) {
      batch.embeddings.resize(end - begin, nullptr);
      for (int64_t i = begin; i < end; ++i)
        if (!prompt.soft[i].empty()) {
          if (static_cast<int64_t>(prompt.soft[i].size()) != decoder.config().n_embd)
            fail("soft token ", i, " has ", prompt.soft[i].size(), " values, expected ",
                 decoder.config().n_embd);
          batch.embeddings[i - begin] = prompt.soft[i].data();
        }
    }
    for (const auto& [b, e] : prompt.bidirectional)
      if (b >= begin && e <= end) batch.bidirectional.emplace_back(b - begin, e - begin);
    decoder.forward(batch, cache, last_logits, end == n ? last_hidden : nullptr);
    begin = end;
  }
}

GenerateResult generate(Decoder& decoder, KvCache& cache, const Tokenizer& tokenizer,
                        const Prompt& prompt, const GenerateOptions& opt,
                        const std::function<bool(const std::string&)>& on_text,
                        const std::atomic<bool>* cancel) {
  const Gemma4Config& c = decoder.config();
  GenerateResult r;
  r.prompt_tokens = static_cast<int64_t>(prompt.tokens.size());
  std::vector<float> logits;
  auto t0 = Clock::now();
  prefill(decoder, cache, prompt, opt.ubatch, logits);
  r.prompt_seconds = seconds_since(t0);

  TokenEmitter emit(c, tokenizer, prompt, opt, on_text, cancel, r);
  auto t1 = Clock::now();
  r.stop_reason = "length";
  bool emitted = false;
  for (int step = 0; step < opt.max_tokens; ++step) {
    if (emit.take(logits.data(), emitted)) break;
    if (cache.n_past() >= cache.n_ctx()) {
      r.stop_reason = "length";
      break;
    }
    Batch b;
    b.tokens = {emit.history().back()};
    decoder.forward(b, cache, logits);
  }
  emit.finish();
  r.generation_seconds = seconds_since(t1);
  return r;
}

}  // namespace ug
