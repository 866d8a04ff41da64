// One layer's attention for query rows of one sequence (text spec §3.4): scores q·k with scale
// 1.0 over each row's visible key positions, softmax in f32, weighted sum of V, with the kernels
// of kernels/attention.h. The decoder runs it for every layer and sequence; the MTP drafter for
// its single query row over the target's cache (text spec §7.3).
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "model/kv_cache.h"

namespace ug {

struct AttentionJob {
  const KvCache* cache = nullptr;
  int layer = 0;  // the cache layer holding the keys
  int n_head = 0, n_kv_head = 0, head_dim = 0;
  // q, out: [rows][row_stride], each row n_head heads of head_dim; query head h reads KV head
  // h / (n_head / n_kv_head) (text spec §3.4).
  int64_t rows = 0, row_stride = 0;
  const float* q = nullptr;
  float* out = nullptr;
  // Row i attends to the key positions lo[i]..hi[i] (inclusive; none when hi[i] < lo[i]).
  const int64_t* lo = nullptr;
  const int64_t* hi = nullptr;
  // Keys at positions ≥ p0 are this batch's rows: K and V [position − p0][the layer's kv width]
  // in f32 (with an f16 cache, holding f16 values, so a key scores alike before and after it is
  // cached); positions < p0 come from the cache.
  int64_t p0 = 0;
  const float* k_new = nullptr;
  const float* v_new = nullptr;
};

// Scratch for runs of AttentionJob, grown on demand and reused (no allocation once warm).
class Attention {
 public:
  // A unit of work is one row and one KV head with all the query heads that share it, so each key
  // and value row is read once per group. With fewer units than threads (decode), each unit's key
  // range is cut into parts whose partial softmax sums are merged afterwards.
  void run(const AttentionJob& job, ThreadPool& pool);

 private:
  std::vector<std::vector<float>> scores_;  // per thread: [heads of a group][keys]
  // Attention split over key ranges (decode): per part [heads][hd] sums, then max and sum.
  std::vector<float> part_acc_, part_max_, part_sum_;
};

}  // namespace ug
