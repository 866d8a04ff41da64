#include "runtime/prefix_cache.h"

#include <algorithm>

namespace ug {

int64_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] >= 0 && a[i] == b[i]) ++i;
  return static_cast<int64_t>(i);
}

int64_t usable_prefix(const KvCache& cache, int64_t common, int64_t prompt_len) {
  int64_t keep = std::min({common, prompt_len - 1, cache.n_past()});
  if (keep <= 0) return 0;
  return cache.can_truncate(keep) ? keep : 0;
}

SlotChoice choose_slot(const std::vector<SlotCandidate>& free_slots,
                       const std::vector<int32_t>& prompt_keys) {
  SlotChoice best;
  uint64_t best_used = 0;
  const int64_t len = static_cast<int64_t>(prompt_keys.size());
  for (size_t i = 0; i < free_slots.size(); ++i) {
    const SlotCandidate& c = free_slots[i];
    int64_t keep = usable_prefix(*c.cache, common_prefix(*c.cached, prompt_keys), len);
    if (best.index < 0 || keep > best.keep || (keep == best.keep && c.last_used < best_used)) {
      best.index = static_cast<int>(i);
      best.keep = keep;
      best_used = c.last_used;
    }
  }
  return best;
}

std::vector<int32_t> prompt_prefix_keys(const Prompt& p) {
  std::vector<int32_t> keys = p.tokens;
  for (size_t i = 0; i < p.soft.size() && i < keys.size(); ++i) {
    if (p.soft[i].empty()) continue;
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the embedding's bytes
    const auto* b = reinterpret_cast<const unsigned char*>(p.soft[i].data());
    for (size_t j = 0; j < p.soft[i].size() * sizeof(float); ++j) h = (h ^ b[j]) * 1099511628211ull;
    keys[i] = static_cast<int32_t>((1u << 30) | static_cast<uint32_t>(h & 0x3fffffffu));
  }
  return keys;
}

int64_t keep_outside_blocks(int64_t keep, const Prompt& p) {
  for (const auto& [b, e] : p.bidirectional)
    if (keep > b && keep < e) keep = b;
  return keep;
}

}  // namespace ug
