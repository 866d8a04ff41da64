// Elementwise activations of the decoder, dispatched like matmul() on active_isa(); the scalar
// variant is the reference formula with std::tanh. Elementwise: an element's result does not
// depend on n or on where the element sits, so callers may split the work anywhere.
#pragma once

#include <cstdint>

namespace ug {

// g[i] = gelu_pytorch_tanh(g[i]) · u[i] (text spec §3.3).
void geglu_tanh_f32(float* g, const float* u, int64_t n);

// z[i] = cap · tanh(z[i] / cap) (text spec §3.6); cap ≤ 0 leaves z unchanged.
void softcap_f32(float* z, int64_t n, float cap);

}  // namespace ug
