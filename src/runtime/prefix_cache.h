// Prefix caching across requests: each slot remembers which token sits at each position of its
// KvCache, so a new prompt can go to the free slot that already holds its longest usable prefix
// and compute only the rest (docs/SERVER.md explains the sliding-window limit).
#pragma once

#include <cstdint>
#include <vector>

#include "model/kv_cache.h"
#include "runtime/prompt.h"

namespace ug {

// Marks a row that has no reusable identity (a multimodal soft token): it matches nothing.
inline constexpr int32_t kNoPrefixKey = -1;

// The key of each prompt row: its token id, or for a multimodal soft token a 30-bit hash of its
// embedding tagged with bit 30, so the same image or sound in a later request matches while a
// different one (same placeholder id) does not.
std::vector<int32_t> prompt_prefix_keys(const Prompt& prompt);

// A kept prefix must not end inside an image block: the block is computed whole, bidirectionally.
int64_t keep_outside_blocks(int64_t keep, const Prompt& prompt);

// Number of leading positions where both sequences hold the same non-negative token.
int64_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b);

// How many of the cached positions a prompt of `prompt_len` rows can keep: the common prefix,
// less one when it covers the whole prompt (the last row must be computed for its logits),
// and 0 when the cache can no longer be cut back that far.
int64_t usable_prefix(const KvCache& cache, int64_t common, int64_t prompt_len);

struct SlotCandidate {
  const KvCache* cache = nullptr;
  const std::vector<int32_t>* cached = nullptr;  // key of each position the cache holds
  uint64_t last_used = 0;                        // larger = more recent
};

struct SlotChoice {
  int index = -1;    // into the candidates
  int64_t keep = 0;  // positions to keep (truncate the slot's cache to this)
};

// The candidate with the longest usable prefix; on a tie the least recently used one, so that
// the other slots' caches survive longer.
SlotChoice choose_slot(const std::vector<SlotCandidate>& free_slots,
                       const std::vector<int32_t>& prompt_keys);

}  // namespace ug
