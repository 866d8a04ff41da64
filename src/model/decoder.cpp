#include "model/decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/error.h"
#include "kernels/matmul.h"
#include "model/layer_ops.h"
#include "tensor/half.h"

namespace ug {

namespace {

template <class T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

float dot(const float* q, const uint16_t* k, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += q[i] * f16_to_f32(k[i]);
  return s;
}

float dot(const float* q, const float* k, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += q[i] * k[i];
  return s;
}

void axpy(float a, const uint16_t* v, float* acc, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += a * f16_to_f32(v[i]);
}

void axpy(float a, const float* v, float* acc, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += a * v[i];
}

// Stores a row of f32 values into a cache row of either element type.
void store_row(const float* src, void* dst, int64_t n, bool f32) {
  if (f32) {
    std::copy(src, src + n, static_cast<float*>(dst));
  } else {
    uint16_t* d = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
  }
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
  forward_multi({SequenceBatch{&batch, &cache, &logits, hidden}});
}

void Decoder::forward_multi(const std::vector<SequenceBatch>& seqs) {
  const Gemma4Config& c = w_->config;
  const int64_t d = c.n_embd;
  // Validate every sequence before touching any cache.
  std::vector<int64_t> row0(seqs.size()), p0(seqs.size());
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
        fail("token id ", batch.tokens[i], " is outside the vocabulary (0..", c.vocab_size - 1, ")");
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
      if (e) std::copy(e, e + d, x);
      else embed_token(batch.tokens[i], x);
    }
  }
  // pos[r]: the position of scratch row r in its sequence; f16[r]: its cache stores f16.
  std::vector<int64_t> pos(n);
  std::vector<char> f16(n);
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

    for (int64_t i = 0; i < n; ++i) rms_norm(&x_[i * d], L.attn_norm.data(), d, c.rms_eps, &a_[i * d]);
    matmul(L.wq, a_.data(), n, q_.data(), pool_);   // q: [n, n_head, hd]
    matmul(L.wk, a_.data(), n, kr_.data(), pool_);  // raw k: [n, nkv, hd]
    if (L.wv.data) matmul(L.wv, a_.data(), n, vr_.data(), pool_);
    else std::copy(kr_.begin(), kr_.begin() + n * kw, vr_.begin());  // K=V: V is the raw K
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
        for (int64_t j = 0; j < kw; ++j) {
          k[j] = f16_to_f32(f32_to_f16(k[j]));
          v[j] = f16_to_f32(f32_to_f16(v[j]));
        }
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
    for (int64_t i = 0; i < n; ++i) rms_norm(&x_[i * d], L.ffn_norm.data(), d, c.rms_eps, &a_[i * d]);
    matmul(L.w_gate, a_.data(), n, g_.data(), pool_);
    matmul(L.w_up, a_.data(), n, u_.data(), pool_);
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
  std::vector<int64_t> out_rows;
  for (size_t s = 0; s < seqs.size(); ++s) {
    seqs[s].cache->advance(static_cast<int64_t>(seqs[s].batch->tokens.size()));
    const int64_t m = static_cast<int64_t>(seqs[s].batch->tokens.size());
    for (int64_t i = seqs[s].batch->all_logits ? 0 : m - 1; i < m; ++i) out_rows.push_back(row0[s] + i);
  }
  const int64_t rows = static_cast<int64_t>(out_rows.size());
  for (int64_t i = 0; i < rows; ++i)
    rms_norm(&x_[out_rows[i] * d], w_->output_norm.data(), d, c.rms_eps, &a_[i * d]);
  grow(head_, static_cast<size_t>(rows) * c.vocab_size);
  matmul(w_->tok_embd, a_.data(), rows, head_.data(), pool_);
  int64_t r = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const int64_t m = static_cast<int64_t>(seqs[s].batch->tokens.size());
    const int64_t k = seqs[s].batch->all_logits ? m : 1;
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

  std::vector<int64_t> block_end(n, -1);  // last row a row may see through its image block
  if (sliding)
    for (const auto& [b, e] : batch.bidirectional)
      for (int64_t i = b; i < e; ++i) block_end[i] = e - 1;

  pool_.parallel_for(n * c.n_head, [&](int64_t begin, int64_t end, int t) {
    std::vector<float>& sc = scores_[t];
    std::vector<float> acc(hd);
    for (int64_t job = begin; job < end; ++job) {
      const int64_t i = job / c.n_head;
      const int h = static_cast<int>(job % c.n_head), kvh = h / group;
      const int64_t pos = p0 + i;
      const int64_t lo = sliding ? std::max<int64_t>(0, pos - W + 1) : 0;
      const int64_t hi = std::max(pos, p0 + block_end[i]);
      const float* q = &qs[i * qw + h * hd];
      grow(sc, hi - lo + 1);
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = lo; j <= hi; ++j) {
        float s;
        if (j >= p0) {
          s = dot(q, kb + (j - p0) * kw + kvh * hd, hd);
        } else {
          const void* k = cache.k(layer, cache.slot(layer, j));
          s = f32 ? dot(q, static_cast<const float*>(k) + kvh * hd, hd)
                  : dot(q, static_cast<const uint16_t*>(k) + kvh * hd, hd);
        }
        sc[j - lo] = s;
        mx = std::max(mx, s);
      }
      double sum = 0;
      for (int64_t j = lo; j <= hi; ++j) {
        float e = std::exp(sc[j - lo] - mx);
        sc[j - lo] = e;
        sum += e;
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t j = lo; j <= hi; ++j) {
        if (j >= p0) {
          axpy(sc[j - lo], vb + (j - p0) * kw + kvh * hd, acc.data(), hd);
        } else {
          const void* v = cache.v(layer, cache.slot(layer, j));
          if (f32) axpy(sc[j - lo], static_cast<const float*>(v) + kvh * hd, acc.data(), hd);
          else axpy(sc[j - lo], static_cast<const uint16_t*>(v) + kvh * hd, acc.data(), hd);
        }
      }
      const float inv = static_cast<float>(1.0 / sum);
      float* o = &os[i * qw + h * hd];
      for (int e = 0; e < hd; ++e) o[e] = acc[e] * inv;
    }
  });

  // Store this batch in the cache (on sliding layers, the last positions the ring can hold).
  const int64_t from = sliding ? std::max<int64_t>(0, n - cache.capacity(layer)) : 0;
  for (int64_t i = from; i < n; ++i) {
    const int64_t s = cache.slot(layer, p0 + i);
    store_row(kb + i * kw, cache.k(layer, s), kw, f32);
    store_row(vb + i * kw, cache.v(layer, s), kw, f32);
  }
}

}  // namespace ug
