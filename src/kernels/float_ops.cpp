// The scalar references of the row operations and activations, and the dispatch to the active
// variant's SIMD versions (kernels/float_ops_impl.h).
#include <cmath>

#include "kernels/activation.h"
#include "kernels/float_ops_impl.h"
#include "kernels/isa.h"
#include "kernels/row_ops.h"

namespace ug {

namespace kern {

const FloatOps* float_ops(Isa isa) {
  switch (isa) {
    case Isa::Avx2:
      return &avx2_float_ops();
    case Isa::Avx512:
      return &avx512_float_ops();
    case Isa::Neon:
      return &neon_float_ops();
    case Isa::Scalar:
      break;
  }
  return nullptr;
}

}  // namespace kern

namespace {
const kern::FloatOps* simd() { return kern::float_ops(active_isa()); }
}  // namespace

void rms_norm_f32(const float* x, const float* w, int64_t n, float eps, float* y) {
  if (const kern::FloatOps* ops = simd()) return ops->rms_norm(x, w, n, eps, y);
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / double(n) + double(eps)));
  if (w) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void add_f32(float* x, const float* y, int64_t n) {
  if (const kern::FloatOps* ops = simd()) return ops->add(x, y, n);
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void add_scaled_f32(float* x, const float* y, float s, int64_t n) {
  if (const kern::FloatOps* ops = simd()) return ops->add_scaled(x, y, s, n);
  for (int64_t i = 0; i < n; ++i) x[i] = (x[i] + y[i]) * s;
}

void rope_neox_f32(float* x, int heads, int64_t hd, int64_t n_rot, const float* cos,
                   const float* sin) {
  if (const kern::FloatOps* ops = simd()) return ops->rope_neox(x, heads, hd, n_rot, cos, sin);
  const int64_t half = hd / 2;
  for (int h = 0; h < heads; ++h) {
    float* v = x + h * hd;
    for (int64_t d = 0; d < n_rot; ++d) {
      const float x0 = v[d], x1 = v[d + half];
      v[d] = x0 * cos[d] - x1 * sin[d];
      v[d + half] = x1 * cos[d] + x0 * sin[d];
    }
  }
}

void softcap_f32(float* z, int64_t n, float cap) {
  if (cap <= 0) return;
  if (const kern::FloatOps* ops = simd()) return ops->softcap(z, n, cap);
  const float inv = 1.0f / cap;
  for (int64_t i = 0; i < n; ++i) z[i] = cap * std::tanh(z[i] * inv);
}

void geglu_tanh_f32(float* g, const float* u, int64_t n) {
  if (const kern::FloatOps* ops = simd()) return ops->geglu_tanh(g, u, n);
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  for (int64_t i = 0; i < n; ++i) {
    const float z = g[i];
    g[i] = 0.5f * z * (1.0f + std::tanh(k * (z + 0.044715f * z * z * z))) * u[i];
  }
}

}  // namespace ug
