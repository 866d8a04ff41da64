// The per-row operations of a decoder layer in f32 (text spec §3.2–§3.6), on the decoder's pool:
// the SIMD kernels of kernels/row_ops.h and kernels/activation.h, split over rows (norms) or
// over elements (residual adds, activations), and the two sub-layer tails that the decoder and
// the MTP drafter share. Every row is computed by one thread with the same kernel as when it is
// alone, and elementwise results do not depend on the split: a token's result never depends on
// the batch it is in.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/thread_pool.h"
#include "tensor/tensor_view.h"

namespace ug {

// y = x / sqrt(mean(x²) + eps) · w (w may be null: the weightless norm). In place is allowed.
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y);

// (x − mean) / sqrt(var + eps) · w + b with the biased variance, as torch.nn.LayerNorm.
void layer_norm(const float* x, const float* w, const float* b, int64_t n, float eps, float* y);

// rms_norm of `rows` rows of n: x, y [rows, n] (y may be x).
void rms_norm_rows(ThreadPool& pool, const float* x, const float* w, int64_t rows, int64_t n,
                   float eps, float* y);

// x[i] += y[i] for i < count (the residual add).
void residual_add(ThreadPool& pool, float* x, const float* y, int64_t count);

// x[i] = (x[i] + y[i]) · s for i < count (the last residual add and the layer scalar).
void residual_add_scaled(ThreadPool& pool, float* x, const float* y, float s, int64_t count);

// g[i] = gelu_tanh(g[i]) · u[i] for i < count.
void geglu(ThreadPool& pool, float* g, const float* u, int64_t count);

// z[i] = cap · tanh(z[i] / cap) for i < count; cap ≤ 0 leaves z unchanged.
void softcap(ThreadPool& pool, float* z, int64_t count, float cap);

// RMSNorm of each of `heads` vectors of hd (w [hd] may be null), then, when cos is given, RoPE of
// the first n_rot pairs with one position's cos/sin (text spec §3.2, §3.5): q and k of one row.
void norm_rope_heads(float* x, int heads, int64_t hd, const float* w, float eps, const float* cos,
                     const float* sin, int64_t n_rot);

// Calls fn(i) for each row i < rows: on the pool's threads when there are several rows.
template <class Fn>
void for_each_row(ThreadPool& pool, int64_t rows, Fn&& fn) {
  auto body = [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) fn(i);
  };
  pool.parallel_for(rows, std::ref(body), 1);
}

// The weights of the attention sub-layer's output and of the feed-forward sub-layer (text spec
// §3.0): decoder layers and MTP drafter layers have the same ones.
struct LayerTail {
  const TensorView* wo;
  const float* post_attn_norm;
  const float* ffn_norm;
  const TensorView *w_gate, *w_up, *w_down;
  const float* post_ffw_norm;
  float layer_scalar;
};

// Scratch of the sub-layer tails, grown on demand: a [rows, n_embd], g and u [rows, n_ff].
struct TailScratch {
  std::vector<float> a, g, u;
};

// x = x + rmsnorm(o · Wo, w_post_attn_norm) for `rows` rows: o [rows, q width], x [rows, d].
void attention_output(ThreadPool& pool, const LayerTail& w, const float* o, float* x, int64_t rows,
                      int64_t d, float eps, TailScratch& s);

// m = rmsnorm(x, w_ffn_norm); f = (gelu_tanh(m · Wgate) ⊙ (m · Wup)) · Wdown;
// x = (x + rmsnorm(f, w_post_ffw_norm)) · layer_scalar (text spec §3.3), x [rows, d].
void feed_forward(ThreadPool& pool, const LayerTail& w, float* x, int64_t rows, int64_t d,
                  int64_t n_ff, float eps, TailScratch& s);

}  // namespace ug
