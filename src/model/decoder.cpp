#include "model/decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/error.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/matmul_shared.h"
#include "model/layer_ops.h"
#include "tensor/half.h"

namespace ug {

namespace {

template <class T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// Stores a row of f32 values into a cache row of either element type.
void store_row(const float* src, void* dst, int64_t n, bool f32) {
  if (f32)
    std::copy(src, src + n, static_cast<float*>(dst));
  else
    store_f16(src, static_cast<uint16_t*>(dst), n);
}

}  // namespace

Decoder::Decoder(std::shared_ptr<const Gemma4Weights> weights, int threads)
    : w_(std::move(weights)), pool_(threads) {
  const Gemma4Config& c = w_->config;
  rope_swa_ = RopeTable(rope_inv_freq(c.rope_base_swa, c.head_dim_swa, {}));
  rope_global_ =
      RopeTable(rope_inv_freq(c.rope_base_global, c.head_dim_global, w_->rope_freq_factors));
}

void Decoder::embed_token(int32_t token, float* out) const {
  const Gemma4Config& c = w_->config;
  if (token < 0 || token >= c.vocab_size)
    fail("token id ", token, " is outside the vocabulary (0..", c.vocab_size - 1, ")");
  embedding_row(w_->tok_embd, token, out);
  const float s = c.embed_scale();
  for (int i = 0; i < c.n_embd; ++i) out[i] *= s;
}

void Decoder::forward(const Batch& batch, KvCache& cache, std::vector<float>& logits,
                      std::vector<float>* hidden) {
  one_seq_.assign(1, SequenceBatch{&batch, &cache, &logits, hidden});  // no allocation per token
  forward_multi(one_seq_);
}

void Decoder::forward_hidden(const Batch& batch, KvCache& cache, std::vector<float>& hidden) {
  one_seq_.assign(1, SequenceBatch{&batch, &cache, nullptr, &hidden});
  forward_multi(one_seq_);
}

void Decoder::forward_multi(const std::vector<SequenceBatch>& seqs) {
  const Gemma4Config& c = w_->config;
  const int64_t d = c.n_embd;
  // Validate every sequence before touching any cache.
  std::vector<int64_t>& row0 = row0_;
  std::vector<int64_t>& p0 = p0_;
  row0.resize(seqs.size());
  p0.resize(seqs.size());
  int64_t n = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const Batch& batch = *seqs[s].batch;
    const int64_t m = static_cast<int64_t>(batch.tokens.size());
    if (m == 0) fail("empty batch");
    if (!seqs[s].logits && !seqs[s].hidden)
      fail("a sequence asks for neither logits nor hidden rows");
    if (!batch.embeddings.empty() && static_cast<int64_t>(batch.embeddings.size()) != m)
      fail("batch has ", m, " tokens but ", batch.embeddings.size(), " embedding slots");
    p0[s] = seqs[s].cache->n_past();
    if (p0[s] + m > seqs[s].cache->n_ctx())
      fail("the sequence would be ", p0[s] + m, " tokens long, beyond the context size of ",
           seqs[s].cache->n_ctx(), " (use a larger --ctx-size)");
    for (const auto& [b, e] : batch.bidirectional)
      if (b < 0 || e > m || b >= e)
        fail("bidirectional block [", b, ", ", e, ") is outside the batch");
    for (size_t i = 0; i < batch.tokens.size(); ++i) {
      bool soft = !batch.embeddings.empty() && batch.embeddings[i];
      if (!soft && (batch.tokens[i] < 0 || batch.tokens[i] >= c.vocab_size))
        fail("token id ", batch.tokens[i], " is outside the vocabulary (0..", c.vocab_size - 1,
             ")");
    }
    for (size_t t = 0; t < s; ++t)
      if (seqs[t].cache == seqs[s].cache) fail("a sequence appears twice in one pass");
    row0[s] = n;
    n += m;
  }
  if (n == 0) return;

  int64_t max_q = 0, max_kv = 0;
  for (int l = 0; l < c.n_layer; ++l) {
    max_q = std::max<int64_t>(max_q, c.q_width(l));
    max_kv = std::max<int64_t>(max_kv, c.kv_width(l));
  }
  grow(x_, n * d);
  grow(a_, n * d);
  grow(q_, n * max_q);
  grow(o_, n * max_q);
  grow(kr_, n * max_kv);
  grow(vr_, n * max_kv);

  // x: [n, d] input embeddings (text spec §3.1); soft tokens are not scaled.
  for (size_t s = 0; s < seqs.size(); ++s) {
    const Batch& batch = *seqs[s].batch;
    for (size_t i = 0; i < batch.tokens.size(); ++i) {
      float* x = &x_[(row0[s] + i) * d];
      const float* e = batch.embeddings.empty() ? nullptr : batch.embeddings[i];
      if (e)
        std::copy(e, e + d, x);
      else
        embed_token(batch.tokens[i], x);
    }
  }
  // pos[r]: the position of scratch row r in its sequence; f16[r]: its cache stores f16.
  std::vector<int64_t>& pos = pos_;
  std::vector<char>& f16 = row_f16_;
  pos.resize(n);
  f16.resize(n);
  int64_t end_pos = 0;
  for (size_t s = 0; s < seqs.size(); ++s)
    for (size_t i = 0; i < seqs[s].batch->tokens.size(); ++i) {
      pos[row0[s] + i] = p0[s] + i;
      f16[row0[s] + i] = !seqs[s].cache->is_f32();
      end_pos = std::max<int64_t>(end_pos, p0[s] + i + 1);
    }
  // Each row's RoPE angles, once for all layers of a kind (text spec §3.5): [n][pairs].
  const int64_t np_swa = rope_swa_.pairs(), np_global = rope_global_.pairs();
  rope_swa_.reserve(end_pos);
  rope_global_.reserve(end_pos);
  grow(cos_swa_, n * np_swa);
  grow(sin_swa_, n * np_swa);
  grow(cos_global_, n * np_global);
  grow(sin_global_, n * np_global);
  for (int64_t i = 0; i < n; ++i) {
    rope_swa_.angles(pos[i], &cos_swa_[i * np_swa], &sin_swa_[i * np_swa]);
    rope_global_.angles(pos[i], &cos_global_[i * np_global], &sin_global_[i * np_global]);
  }

  for (int l = 0; l < c.n_layer; ++l) {
    const LayerWeights& L = w_->layers[l];
    const int hd = c.head_dim(l), nkv = c.kv_heads(l);
    const int64_t qw = c.q_width(l), kw = c.kv_width(l);
    const bool sliding = c.is_sliding[l];
    const int64_t n_rot = sliding ? np_swa : np_global;
    const float* cos = sliding ? cos_swa_.data() : cos_global_.data();
    const float* sin = sliding ? sin_swa_.data() : sin_global_.data();

    // a = rmsnorm(x, w_attn_norm)
    rms_norm_rows(pool_, x_.data(), L.attn_norm.data(), n, d, c.rms_eps, a_.data());
    // q = a·Wq: [n, n_head, hd]; raw k = a·Wk and v = a·Wv: [n, nkv, hd] (K=V layers: v = raw k)
    if (L.wv.data) {
      matmul_shared_input({{&L.wq, q_.data()}, {&L.wk, kr_.data()}, {&L.wv, vr_.data()}}, a_.data(),
                          n, pool_);
    } else {
      matmul_shared_input({{&L.wq, q_.data()}, {&L.wk, kr_.data()}}, a_.data(), n, pool_);
      std::copy(kr_.begin(), kr_.begin() + n * kw, vr_.begin());
    }
    // q = rope(rmsnorm_per_head(q, w_q_norm)); k = rope(rmsnorm_per_head(k, w_k_norm));
    // v = rmsnorm_per_head(v) without weight. With an f16 cache, this batch attends to its own
    // K/V as the cache will hold them.
    for_each_row(pool_, n, [&](int64_t i) {
      float* k = &kr_[i * kw];
      float* v = &vr_[i * kw];
      const float* ci = cos + i * n_rot;
      const float* si = sin + i * n_rot;
      norm_rope_heads(&q_[i * qw], c.n_head, hd, L.q_norm.data(), c.rms_eps, ci, si, n_rot);
      norm_rope_heads(k, nkv, hd, L.k_norm.data(), c.rms_eps, ci, si, n_rot);
      norm_rope_heads(v, nkv, hd, nullptr, c.rms_eps, nullptr, nullptr, 0);
      if (f16[i]) {
        round_through_f16(k, kw);
        round_through_f16(v, kw);
      }
    });
    // o = attention(q, K, V) per sequence (text spec §3.4, §4): o_ [n, n_head · hd]
    for (size_t s = 0; s < seqs.size(); ++s)
      attention(l, row0[s], static_cast<int64_t>(seqs[s].batch->tokens.size()), p0[s],
                *seqs[s].batch, *seqs[s].cache);
    const LayerTail tail{&L.wo,     L.post_attn_norm.data(), L.ffn_norm.data(), &L.w_gate, &L.w_up,
                         &L.w_down, L.post_ffw_norm.data(),  L.layer_scalar};
    // x = x + rmsnorm(o·Wo, w_post_attn_norm)
    attention_output(pool_, tail, o_.data(), x_.data(), n, d, c.rms_eps, tail_);
    // x = (x + rmsnorm(ffn(rmsnorm(x, w_ffn_norm)), w_post_ffw_norm)) · layer_scalar
    feed_forward(pool_, tail, x_.data(), n, d, c.n_ff, c.rms_eps, tail_);
  }

  // h = rmsnorm(x, w_final_norm); logits = softcap(h·Eᵀ) for the rows asked for: every row, or
  // each sequence's last; suppressed tokens −inf (text spec §3.6, §3.8).
  std::vector<int64_t>& out_rows = out_rows_;
  out_rows.clear();
  for (size_t s = 0; s < seqs.size(); ++s) {
    seqs[s].cache->advance(static_cast<int64_t>(seqs[s].batch->tokens.size()));
    const int64_t m = static_cast<int64_t>(seqs[s].batch->tokens.size());
    if (seqs[s].batch->no_logits) continue;
    for (int64_t i = seqs[s].batch->all_logits ? 0 : m - 1; i < m; ++i)
      out_rows.push_back(row0[s] + i);
  }
  const int64_t rows = static_cast<int64_t>(out_rows.size());
  for (int64_t i = 0; i < rows; ++i)  // gathered so that the head reads one block of rows
    std::copy_n(&x_[out_rows[i] * d], d, &a_[i * d]);
  rms_norm_rows(pool_, a_.data(), w_->output_norm.data(), rows, d, c.rms_eps, a_.data());
  bool any_logits = false;  // embeddings ask for the normed rows only
  for (const SequenceBatch& sb : seqs) any_logits = any_logits || sb.logits;
  // No rows when every sequence's chunk is a no_logits prefill chunk.
  if (any_logits && rows > 0) {
    grow(head_, static_cast<size_t>(rows) * c.vocab_size);
    matmul(w_->tok_embd, a_.data(), rows, head_.data(), pool_);
    softcap(pool_, head_.data(), rows * c.vocab_size, c.final_softcap);
  }
  int64_t r = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const int64_t m = static_cast<int64_t>(seqs[s].batch->tokens.size());
    const int64_t k = seqs[s].batch->no_logits ? 0 : seqs[s].batch->all_logits ? m : 1;
    if (!seqs[s].logits) {
      seqs[s].hidden->assign(a_.begin() + r * d, a_.begin() + (r + k) * d);
      r += k;
      continue;
    }
    std::vector<float>& logits = *seqs[s].logits;
    logits.assign(head_.begin() + r * c.vocab_size, head_.begin() + (r + k) * c.vocab_size);
    if (seqs[s].hidden) seqs[s].hidden->assign(a_.begin() + r * d, a_.begin() + (r + k) * d);
    for (int64_t i = 0; i < k; ++i) {
      float* z = &logits[i * c.vocab_size];
      for (int32_t t : c.suppress_tokens)
        if (t >= 0 && t < c.vocab_size) z[t] = -std::numeric_limits<float>::infinity();
    }
    r += k;
  }
}

// The keys each query row may see (text spec §4): causal, the window on sliding layers, and image
// blocks bidirectional on sliding layers only. Past positions come from the cache; this batch's
// from kr_/vr_ (already rounded like the cache). Then this batch's K/V go into the cache.
void Decoder::attention(int layer, int64_t row0, int64_t n, int64_t p0, const Batch& batch,
                        KvCache& cache) {
  const Gemma4Config& c = w_->config;
  const bool sliding = c.is_sliding[layer];
  const int64_t qw = c.q_width(layer), kw = c.kv_width(layer), W = c.sliding_window;
  const bool f32 = cache.is_f32();
  const float* kb = &kr_[row0 * kw];  // this sequence's rows of the batch: [n, kw]
  const float* vb = &vr_[row0 * kw];

  std::vector<int64_t>& block_end = block_end_;  // last row a row may see through its image block
  block_end.assign(n, -1);
  if (sliding)
    for (const auto& [b, e] : batch.bidirectional)
      for (int64_t i = b; i < e; ++i) block_end[i] = e - 1;
  lo_.resize(n);
  hi_.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t pos = p0 + i;
    lo_[i] = sliding ? std::max<int64_t>(0, pos - W + 1) : 0;
    hi_[i] = std::max(pos, p0 + block_end[i]);
  }
  AttentionJob job;
  job.cache = &cache;
  job.layer = layer;
  job.n_head = c.n_head;
  job.n_kv_head = c.kv_heads(layer);
  job.head_dim = c.head_dim(layer);
  job.rows = n;
  job.row_stride = qw;
  job.q = &q_[row0 * qw];
  job.out = &o_[row0 * qw];
  job.lo = lo_.data();
  job.hi = hi_.data();
  job.p0 = p0;
  job.k_new = kb;
  job.v_new = vb;
  attention_.run(job, pool_);

  // Store this batch in the cache (on sliding layers, the last positions the ring can hold).
  const int64_t from = sliding ? std::max<int64_t>(0, n - cache.capacity(layer)) : 0;
  for (int64_t i = from; i < n; ++i) {
    const int64_t s = cache.slot(layer, p0 + i);
    store_row(kb + i * kw, cache.k(layer, s), kw, f32);
    store_row(vb + i * kw, cache.v(layer, s), kw, f32);
  }
}

}  // namespace ug
