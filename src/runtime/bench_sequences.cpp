#include "runtime/bench_sequences.h"

#include <chrono>
#include <memory>

#include "base/error.h"
#include "runtime/bench_runner.h"
#include "runtime/bench_util.h"

namespace ug {

std::vector<double> time_sequences(Decoder& dec, int n, int steps, int reps, uint64_t& rng) {
  using Clock = std::chrono::steady_clock;
  if (n < 1) fail("bench: --sequences takes counts of at least 1, got ", n);
  const Gemma4Config& c = dec.config();
  // Each sequence's cache, batch (one row) and logits; one step is one forward_multi.
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<Batch> batches(n);
  std::vector<std::vector<float>> logits(n);
  std::vector<SequenceBatch> seqs(n);
  for (int s = 0; s < n; ++s) {
    caches.push_back(std::make_unique<KvCache>(c, steps + 1));
    batches[s].tokens = {0};
    seqs[s] = SequenceBatch{&batches[s], caches[s].get(), &logits[s], nullptr};
  }
  std::vector<double> secs;
  for (int r = 0; r <= reps; ++r) {  // r = 0: warm-up (one step)
    std::vector<std::vector<int32_t>> toks;
    for (int s = 0; s < n; ++s) {
      toks.push_back(random_tokens(steps, c, rng));
      caches[s]->clear();
    }
    const int m = r == 0 ? 1 : steps;
    const auto t0 = Clock::now();
    for (int i = 0; i < m; ++i) {
      for (int s = 0; s < n; ++s) batches[s].tokens[0] = toks[s][i];
      dec.forward_multi(seqs);
    }
    if (r > 0) secs.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return secs;
}

}  // namespace ug
