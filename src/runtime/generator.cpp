#include "runtime/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "base/error.h"

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

  Sampler sampler(with_model_suppression(opt.sampling, c), c.vocab_size);
  std::vector<int32_t> history = prompt.tokens;
  StreamDecoder stream(tokenizer);
  std::string pending;  // decoded text not yet released (may be the start of a stop string)
  bool stopped_by_client = false, stopped_by_string = false;
  auto release = [&](size_t n) {
    if (n == 0) return;
    std::string out = pending.substr(0, n);
    pending.erase(0, n);
    r.text += out;
    if (on_text && !on_text(out)) stopped_by_client = true;
  };

  auto t1 = Clock::now();
  r.stop_reason = "length";
  for (int step = 0; step < opt.max_tokens; ++step) {
    if (cancel && cancel->load()) {
      r.stop_reason = "cancelled";
      break;
    }
    StepInfo info;
    if (opt.top_logprobs > 0) info.top = top_logprobs(logits.data(), c.vocab_size, opt.top_logprobs);
    std::vector<float> raw;
    if (opt.top_logprobs > 0) raw = logits;  // the sampler modifies logits in place
    const int32_t id = sampler.sample(logits.data(), history);
    info.id = id;
    if (opt.top_logprobs > 0) info.logprob = log_softmax_at(raw.data(), c.vocab_size, id);
    r.generated.push_back(id);
    history.push_back(id);
    r.steps.push_back(std::move(info));
    if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), id) != opt.stop_ids.end()) {
      r.stop_reason = "stop";
      break;
    }
    pending += stream.push(id);
    size_t stop_at = std::string::npos;
    for (const auto& s : opt.stop_strings)
      if (!s.empty()) stop_at = std::min(stop_at, pending.find(s));
    if (stop_at != std::string::npos) {
      pending.resize(stop_at);
      release(pending.size());
      r.stop_reason = "stop";
      stopped_by_string = true;
      break;
    }
    release(pending.size() - stop_string_hold(pending, opt.stop_strings));
    if (stopped_by_client) {
      r.stop_reason = "cancelled";
      break;
    }
    if (step + 1 == opt.max_tokens) break;
    if (cache.n_past() >= cache.n_ctx()) {
      r.stop_reason = "length";
      break;
    }
    Batch b;
    b.tokens = {id};
    decoder.forward(b, cache, logits);
  }
  if (!stopped_by_string) {  // what was held back for a stop string that never came
    pending += stream.flush();
    release(pending.size());
  }
  r.generation_seconds = seconds_since(t1);
  return r;
}

}  // namespace ug
