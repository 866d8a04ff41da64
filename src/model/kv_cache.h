// The KV cache of one sequence (text spec §2.4, §4.2). Global layers keep every position;
// sliding layers keep a ring of the last `window` positions, so their size never grows with the
// context. Values are stored as f16 (default) or f32.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace ug {

class KvCache {
 public:
  // Sliding layers keep `window + rollback` positions so that the last `rollback` tokens can be
  // taken back (a rejected draft, a re-rendered chat turn) without recomputing the prefix.
  KvCache(const Gemma4Config& config, int64_t n_ctx, int64_t rollback = 256, bool f32 = false);

  bool is_f32() const { return f32_; }

  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_past() const { return n_past_; }
  void clear() { n_past_ = 0; }
  // Called by the decoder once a batch of n positions has been written to every layer.
  void advance(int64_t n) { n_past_ += n; }
  // Whether the sequence can be cut back to its first n positions with every position that the
  // remaining ones need still held.
  bool can_truncate(int64_t n) const;
  void truncate(int64_t n);  // throws if !can_truncate(n)
  int64_t capacity(int layer) const { return layers_[layer].capacity; }

  bool sliding(int layer) const { return layers_[layer].sliding; }
  int kv_width(int layer) const { return layers_[layer].width; }
  // Slot of a position in a layer's storage (ring index on sliding layers).
  int64_t slot(int layer, int64_t pos) const {
    const Layer& L = layers_[layer];
    return L.sliding ? pos % L.capacity : pos;
  }
  // Element `slot` of a layer's K or V rows: uint16_t (f16 bits) or float, as is_f32() says.
  void* k(int layer, int64_t slot) { return row(layers_[layer].k, layer, slot); }
  void* v(int layer, int64_t slot) { return row(layers_[layer].v, layer, slot); }
  const void* k(int layer, int64_t slot) const { return const_cast<KvCache*>(this)->k(layer, slot); }
  const void* v(int layer, int64_t slot) const { return const_cast<KvCache*>(this)->v(layer, slot); }

  uint64_t bytes() const;  // allocated K and V bytes of all layers

 private:
  struct Layer {
    bool sliding;
    int width;          // kv heads × head dim
    int64_t capacity;   // positions held
    std::vector<uint8_t> k, v;
  };
  void* row(std::vector<uint8_t>& data, int layer, int64_t slot) {
    return &data[static_cast<size_t>(slot) * layers_[layer].width * elem_];
  }
  std::vector<Layer> layers_;
  int64_t n_ctx_;
  int window_;
  bool f32_;
  size_t elem_;  // bytes per value
  int64_t n_past_ = 0;
};

}  // namespace ug
