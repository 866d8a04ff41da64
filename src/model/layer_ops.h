// The small per-row operations of the decoder, in f32 (text spec §3.2–§3.6).
#pragma once

#include <cstdint>
#include <vector>

namespace ug {

// y = x / sqrt(mean(x²) + eps) * w  (w may be null: the weightless norm). In place is allowed.
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y);

// Applies rms_norm to each of `heads` consecutive vectors of length hd.
void rms_norm_heads(float* x, const float* w, int heads, int64_t hd, float eps);

// gelu_pytorch_tanh(g) * u, elementwise, into g.
void geglu_tanh(float* g, const float* u, int64_t n);

// 30·tanh(z/30) on every logit.
void softcap(float* z, int64_t n, float cap);

// NeoX ("rotate-half") RoPE for one position: pair d couples x[d] and x[d+hd/2], angle
// pos·inv_freq[d]; inv_freq[d] == 0 leaves the pair unchanged. x holds `heads` heads of hd.
void rope_neox(float* x, int heads, int64_t hd, int64_t pos, const float* inv_freq);

// inv_freq[d] = base^(-2d/hd) / factor[d] (factor may be empty = all ones; inf = identity).
std::vector<float> rope_inv_freq(float base, int64_t hd, const std::vector<float>& factors);

}  // namespace ug

namespace ug {

// (x − mean) / sqrt(var + eps) · w + b with the biased variance, as torch.nn.LayerNorm.
void layer_norm(const float* x, const float* w, const float* b, int64_t n, float eps, float* y);

}  // namespace ug
