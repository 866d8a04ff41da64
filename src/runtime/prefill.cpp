#include "runtime/prefill.h"

#include <algorithm>

#include "base/error.h"

namespace ug {

Batch prompt_batch(const Prompt& prompt, int64_t begin, int64_t end, int64_t n_embd) {
  Batch batch;
  batch.tokens.assign(prompt.tokens.begin() + begin, prompt.tokens.begin() + end);
  if (!prompt.soft.empty()) {
    batch.embeddings.assign(end - begin, nullptr);
    for (int64_t i = begin; i < end; ++i)
      if (!prompt.soft[i].empty()) {
        if (static_cast<int64_t>(prompt.soft[i].size()) != n_embd)
          fail("soft token ", i, " has ", prompt.soft[i].size(), " values, expected ", n_embd);
        batch.embeddings[i - begin] = prompt.soft[i].data();
      }
  }
  for (const auto& [b, e] : prompt.bidirectional)
    if (b >= begin && e <= end) batch.bidirectional.emplace_back(b - begin, e - begin);
  return batch;
}

int64_t chunk_end(const Prompt& prompt, int64_t begin, int64_t budget) {
  const int64_t n = static_cast<int64_t>(prompt.tokens.size());
  int64_t end = std::min(n, begin + std::max<int64_t>(1, budget));
  for (const auto& [b, e] : prompt.bidirectional)
    if (b < end && e > end) end = (b > begin) ? b : e;
  return end;
}

void prefill(Decoder& decoder, KvCache& cache, const Prompt& prompt, int ubatch,
             std::vector<float>& last_logits, std::vector<float>* last_hidden) {
  const int64_t n = static_cast<int64_t>(prompt.tokens.size());
  if (n == 0) fail("the prompt is empty");
  if (!prompt.soft.empty() && static_cast<int64_t>(prompt.soft.size()) != n)
    fail("prompt has ", n, " tokens but ", prompt.soft.size(), " soft-token rows");
  for (int64_t begin = 0; begin < n;) {
    const int64_t end = chunk_end(prompt, begin, ubatch);
    Batch batch = prompt_batch(prompt, begin, end, decoder.config().n_embd);
    decoder.forward(batch, cache, last_logits, end == n ? last_hidden : nullptr);
    begin = end;
  }
}

}  // namespace ug
