// Speculative decoding with the MTP assistant (text spec §7.4–§7.5): draft a few tokens at a
// constant position, verify them in one target pass, keep the prefix the target's own sampler
// agrees with plus one token of the target's, drop the rest from the KV cache. The output is the
// one plain `generate` would give (same sampler, same seed, same stops).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/assistant.h"
#include "runtime/generator.h"

namespace ug {

struct SpeculativeStats {
  int64_t verify_passes = 0;  // target forwards after the prefill
  int64_t drafted = 0;        // draft tokens proposed
  int64_t accepted = 0;       // of those, emitted because the target sampled the same token
  double draft_seconds = 0;   // time in the drafter
  double verify_seconds = 0;  // time in the target's verification forwards
  double acceptance() const { return drafted ? double(accepted) / double(drafted) : 0.0; }
};

// Proposes up to n tokens (fewer is allowed) to follow `history` (prompt + generated; its last
// token sits at position pos and is not yet in the target's cache). h [n_embd] is the target's
// post-norm hidden row whose logits produced that last token.
using Drafter = std::function<void(const std::vector<int32_t>& history, const float* h, int64_t pos,
                                   int n, std::vector<int32_t>& drafts)>;

// The MTP assistant as a Drafter: greedy steps at the constant position pos, each feeding its
// h_next to the next (text spec §7.4). Tokens in `never` (the sampler's suppressed ids) are not
// proposed. The decoder, cache and assistant must outlive the drafter.
Drafter assistant_drafter(const AssistantModel& assistant, Decoder& target, const KvCache& cache,
                          std::vector<int32_t> never = {});

// Same contract as generate() (generator.h): stop ids, stop strings held back, StepInfo and top
// log-probabilities, streamed text, cancellation; stop_reason and timings as there. The cache must
// allow taking back n_draft positions (KvCache rollback >= n_draft). On return the cache holds
// what generate() would leave in it. stats, if given, receives the acceptance counts.
GenerateResult generate_speculative(
    Decoder& decoder, KvCache& cache, const AssistantModel& assistant, const Tokenizer& tokenizer,
    const Prompt& prompt, const GenerateOptions& options, int n_draft = 3,
    const std::function<bool(const std::string&)>& on_text = nullptr,
    const std::atomic<bool>* cancel = nullptr, SpeculativeStats* stats = nullptr);

// The same loop with any drafter (tests use oracles; n-gram drafters would fit too).
GenerateResult generate_with_drafter(
    Decoder& decoder, KvCache& cache, const Drafter& drafter, const Tokenizer& tokenizer,
    const Prompt& prompt, const GenerateOptions& options, int n_draft,
    const std::function<bool(const std::string&)>& on_text = nullptr,
    const std::atomic<bool>* cancel = nullptr, SpeculativeStats* stats = nullptr);

}  // namespace ug
