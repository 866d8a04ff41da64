#include "model/kv_cache.h"

#include <algorithm>

#include "base/error.h"

namespace ug {

KvCache::KvCache(const Gemma4Config& c, int64_t n_ctx, int64_t rollback, bool f32)
    : n_ctx_(n_ctx), window_(c.sliding_window), f32_(f32), elem_(f32 ? 4 : 2) {
  if (n_ctx <= 0) fail("context length ", n_ctx, " must be positive");
  if (rollback < 0) fail("rollback ", rollback, " must not be negative");
  if (n_ctx > c.context_length)
    fail("context length ", n_ctx, " exceeds the model's maximum of ", c.context_length);
  layers_.resize(c.n_layer);
  for (int l = 0; l < c.n_layer; ++l) {
    Layer& L = layers_[l];
    L.sliding = c.is_sliding[l];
    L.width = c.kv_width(l);
    L.capacity = L.sliding ? std::min<int64_t>(n_ctx, c.sliding_window + rollback) : n_ctx;
    L.k.assign(static_cast<size_t>(L.capacity) * L.width * elem_, 0);
    L.v.assign(static_cast<size_t>(L.capacity) * L.width * elem_, 0);
  }
}

bool KvCache::can_truncate(int64_t n) const {
  if (n < 0 || n > n_past_) return false;
  for (const auto& L : layers_)
    if (L.sliding && std::max<int64_t>(0, n_past_ - L.capacity) > std::max<int64_t>(0, n - window_))
      return false;
  return true;
}

void KvCache::truncate(int64_t n) {
  if (!can_truncate(n))
    fail("cannot take the sequence back from ", n_past_, " to ", n,
         " tokens: the sliding-window cache no longer holds what that needs");
  n_past_ = n;
}

uint64_t KvCache::bytes() const {
  uint64_t b = 0;
  for (const auto& L : layers_) b += L.k.size() + L.v.size();
  return b;
}

}  // namespace ug
