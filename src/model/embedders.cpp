#include "model/embedders.h"

#include "base/error.h"
#include "kernels/matmul.h"
#include "model/layer_ops.h"

namespace ug {

std::vector<float> embed_image_patches(const Gemma4Weights& w, const std::vector<float>& patches,
                                       const std::vector<int>& cols, const std::vector<int>& rows,
                                       ThreadPool& pool) {
  if (!w.vision) fail(w.source, ": this model has no vision weights (for GGUF, pass --mmproj)");
  const VisionWeights& v = *w.vision;
  const Gemma4Config& c = w.config;
  const int64_t pv = int64_t(c.mm_patch) * c.mm_patch * 3, vw = c.vision_width;
  const int64_t n = static_cast<int64_t>(cols.size());
  if (static_cast<int64_t>(patches.size()) != n * pv || rows.size() != cols.size())
    fail("image patches: expected ", n, " patches of ", pv, " values");
  for (int64_t i = 0; i < n; ++i)
    if (cols[i] < 0 || rows[i] < 0 || cols[i] >= c.pos_table || rows[i] >= c.pos_table)
      fail("image patch ", i, " at (", cols[i], ", ", rows[i], ") is outside the position table of ",
           c.pos_table);
  // h1: [n, 6912] after LN1 (f32: the 6912-wide reduction overflows f16, input spec §1.6)
  std::vector<float> h1(n * pv), h2(n * vw);
  for (int64_t i = 0; i < n; ++i)
    layer_norm(&patches[i * pv], v.ln1_w.data(), v.ln1_b.data(), pv, c.mm_ln_eps, &h1[i * pv]);
  matmul(v.patch_dense, h1.data(), n, h2.data(), pool);  // [n, vw]
  for (int64_t i = 0; i < n; ++i) {
    float* h = &h2[i * vw];
    for (int64_t j = 0; j < vw; ++j) h[j] += v.dense_b[j];
    layer_norm(h, v.ln2_w.data(), v.ln2_b.data(), vw, c.mm_ln_eps, h);
    const float* px = &v.pos_x[int64_t(cols[i]) * vw];
    const float* py = &v.pos_y[int64_t(rows[i]) * vw];
    for (int64_t j = 0; j < vw; ++j) h[j] += px[j] + py[j];
    layer_norm(h, v.ln3_w.data(), v.ln3_b.data(), vw, c.mm_ln_eps, h);
    rms_norm(h, nullptr, vw, c.mm_rms_eps, h);
  }
  std::vector<float> out(n * c.n_embd);
  matmul(v.projection, h2.data(), n, out.data(), pool);
  return out;
}

std::vector<float> embed_audio_frames(const Gemma4Weights& w, const std::vector<float>& frames,
                                      ThreadPool& pool) {
  if (!w.audio) fail(w.source, ": this model has no audio weights (for GGUF, pass --mmproj)");
  const int64_t f = w.config.audio_frame;
  if (frames.size() % f != 0) fail("audio frames: ", frames.size(), " samples is not a multiple of ", f);
  const int64_t n = static_cast<int64_t>(frames.size()) / f;
  std::vector<float> normed(frames.size());
  for (int64_t i = 0; i < n; ++i)
    rms_norm(&frames[i * f], nullptr, f, w.config.mm_rms_eps, &normed[i * f]);
  std::vector<float> out(n * w.config.n_embd);
  matmul(w.audio->projection, normed.data(), n, out.data(), pool);
  return out;
}

}  // namespace ug
