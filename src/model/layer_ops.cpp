#include "model/layer_ops.h"

#include <cmath>

#include "kernels/activation.h"

namespace ug {

void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / double(n) + double(eps)));
  if (w) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void rms_norm_heads(float* x, const float* w, int heads, int64_t hd, float eps) {
  for (int h = 0; h < heads; ++h) rms_norm(x + h * hd, w, hd, eps, x + h * hd);
}

void geglu_tanh(float* g, const float* u, int64_t n) { geglu_tanh_f32(g, u, n); }

void softcap(float* z, int64_t n, float cap) {
  if (cap <= 0) return;
  const float inv = 1.0f / cap;
  for (int64_t i = 0; i < n; ++i) z[i] = cap * std::tanh(z[i] * inv);
}

void rope_neox(float* x, int heads, int64_t hd, int64_t pos, const float* inv_freq) {
  const int64_t half = hd / 2;
  for (int64_t d = 0; d < half; ++d) {
    if (inv_freq[d] == 0.0f) continue;
    const double a = double(pos) * inv_freq[d];
    const float c = static_cast<float>(std::cos(a)), s = static_cast<float>(std::sin(a));
    for (int h = 0; h < heads; ++h) {
      float* v = x + h * hd;
      const float x0 = v[d], x1 = v[d + half];
      v[d] = x0 * c - x1 * s;
      v[d + half] = x1 * c + x0 * s;
    }
  }
}

std::vector<float> rope_inv_freq(float base, int64_t hd, const std::vector<float>& factors) {
  std::vector<float> f(hd / 2);
  for (int64_t d = 0; d < hd / 2; ++d) {
    double v = std::pow(double(base), -2.0 * double(d) / double(hd));
    if (!factors.empty()) v /= double(factors[d]);  // inf factor -> 0 -> identity pair
    f[d] = static_cast<float>(v);
  }
  return f;
}

}  // namespace ug

namespace ug {

void layer_norm(const float* x, const float* w, const float* b, int64_t n, float eps, float* y) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= double(n);
  double var = 0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= double(n);
  const double inv = 1.0 / std::sqrt(var + double(eps));
  for (int64_t i = 0; i < n; ++i)
    y[i] = static_cast<float>((x[i] - mean) * inv) * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
}

}  // namespace ug
