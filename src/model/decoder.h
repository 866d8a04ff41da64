// The Gemma 4 text decoder forward pass (text spec §3–§4): a batch of rows appended to a
// sequence's KV cache, logits for the rows asked for.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "base/thread_pool.h"
#include "model/attention.h"
#include "model/kv_cache.h"
#include "model/layer_ops.h"
#include "model/rope.h"
#include "model/weights.h"

namespace ug {

struct Batch {
  std::vector<int32_t> tokens;  // one per row
  // Optional, one per row: a non-null pointer gives the row's input embedding (a multimodal soft
  // token, n_embd floats, not scaled) instead of the token's.
  std::vector<const float*> embeddings;
  // Row ranges [begin, end) that attend bidirectionally on sliding layers (image blocks,
  // input spec §1.8). Global layers stay causal.
  std::vector<std::pair<int64_t, int64_t>> bidirectional;
  bool all_logits = false;  // logits for every row, else only the last
  // No logits (and no hidden state) at all: a prefill chunk that does not end its prompt. The
  // tied head is a vocab x n_embd product per pass, which live audio's small chunks would pay
  // again and again for nothing.
  bool no_logits = false;
};

// One sequence's part of a multi-sequence pass (continuous batching).
struct SequenceBatch {
  const Batch* batch = nullptr;
  KvCache* cache = nullptr;
  std::vector<float>* logits = nullptr;  // null: no head for this sequence (hidden only)
  std::vector<float>* hidden = nullptr;
};

class Decoder {
 public:
  Decoder(std::shared_ptr<const Gemma4Weights> weights, int threads = 0);

  const Gemma4Config& config() const { return w_->config; }
  const Gemma4Weights& weights() const { return *w_; }
  ThreadPool& pool() { return pool_; }

  // Runs the batch at positions cache.n_past() … and advances the cache. logits gets
  // [rows_out, vocab] with softcap and suppressed tokens (−inf) applied. If hidden is given it
  // gets the post-final-norm rows (the MTP drafter's h) for the same rows.
  void forward(const Batch& batch, KvCache& cache, std::vector<float>& logits,
               std::vector<float>* hidden = nullptr);

  // The post-final-norm rows only, without the output head (embeddings): hidden gets
  // [rows_out, n_embd] for the rows Batch::all_logits asks for.
  void forward_hidden(const Batch& batch, KvCache& cache, std::vector<float>& hidden);

  // Advances several sequences in one pass: their rows go through every weight matrix together
  // (the weights are read once for all of them); attention stays within each sequence.
  void forward_multi(const std::vector<SequenceBatch>& seqs);

  // Input embedding of one token: E[token] · √n_embd.
  void embed_token(int32_t token, float* out) const;

 private:
  // Rows [row0, row0 + n) of the scratch buffers belong to one sequence at positions p0...:
  // their attention over the cache and themselves into o_, then their K/V into the cache.
  void attention(int layer, int64_t row0, int64_t n, int64_t p0, const Batch& batch,
                 KvCache& cache);

  std::shared_ptr<const Gemma4Weights> w_;
  ThreadPool pool_;
  RopeTable rope_swa_, rope_global_;
  Attention attention_;
  // Scratch, grown on demand and reused: x [n, d], a [n, d], q [n, q_width], k/v [n, kv_width],
  // o [n, q_width]. kr_/vr_ hold the batch's final K and V rows.
  std::vector<float> x_, a_, q_, kr_, vr_, o_;
  TailScratch tail_;         // the sub-layer tails' a [n, d], g/u [n, n_ff]
  std::vector<float> head_;  // logits of the output rows [rows, vocab]
  // This pass's RoPE angles per row: [n][pairs] of each layer kind.
  std::vector<float> cos_swa_, sin_swa_, cos_global_, sin_global_;
  // Per-row bookkeeping of a pass, kept to avoid allocating per token.
  std::vector<int64_t> pos_, block_end_, lo_, hi_, out_rows_, row0_, p0_;
  std::vector<SequenceBatch> one_seq_;
  std::vector<char> row_f16_;
};

}  // namespace ug
