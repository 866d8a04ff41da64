#include "kernels/activation.h"

#include <cmath>

#include "kernels/isa.h"

namespace ug {

void geglu_tanh_f32(float* g, const float* u, int64_t n) {
  if (active_isa() == Isa::Avx512) return kern::avx512_geglu_tanh(g, u, n);
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  for (int64_t i = 0; i < n; ++i) {
    const float z = g[i];
    g[i] = 0.5f * z * (1.0f + std::tanh(k * (z + 0.044715f * z * z * z))) * u[i];
  }
}

}  // namespace ug
