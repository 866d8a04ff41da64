#include "runtime/speculative.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "base/error.h"
#include "runtime/token_emitter.h"

namespace ug {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The smallest number of positions any sliding layer can take back (large when none wraps).
int64_t rollback_margin(const KvCache& cache, const Gemma4Config& c) {
  int64_t margin = std::numeric_limits<int64_t>::max();
  for (int l = 0; l < c.n_layer; ++l)
    if (cache.sliding(l) && cache.capacity(l) < cache.n_ctx())
      margin = std::min<int64_t>(margin, cache.capacity(l) - c.sliding_window);
  return margin;
}

}  // namespace

Drafter assistant_drafter(const AssistantModel& assistant, Decoder& target, const KvCache& cache,
                          std::vector<int32_t> never) {
  if (assistant.n_embd_target != target.config().n_embd ||
      assistant.vocab_size != target.config().vocab_size)
    fail("the assistant ", assistant.source, " (width ", assistant.n_embd_target, ", vocabulary ",
         assistant.vocab_size, ") does not belong to this model (width ", target.config().n_embd,
         ", vocabulary ", target.config().vocab_size, ")");
  return [&assistant, &target, &cache, never = std::move(never)](
             const std::vector<int32_t>& history, const float* h, int64_t pos, int n,
             std::vector<int32_t>& drafts) {
    std::vector<float> logits, h_cur(h, h + target.config().n_embd), h_next;
    int32_t t = history.back();
    drafts.clear();
    for (int k = 0; k < n; ++k) {
      draft_step(assistant, target, cache, target.pool(), t, h_cur.data(), pos, logits, h_next);
      for (int32_t s : never)
        if (s >= 0 && s < static_cast<int32_t>(logits.size()))
          logits[s] = -std::numeric_limits<float>::infinity();
      t = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      drafts.push_back(t);
      h_cur.swap(h_next);
    }
  };
}

GenerateResult generate_with_drafter(Decoder& decoder, KvCache& cache, const Drafter& drafter,
                                     const Tokenizer& tokenizer, const Prompt& prompt,
                                     const GenerateOptions& opt, int n_draft,
                                     const std::function<bool(const std::string&)>& on_text,
                                     const std::atomic<bool>* cancel, SpeculativeStats* stats) {
  const Gemma4Config& c = decoder.config();
  n_draft = std::max(0, n_draft);
  if (rollback_margin(cache, c) < n_draft)
    fail("speculative decoding with ", n_draft,
         " draft tokens needs a KV cache that can take back ", n_draft,
         " positions; create it with rollback >= ", n_draft);
  SpeculativeStats st;
  GenerateResult r;
  r.prompt_tokens = static_cast<int64_t>(prompt.tokens.size());
  std::vector<float> logits, hidden;
  auto t0 = Clock::now();
  prefill(decoder, cache, prompt, opt.ubatch, logits, &hidden);
  r.prompt_seconds = seconds_since(t0);

  TokenEmitter emit(c, tokenizer, prompt, opt, on_text, cancel, r);
  const std::vector<int32_t>& history = emit.history();

  auto t1 = Clock::now();
  r.stop_reason = "length";
  bool emitted = false;  // whether the last emit.take() added a token
  if (opt.max_tokens > 0 && !emit.take(logits.data(), emitted)) {
    std::vector<int32_t> drafts;
    std::vector<float> vlogits, vhidden;
    while (true) {
      const int64_t p = cache.n_past();  // position of history.back(), not yet in the cache
      if (p >= cache.n_ctx()) {
        r.stop_reason = "length";
        break;
      }
      // Drafts beyond what could still be emitted or beyond the context are wasted work.
      const int64_t room =
          std::min<int64_t>(opt.max_tokens - r.generated.size() - 1, cache.n_ctx() - p - 1);
      const int n = static_cast<int>(std::clamp<int64_t>(room, 0, n_draft));
      drafts.clear();
      if (n > 0) {
        auto td = Clock::now();
        drafter(history, hidden.data(), p, n, drafts);
        st.draft_seconds += seconds_since(td);
        if (static_cast<int>(drafts.size()) > n) drafts.resize(n);
      }
      Batch b;
      b.tokens.push_back(history.back());
      b.tokens.insert(b.tokens.end(), drafts.begin(), drafts.end());
      b.all_logits = true;
      auto tv = Clock::now();
      decoder.forward(b, cache, vlogits, &vhidden);
      st.verify_seconds += seconds_since(tv);
      ++st.verify_passes;
      st.drafted += static_cast<int64_t>(drafts.size());
      // Row i holds the target's logits after [t, d1..di]; d(i+1) is kept when the target's
      // sampler picks it there. The token sampled at the first disagreement (or after the last
      // draft) is the target's own and is always emitted.
      int64_t acc = 0;
      bool done = false;
      for (size_t i = 0; i <= drafts.size(); ++i) {
        done = emit.take(&vlogits[i * c.vocab_size], emitted);
        const bool match = emitted && i < drafts.size() && r.generated.back() == drafts[i];
        if (match) acc = static_cast<int64_t>(i) + 1;
        if (done || !match) break;
      }
      st.accepted += acc;
      if (done) break;
      cache.truncate(p + 1 + acc);  // drop the rejected drafts' positions
      hidden.assign(vhidden.begin() + acc * c.n_embd, vhidden.begin() + (acc + 1) * c.n_embd);
    }
  }
  // generate() feeds every emitted token to the target except one that ended generation; the
  // verification pass may have gone further (a matched draft, rejected ones), so cut back to that.
  const int64_t fed =
      static_cast<int64_t>(prompt.tokens.size() + r.generated.size()) - (emitted ? 1 : 0);
  if (fed < cache.n_past()) cache.truncate(fed);
  emit.finish();
  r.generation_seconds = seconds_since(t1);
  if (stats) *stats = st;
  return r;
}

GenerateResult generate_speculative(Decoder& decoder, KvCache& cache,
                                    const AssistantModel& assistant, const Tokenizer& tokenizer,
                                    const Prompt& prompt, const GenerateOptions& options,
                                    int n_draft,
                                    const std::function<bool(const std::string&)>& on_text,
                                    const std::atomic<bool>* cancel, SpeculativeStats* stats) {
  std::vector<int32_t> never = options.sampling.suppress;
  for (int32_t s : decoder.config().suppress_tokens) never.push_back(s);
  return generate_with_drafter(decoder, cache,
                               assistant_drafter(assistant, decoder, cache, std::move(never)),
                               tokenizer, prompt, options, n_draft, on_text, cancel, stats);
}

}  // namespace ug
