// Elementwise activations of the decoder, dispatched like matmul() on active_isa(); the scalar
// variant is the reference formula with std::tanh.
#pragma once

#include <cstdint>

namespace ug {

// g[i] = gelu_pytorch_tanh(g[i]) · u[i].
void geglu_tanh_f32(float* g, const float* u, int64_t n);

namespace kern {
void avx512_geglu_tanh(float* g, const float* u, int64_t n);
}  // namespace kern

}  // namespace ug
