// One MTP drafter step (text spec §7.3) with the decoder's layer pieces.
#include "model/assistant.h"

#include <algorithm>

#include "base/error.h"
#include "kernels/matmul.h"
#include "model/decoder.h"
#include "model/kv_cache.h"

namespace ug {

DraftStepper::DraftStepper(const AssistantModel& assistant, const Decoder& target)
    : m_(assistant), target_(target) {
  const Gemma4Config& tc = target.config();
  if (m_.n_embd_target != tc.n_embd)
    fail("the assistant ", m_.source, " expects a model of width ", m_.n_embd_target,
         ", this one has ", tc.n_embd);
  // The drafter rotates like the target's layers of the same kind (text spec §7.1).
  rope_swa_ = RopeTable(rope_inv_freq(tc.rope_base_swa, tc.head_dim_swa, {}));
  rope_global_ = RopeTable(
      rope_inv_freq(tc.rope_base_global, tc.head_dim_global, target.weights().rope_freq_factors));
  int64_t qw = 0;
  for (const AssistantLayer& L : m_.layers)
    qw = std::max<int64_t>(qw, int64_t{m_.n_head} * L.head_dim);
  in_.resize(2 * static_cast<size_t>(tc.n_embd));
  z_.resize(m_.n_embd);
  a_.resize(m_.n_embd);
  q_.resize(qw);
  o_.resize(qw);
  cos_.resize(std::max(rope_swa_.pairs(), rope_global_.pairs()));
  sin_.resize(cos_.size());
  tail_.a.resize(m_.n_embd);
  tail_.g.resize(m_.n_ff);
  tail_.u.resize(m_.n_ff);
}

void DraftStepper::step(const KvCache& cache, ThreadPool& pool, int32_t token, const float* h,
                        int64_t pos, std::vector<float>& logits, std::vector<float>& h_next) {
  const Gemma4Config& tc = target_.config();
  const int64_t D = tc.n_embd, A = m_.n_embd;
  if (pos < 1 || pos > cache.n_past())
    fail("draft position ", pos, " must be in 1..", cache.n_past(),
         " (the drafter reads the model's KV cache of the positions before it)");
  const int l_swa = tc.n_layer - 2, l_global = tc.n_layer - 1;
  const int64_t lo_swa = std::max<int64_t>(0, pos - tc.sliding_window + 1);
  if (cache.n_past() - cache.capacity(l_swa) > lo_swa)
    fail("the KV cache no longer holds position ", lo_swa, " that the draft at position ", pos,
         " needs (it holds the last ", cache.capacity(l_swa), " of ", cache.n_past(), ")");
  rope_swa_.reserve(pos + 1);
  rope_global_.reserve(pos + 1);

  // z = [e ; h] · pre_projection, e the TARGET's scaled embedding (text spec §7.6): [A]
  target_.embed_token(token, in_.data());
  std::copy(h, h + D, in_.begin() + D);
  matmul(m_.pre_projection, in_.data(), 1, z_.data(), pool);

  for (const AssistantLayer& L : m_.layers) {
    const int hd = L.head_dim;
    const RopeTable& rope = L.sliding ? rope_swa_ : rope_global_;
    // a = rmsnorm(z, w_attn_norm); q = rope(rmsnorm_per_head(a·Wq, w_q_norm)): [n_head, hd]
    rms_norm(z_.data(), L.attn_norm.data(), A, m_.rms_eps, a_.data());
    matmul(L.wq, a_.data(), 1, q_.data(), pool);
    rope.angles(pos, cos_.data(), sin_.data());
    norm_rope_heads(q_.data(), m_.n_head, hd, L.q_norm.data(), m_.rms_eps, cos_.data(), sin_.data(),
                    rope.pairs());
    // o = attention(q, K, V) over the target's cached positions < pos of its last layer of this
    // kind (sliding: the last window − 1 of them); no K/V of the drafter's own.
    const int tl = L.sliding ? l_swa : l_global;
    lo_ = L.sliding ? lo_swa : 0;
    hi_ = pos - 1;
    AttentionJob job;
    job.cache = &cache;
    job.layer = tl;
    job.n_head = m_.n_head;
    job.n_kv_head = tc.kv_heads(tl);
    job.head_dim = hd;
    job.rows = 1;
    job.row_stride = int64_t{m_.n_head} * hd;
    job.q = q_.data();
    job.out = o_.data();
    job.lo = &lo_;
    job.hi = &hi_;
    job.p0 = pos;
    attention_.run(job, pool);
    const LayerTail tail{&L.wo,     L.post_attn_norm.data(), L.ffn_norm.data(), &L.w_gate, &L.w_up,
                         &L.w_down, L.post_ffw_norm.data(),  L.layer_scalar};
    // z = z + rmsnorm(o·Wo, w_post_attn_norm)
    attention_output(pool, tail, o_.data(), z_.data(), 1, A, m_.rms_eps, tail_);
    // z = (z + rmsnorm(ffn(rmsnorm(z, w_ffn_norm)), w_post_ffw_norm)) · layer_scalar
    feed_forward(pool, tail, z_.data(), 1, A, m_.n_ff, m_.rms_eps, tail_);
  }
  // g = rmsnorm(z, w_final_norm); logits = g·Eᵀ (tied head, no softcap); h_next = g·post_projection
  rms_norm(z_.data(), m_.output_norm.data(), A, m_.rms_eps, a_.data());
  logits.resize(m_.vocab_size);
  matmul(m_.tok_embd, a_.data(), 1, logits.data(), pool);
  h_next.resize(D);
  matmul(m_.post_projection, a_.data(), 1, h_next.data(), pool);
}

void draft_step(const AssistantModel& assistant, const Decoder& target, const KvCache& cache,
                ThreadPool& pool, int32_t token, const float* h, int64_t pos,
                std::vector<float>& logits, std::vector<float>& h_next) {
  DraftStepper(assistant, target).step(cache, pool, token, h, pos, logits, h_next);
}

}  // namespace ug
