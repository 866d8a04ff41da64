// Where speculative draft tokens come from (text spec §7.4–§7.5). The engine asks a Drafter for a
// few tokens to follow a sequence, verifies them in its next batched pass and keeps the ones the
// target's own sampler agrees with.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "model/assistant.h"
#include "model/decoder.h"

namespace ug {

class Drafter {
 public:
  virtual ~Drafter() = default;
  // Proposes up to n tokens (fewer is allowed) to follow `history` (prompt + generated; its last
  // token sits at position pos and is not yet in `cache`). h [n_embd]: the target's post-norm
  // hidden row whose logits produced that last token. Tokens in `never` are not proposed.
  virtual void draft(const std::vector<int32_t>& history, const float* h, int64_t pos,
                     const KvCache& cache, int n, const std::vector<int32_t>& never,
                     std::vector<int32_t>& drafts) = 0;
};

// Builds the engine's drafter once the engine's decoder exists (the drafter may use its pool and
// embeddings).
using DrafterFactory = std::function<std::unique_ptr<Drafter>(Decoder& target)>;

// The MTP assistant: greedy steps at the constant position pos, each feeding its h_next to the
// next (text spec §7.4). Throws ug::Error when the assistant does not belong to the target.
DrafterFactory assistant_drafter(std::shared_ptr<const AssistantModel> assistant);

}  // namespace ug
