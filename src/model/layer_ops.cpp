#include "model/layer_ops.h"

#include <algorithm>
#include <cmath>

#include "kernels/activation.h"
#include "kernels/matmul.h"
#include "kernels/matmul_shared.h"
#include "kernels/row_ops.h"

namespace ug {

namespace {

// Elementwise work is split in whole blocks of 64 values (cache lines and vectors stay whole) and
// only when each thread gets at least kGrain values. A hand-off costs 2–30 µs (more when the
// cores are shared), so a decode step's vectors (3840 values, GeGLU's 15360: ~20 µs with AVX2)
// stay on one thread; its 262144 logits and a prefill's rows are shared.
constexpr int64_t kBlock = 64;
constexpr int64_t kGrain = 16384;

template <class Fn>
void for_each_chunk(ThreadPool& pool, int64_t count, int64_t grain, Fn&& fn) {
  const int64_t blocks = (count + kBlock - 1) / kBlock;
  auto body = [&](int64_t b0, int64_t b1, int) {
    const int64_t begin = b0 * kBlock, end = std::min(count, b1 * kBlock);
    fn(begin, end - begin);
  };
  pool.parallel_for(blocks, std::ref(body), std::max<int64_t>(1, grain / kBlock));
}

template <class T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y) {
  rms_norm_f32(x, w, n, eps, y);
}

void rms_norm_rows(ThreadPool& pool, const float* x, const float* w, int64_t rows, int64_t n,
                   float eps, float* y) {
  auto body = [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) rms_norm_f32(x + i * n, w, n, eps, y + i * n);
  };
  pool.parallel_for(rows, std::ref(body), std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n)));
}

void residual_add(ThreadPool& pool, float* x, const float* y, int64_t count) {
  for_each_chunk(pool, count, kGrain, [&](int64_t i, int64_t m) { add_f32(x + i, y + i, m); });
}

void residual_add_scaled(ThreadPool& pool, float* x, const float* y, float s, int64_t count) {
  for_each_chunk(pool, count, kGrain,
                 [&](int64_t i, int64_t m) { add_scaled_f32(x + i, y + i, s, m); });
}

void geglu(ThreadPool& pool, float* g, const float* u, int64_t count) {
  for_each_chunk(pool, count, kGrain,
                 [&](int64_t i, int64_t m) { geglu_tanh_f32(g + i, u + i, m); });
}

void softcap(ThreadPool& pool, float* z, int64_t count, float cap) {
  if (cap <= 0) return;
  for_each_chunk(pool, count, kGrain, [&](int64_t i, int64_t m) { softcap_f32(z + i, m, cap); });
}

void norm_rope_heads(float* x, int heads, int64_t hd, const float* w, float eps, const float* cos,
                     const float* sin, int64_t n_rot) {
  for (int h = 0; h < heads; ++h) rms_norm_f32(x + h * hd, w, hd, eps, x + h * hd);
  if (cos) rope_neox_f32(x, heads, hd, n_rot, cos, sin);
}

void attention_output(ThreadPool& pool, const LayerTail& w, const float* o, float* x, int64_t rows,
                      int64_t d, float eps, TailScratch& s) {
  grow(s.a, static_cast<size_t>(rows * d));
  matmul(*w.wo, o, rows, s.a.data(), pool);
  rms_norm_rows(pool, s.a.data(), w.post_attn_norm, rows, d, eps, s.a.data());
  residual_add(pool, x, s.a.data(), rows * d);
}

void feed_forward(ThreadPool& pool, const LayerTail& w, float* x, int64_t rows, int64_t d,
                  int64_t n_ff, float eps, TailScratch& s) {
  grow(s.a, static_cast<size_t>(rows * d));
  grow(s.g, static_cast<size_t>(rows * n_ff));
  grow(s.u, static_cast<size_t>(rows * n_ff));
  float* m = s.a.data();
  rms_norm_rows(pool, x, w.ffn_norm, rows, d, eps, m);
  matmul_shared_input({{w.w_gate, s.g.data()}, {w.w_up, s.u.data()}}, m, rows, pool);
  geglu(pool, s.g.data(), s.u.data(), rows * n_ff);
  float* f = s.a.data();  // m is used up
  matmul(*w.w_down, s.g.data(), rows, f, pool);
  rms_norm_rows(pool, f, w.post_ffw_norm, rows, d, eps, f);
  residual_add_scaled(pool, x, f, w.layer_scalar, rows * d);
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
