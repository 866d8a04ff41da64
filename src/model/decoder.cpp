#include "model/decoder.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
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
  inv_freq_swa_ = rope_inv_freq(c.rope_base_swa, c.head_dim_swa, {});
  inv_freq_global_ = rope_inv_freq(c.rope_base_global, c.head_dim_global, w_->rope_freq_factors);
  scores_.resize(pool_.size());
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
  grow(a_, n * std::max<int64_t>(d, max_q));
  grow(q_, n * max_q);
  grow(o_, n * max_q);
  grow(kr_, n * max_kv);
  grow(vr_, n * max_kv);
  grow(g_, n * c.n_ff);
  grow(u_, n * c.n_ff);

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
  for (size_t s = 0; s < seqs.size(); ++s)
    for (size_t i = 0; i < seqs[s].batch->tokens.size(); ++i) {
      pos[row0[s] + i] = p0[s] + i;
      f16[row0[s] + i] = !seqs[s].cache->is_f32();
    }

  for (int l = 0; l < c.n_layer; ++l) {
    const LayerWeights& L = w_->layers[l];
    const int hd = c.head_dim(l), nkv = c.kv_heads(l);
    const int64_t qw = c.q_width(l), kw = c.kv_width(l);
    const float* inv_freq = c.is_sliding[l] ? inv_freq_swa_.data() : inv_freq_global_.data();

    for (int64_t i = 0; i < n; ++i)
      rms_norm(&x_[i * d], L.attn_norm.data(), d, c.rms_eps, &a_[i * d]);
    // q: [n, n_head, hd]; raw k and v: [n, nkv, hd]
    if (L.wv.data) {
      matmul_shared_input({{&L.wq, q_.data()}, {&L.wk, kr_.data()}, {&L.wv, vr_.data()}}, a_.data(),
                          n, pool_);
    } else {
      matmul_shared_input({{&L.wq, q_.data()}, {&L.wk, kr_.data()}}, a_.data(), n, pool_);
      std::copy(kr_.begin(), kr_.begin() + n * kw, vr_.begin());  // K=V: V is the raw K
    }
    for (int64_t i = 0; i < n; ++i) {
      float* q = &q_[i * qw];
      float* k = &kr_[i * kw];
      float* v = &vr_[i * kw];
      rms_norm_heads(q, L.q_norm.data(), c.n_head, hd, c.rms_eps);
      rope_neox(q, c.n_head, hd, pos[i], inv_freq);
      rms_norm_heads(k, L.k_norm.data(), nkv, hd, c.rms_eps);
      rope_neox(k, nkv, hd, pos[i], inv_freq);
      rms_norm_heads(v, nullptr, nkv, hd, c.rms_eps);  // weightless V norm
      if (f16[i]) {  // this batch attends to its own K/V as the cache will hold them
        round_through_f16(k, kw);
        round_through_f16(v, kw);
      }
    }
    for (size_t s = 0; s < seqs.size(); ++s)  // o_: [n, n_head * hd]
      attention(l, row0[s], static_cast<int64_t>(seqs[s].batch->tokens.size()), p0[s],
                *seqs[s].batch, *seqs[s].cache);
    matmul(L.wo, o_.data(), n, a_.data(), pool_);
    for (int64_t i = 0; i < n; ++i) {
      float* o = &a_[i * d];
      rms_norm(o, L.post_attn_norm.data(), d, c.rms_eps, o);
      for (int64_t j = 0; j < d; ++j) x_[i * d + j] += o[j];
    }
    for (int64_t i = 0; i < n; ++i)
      rms_norm(&x_[i * d], L.ffn_norm.data(), d, c.rms_eps, &a_[i * d]);
    matmul_shared_input({{&L.w_gate, g_.data()}, {&L.w_up, u_.data()}}, a_.data(), n, pool_);
    geglu_tanh(g_.data(), u_.data(), n * c.n_ff);
    matmul(L.w_down, g_.data(), n, a_.data(), pool_);
    for (int64_t i = 0; i < n; ++i) {
      float* f = &a_[i * d];
      rms_norm(f, L.post_ffw_norm.data(), d, c.rms_eps, f);
      float* x = &x_[i * d];
      for (int64_t j = 0; j < d; ++j) x[j] = (x[j] + f[j]) * L.layer_scalar;
    }
  }

  // Final norm and tied head for the rows asked for: every row, or each sequence's last.
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
  for (int64_t i = 0; i < rows; ++i)
    rms_norm(&x_[out_rows[i] * d], w_->output_norm.data(), d, c.rms_eps, &a_[i * d]);
  grow(head_, static_cast<size_t>(rows) * c.vocab_size);
  if (rows > 0) matmul(w_->tok_embd, a_.data(), rows, head_.data(), pool_);
  int64_t r = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const int64_t m = static_cast<int64_t>(seqs[s].batch->tokens.size());
    const int64_t k = seqs[s].batch->no_logits ? 0 : seqs[s].batch->all_logits ? m : 1;
    std::vector<float>& logits = *seqs[s].logits;
    logits.assign(head_.begin() + r * c.vocab_size, head_.begin() + (r + k) * c.vocab_size);
    if (seqs[s].hidden) seqs[s].hidden->assign(a_.begin() + r * d, a_.begin() + (r + k) * d);
    for (int64_t i = 0; i < k; ++i) {
      float* z = &logits[i * c.vocab_size];
      softcap(z, c.vocab_size, c.final_softcap);
      for (int32_t t : c.suppress_tokens)
        if (t >= 0 && t < c.vocab_size) z[t] = -std::numeric_limits<float>::infinity();
    }
    r += k;
  }
}

// Scores q·k with scale 1.0 (text spec §3.4) over the keys each query may see (§4): causal,
// the window on sliding layers, and image blocks bidirectional on sliding layers only.
// Past positions come from the cache; this batch's from kr_/vr_ (already rounded like the cache).
// A unit of work is one row and one KV head with all the query heads that share it, so each key
// and value row is read once per group. With fewer units than threads (decode), each unit's key
// range is cut into parts whose partial softmax sums are merged afterwards.
void Decoder::attention(int layer, int64_t row0, int64_t n, int64_t p0, const Batch& batch,
                        KvCache& cache) {
  const Gemma4Config& c = w_->config;
  const bool sliding = c.is_sliding[layer];
  const int hd = c.head_dim(layer), nkv = c.kv_heads(layer), group = c.n_head / nkv;
  const int64_t qw = c.q_width(layer), kw = c.kv_width(layer), W = c.sliding_window;
  const bool f32 = cache.is_f32();
  const float* kb = &kr_[row0 * kw];  // this sequence's rows of the batch: [n, kw]
  const float* vb = &vr_[row0 * kw];
  const float* qs = &q_[row0 * qw];
  float* os = &o_[row0 * qw];

  std::vector<int64_t>& block_end = block_end_;  // last row a row may see through its image block
  block_end.assign(n, -1);
  if (sliding)
    for (const auto& [b, e] : batch.bidirectional)
      for (int64_t i = b; i < e; ++i) block_end[i] = e - 1;
  auto range = [&](int64_t i, int64_t& lo, int64_t& hi) {
    const int64_t pos = p0 + i;
    lo = sliding ? std::max<int64_t>(0, pos - W + 1) : 0;
    hi = std::max(pos, p0 + block_end[i]);
  };

  const int64_t units = n * nkv;
  int64_t longest = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t lo, hi;
    range(i, lo, hi);
    longest = std::max(longest, hi - lo + 1);
  }
  const int64_t threads = pool_.size();
  int64_t parts = 1;
  if (units < 2 * threads)
    parts = std::clamp<int64_t>((4 * threads + units - 1) / units, 1,
                                std::max<int64_t>(1, longest / 256));
  const int64_t gh = static_cast<int64_t>(group) * hd;
  if (parts > 1) {
    grow(part_acc_, static_cast<size_t>(units * parts * gh));
    grow(part_max_, static_cast<size_t>(units * parts * group));
    grow(part_sum_, static_cast<size_t>(units * parts * group));
  }

  // Calls fn(k_rows, v_rows, offset, count) for the contiguous runs of key positions [a, b]:
  // cache slots (a sliding layer's ring wraps once at most) then this batch's rows. span: the
  // keys of the query row's whole range (the kernels' precision choice depends on it, never on
  // how the range is cut).
  auto runs = [&](int64_t a, int64_t b, int64_t span, int kvh, auto&& fn) {
    const int64_t cache_end = std::min(b, p0 - 1);
    for (int64_t j = a; j <= cache_end;) {
      const int64_t slot = cache.slot(layer, j);
      int64_t cnt = cache_end - j + 1;
      if (sliding) cnt = std::min(cnt, cache.capacity(layer) - slot);
      const int64_t off = static_cast<int64_t>(kvh) * hd;
      const void* kp =
          f32 ? static_cast<const void*>(static_cast<const float*>(cache.k(layer, slot)) + off)
              : static_cast<const void*>(static_cast<const uint16_t*>(cache.k(layer, slot)) + off);
      const void* vp =
          f32 ? static_cast<const void*>(static_cast<const float*>(cache.v(layer, slot)) + off)
              : static_cast<const void*>(static_cast<const uint16_t*>(cache.v(layer, slot)) + off);
      fn(KvRows{kp, kw, !f32, false, span}, KvRows{vp, kw, !f32, false, span}, j - a, cnt);
      j += cnt;
    }
    if (b >= p0) {
      const int64_t j0 = std::max(a, p0);
      const int64_t off = (j0 - p0) * kw + static_cast<int64_t>(kvh) * hd;
      // With an f16 cache these rows hold f16 values and run through the same (bf16) loops as
      // the cache's rows, so a key scores alike before and after it is cached.
      fn(KvRows{kb + off, kw, false, !f32, span}, KvRows{vb + off, kw, false, !f32, span}, j0 - a,
         b - j0 + 1);
    }
  };

  std::atomic<int64_t> next{0};
  const int64_t jobs = units * parts;
  auto body = [&](int64_t, int64_t, int t) {
    for (int64_t job; (job = next.fetch_add(1, std::memory_order_relaxed)) < jobs;) {
      const int64_t u = job / parts, part = job % parts;
      const int64_t i = u / nkv;
      const int kvh = static_cast<int>(u % nkv);
      int64_t lo, hi;
      range(i, lo, hi);
      const int64_t len = hi - lo + 1;
      const int64_t a = lo + len * part / parts, b = lo + len * (part + 1) / parts - 1;
      const float* q = qs + i * qw + kvh * gh;  // the group's heads: [group, hd]
      float* acc = parts == 1 ? os + i * qw + kvh * gh : &part_acc_[job * gh];
      std::fill(acc, acc + gh, 0.f);
      const int64_t m = b - a + 1;
      if (m <= 0) {
        for (int g = 0; g < group; ++g) {
          part_max_[job * group + g] = -std::numeric_limits<float>::infinity();
          part_sum_[job * group + g] = 0.f;
        }
        continue;
      }
      std::vector<float>& sc = scores_[t];  // [group][m] probabilities, then [group] sums
      grow(sc, static_cast<size_t>(group * (m + 1)));
      float* sums = sc.data() + group * m;
      runs(a, b, len, kvh, [&](const KvRows& k, const KvRows&, int64_t off, int64_t cnt) {
        attn_scores(q, group, hd, k, cnt, sc.data() + off, m);
      });
      for (int g = 0; g < group; ++g) {
        float* sg = sc.data() + g * m;
        const float mx = *std::max_element(sg, sg + m);
        sums[g] = attn_exp(sg, m, mx);
        if (parts > 1) {
          part_max_[job * group + g] = mx;
          part_sum_[job * group + g] = sums[g];
        }
      }
      runs(a, b, len, kvh, [&](const KvRows&, const KvRows& v, int64_t off, int64_t cnt) {
        attn_weighted_sum(sc.data() + off, m, group, hd, v, cnt, acc);
      });
      if (parts == 1)
        for (int g = 0; g < group; ++g) {
          const float inv = 1.f / sums[g];
          for (int e = 0; e < hd; ++e) acc[g * hd + e] *= inv;
        }
    }
  };
  pool_.parallel_for(std::min<int64_t>(threads, jobs), std::ref(body), 1);

  // Merges the parts: o = Σ_p e^(m_p − M) acc_p / Σ_p e^(m_p − M) l_p.
  if (parts > 1)
    for (int64_t u = 0; u < units; ++u) {
      const int64_t i = u / nkv, kvh = u % nkv;
      float* o = os + i * qw + kvh * gh;
      for (int g = 0; g < group; ++g) {
        float M = -std::numeric_limits<float>::infinity();
        for (int64_t p = 0; p < parts; ++p) M = std::max(M, part_max_[(u * parts + p) * group + g]);
        float L = 0;
        float* og = o + g * hd;
        std::fill(og, og + hd, 0.f);
        for (int64_t p = 0; p < parts; ++p) {
          const int64_t job = u * parts + p;
          if (part_sum_[job * group + g] == 0.f) continue;
          const float f = std::exp(part_max_[job * group + g] - M);
          L += f * part_sum_[job * group + g];
          const float* ap = &part_acc_[job * gh + g * hd];
          for (int e = 0; e < hd; ++e) og[e] += f * ap[e];
        }
        const float inv = 1.f / L;
        for (int e = 0; e < hd; ++e) og[e] *= inv;
      }
    }

  // Store this batch in the cache (on sliding layers, the last positions the ring can hold).
  const int64_t from = sliding ? std::max<int64_t>(0, n - cache.capacity(layer)) : 0;
  for (int64_t i = from; i < n; ++i) {
    const int64_t s = cache.slot(layer, p0 + i);
    store_row(kb + i * kw, cache.k(layer, s), kw, f32);
    store_row(vb + i * kw, cache.v(layer, s), kw, f32);
  }
}

}  // namespace ug
