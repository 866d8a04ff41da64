// One MTP drafter step (text spec §7.3).
#include "model/assistant.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/error.h"
#include "kernels/matmul.h"
#include "model/decoder.h"
#include "model/kv_cache.h"
#include "model/layer_ops.h"
#include "tensor/half.h"

namespace ug {

namespace {

float dot_row(const float* q, const void* k, bool f32, int64_t n) {
  float s = 0;
  if (f32) {
    const float* kf = static_cast<const float*>(k);
    for (int64_t i = 0; i < n; ++i) s += q[i] * kf[i];
  } else {
    const uint16_t* kh = static_cast<const uint16_t*>(k);
    for (int64_t i = 0; i < n; ++i) s += q[i] * f16_to_f32(kh[i]);
  }
  return s;
}

void axpy_row(float a, const void* v, bool f32, float* acc, int64_t n) {
  if (f32) {
    const float* vf = static_cast<const float*>(v);
    for (int64_t i = 0; i < n; ++i) acc[i] += a * vf[i];
  } else {
    const uint16_t* vh = static_cast<const uint16_t*>(v);
    for (int64_t i = 0; i < n; ++i) acc[i] += a * f16_to_f32(vh[i]);
  }
}

// Q-only attention of one query row q [n_head, hd] over the target layer's cached positions
// [lo, hi] (scale 1.0, text spec §3.4) into o [n_head, hd].
void attend(const float* q, int n_head, int hd, const KvCache& cache, int layer, int64_t lo,
            int64_t hi, int nkv, float* o, ThreadPool& pool) {
  const KvCache& kv = cache;
  const bool f32 = cache.is_f32();
  const int group = n_head / nkv;
  pool.parallel_for(n_head, [&](int64_t begin, int64_t end, int) {
    std::vector<float> sc(hi - lo + 1), acc(hd);
    for (int64_t h = begin; h < end; ++h) {
      const int kvh = static_cast<int>(h) / group;
      const float* qh = q + h * hd;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = lo; j <= hi; ++j) {
        const void* k = static_cast<const uint8_t*>(kv.k(layer, kv.slot(layer, j))) +
                        static_cast<size_t>(kvh) * hd * (f32 ? 4 : 2);
        sc[j - lo] = dot_row(qh, k, f32, hd);
        mx = std::max(mx, sc[j - lo]);
      }
      double sum = 0;
      for (float& s : sc) {
        s = std::exp(s - mx);
        sum += s;
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t j = lo; j <= hi; ++j) {
        const void* v = static_cast<const uint8_t*>(kv.v(layer, kv.slot(layer, j))) +
                        static_cast<size_t>(kvh) * hd * (f32 ? 4 : 2);
        axpy_row(sc[j - lo], v, f32, acc.data(), hd);
      }
      const float inv = static_cast<float>(1.0 / sum);
      for (int e = 0; e < hd; ++e) o[h * hd + e] = acc[e] * inv;
    }
  });
}

}  // namespace

void draft_step(const AssistantModel& m, const Decoder& target, const KvCache& cache,
                ThreadPool& pool, int32_t token, const float* h, int64_t pos,
                std::vector<float>& logits, std::vector<float>& h_next) {
  const Gemma4Config& tc = target.config();
  const int64_t D = tc.n_embd, A = m.n_embd;
  if (m.n_embd_target != tc.n_embd)
    fail("the assistant ", m.source, " expects a model of width ", m.n_embd_target,
         ", this one has ", tc.n_embd);
  if (pos < 1 || pos > cache.n_past())
    fail("draft position ", pos, " must be in 1..", cache.n_past(),
         " (the drafter reads the model's KV cache of the positions before it)");
  const int l_swa = tc.n_layer - 2, l_global = tc.n_layer - 1;
  const int64_t lo_swa = std::max<int64_t>(0, pos - tc.sliding_window + 1);
  if (cache.n_past() - cache.capacity(l_swa) > lo_swa)
    fail("the KV cache no longer holds position ", lo_swa, " that the draft at position ", pos,
         " needs (it holds the last ", cache.capacity(l_swa), " of ", cache.n_past(), ")");

  // in: [e ; h] with e the TARGET's scaled embedding (text spec §7.6).
  std::vector<float> in(2 * D);
  target.embed_token(token, in.data());
  std::copy(h, h + D, in.begin() + D);
  std::vector<float> z(A), a(A), f(A);
  matmul(m.pre_projection, in.data(), 1, z.data(), pool);

  const std::vector<float> inv_swa = rope_inv_freq(tc.rope_base_swa, tc.head_dim_swa, {});
  const std::vector<float> inv_global =
      rope_inv_freq(tc.rope_base_global, tc.head_dim_global, target.weights().rope_freq_factors);
  std::vector<float> q, o, g(m.n_ff), u(m.n_ff);
  for (const AssistantLayer& L : m.layers) {
    const int hd = L.head_dim;
    const int64_t qw = static_cast<int64_t>(m.n_head) * hd;
    q.resize(qw);
    o.resize(qw);
    rms_norm(z.data(), L.attn_norm.data(), A, m.rms_eps, a.data());
    matmul(L.wq, a.data(), 1, q.data(), pool);  // q: [n_head, hd]
    rms_norm_heads(q.data(), L.q_norm.data(), m.n_head, hd, m.rms_eps);
    rope_neox(q.data(), m.n_head, hd, pos, L.sliding ? inv_swa.data() : inv_global.data());
    const int tl = L.sliding ? l_swa : l_global;
    attend(q.data(), m.n_head, hd, cache, tl, L.sliding ? lo_swa : 0, pos - 1, tc.kv_heads(tl),
           o.data(), pool);
    matmul(L.wo, o.data(), 1, a.data(), pool);
    rms_norm(a.data(), L.post_attn_norm.data(), A, m.rms_eps, a.data());
    for (int64_t i = 0; i < A; ++i) z[i] += a[i];
    rms_norm(z.data(), L.ffn_norm.data(), A, m.rms_eps, a.data());
    matmul(L.w_gate, a.data(), 1, g.data(), pool);
    matmul(L.w_up, a.data(), 1, u.data(), pool);
    geglu_tanh(g.data(), u.data(), m.n_ff);
    matmul(L.w_down, g.data(), 1, f.data(), pool);
    rms_norm(f.data(), L.post_ffw_norm.data(), A, m.rms_eps, f.data());
    for (int64_t i = 0; i < A; ++i) z[i] = (z[i] + f[i]) * L.layer_scalar;
  }
  rms_norm(z.data(), m.output_norm.data(), A, m.rms_eps, a.data());  // g: [A]
  logits.resize(m.vocab_size);
  matmul(m.tok_embd, a.data(), 1, logits.data(), pool);  // tied head, no softcap
  h_next.resize(D);
  matmul(m.post_projection, a.data(), 1, h_next.data(), pool);
}

}  // namespace ug
