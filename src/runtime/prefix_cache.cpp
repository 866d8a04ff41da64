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

}  // namespace ug
