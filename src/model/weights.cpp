#include "model/weights.h"

#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "base/error.h"
#include "base/thread_pool.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "formats/safetensors.h"
#include "model/repack.h"
#include "model/tensor_binder.h"
#include "model/tensor_names.h"
#include "tensor/quant.h"

namespace ug {

namespace {

void bind_layers(Gemma4Weights& w, TensorBinder& b,
                 const std::function<std::string(int, const char*)>& nm, bool hf) {
  const Gemma4Config& c = w.config;
  w.layers.resize(c.n_layer);
  for (int l = 0; l < c.n_layer; ++l) {
    LayerWeights& L = w.layers[l];
    const int64_t d = c.n_embd, hd = c.head_dim(l), q = c.q_width(l), kv = c.kv_width(l);
    L.attn_norm = b.vec(nm(l, "attn_norm"), d);
    L.wq = b.mat(nm(l, "attn_q"), d, q);
    L.wk = b.mat(nm(l, "attn_k"), d, kv);
    L.wv = b.mat(nm(l, "attn_v"), d, kv, c.has_v_proj(l));
    if (!c.has_v_proj(l) && b.get(nm(l, "attn_v"), false))
      fail(b.file(), ": layer ", l, " is a global K=V layer but has a V projection '",
           nm(l, "attn_v"), "'");
    L.wo = b.mat(nm(l, "attn_output"), q, d);
    L.q_norm = b.vec(nm(l, "attn_q_norm"), hd);
    L.k_norm = b.vec(nm(l, "attn_k_norm"), hd);
    L.post_attn_norm = b.vec(nm(l, "post_attention_norm"), d);
    L.ffn_norm = b.vec(nm(l, "ffn_norm"), d);
    L.w_gate = b.mat(nm(l, "ffn_gate"), d, c.n_ff);
    L.w_up = b.mat(nm(l, "ffn_up"), d, c.n_ff);
    L.w_down = b.mat(nm(l, "ffn_down"), c.n_ff, d);
    L.post_ffw_norm = b.vec(nm(l, "post_ffw_norm"), d);
    L.layer_scalar = b.vec(nm(l, "layer_output_scale"), 1)[0];
    if (!std::isfinite(L.layer_scalar))
      fail(b.file(), ": layer ", l, " output scale is not finite");
  }
  (void)hf;
}

void check_global_rope(const Gemma4Weights& w, const std::string& file) {
  const Gemma4Config& c = w.config;
  int rotated = 0;
  for (float f : w.rope_freq_factors)
    if (f < 1e20f) ++rotated;
  (void)rotated;
  if (static_cast<int>(w.rope_freq_factors.size()) != c.head_dim_global / 2)
    fail(file, ": rope_freqs has ", w.rope_freq_factors.size(), " entries, expected ",
         c.head_dim_global / 2);
}

std::vector<float> proportional_factors(const Gemma4Config& c) {
  std::vector<float> f(c.head_dim_global / 2, std::numeric_limits<float>::infinity());
  for (int d = 0; d < c.rotated_pairs_global(); ++d) f[d] = 1.0f;
  return f;
}

void quantize_matrices(Gemma4Weights& w, DType type, int threads) {
  if (!can_quantize(type)) fail("cannot quantize to ", dtype_name(type));
  ThreadPool pool(threads);
  auto convert = [&](Matrix& m) {
    // A row that does not split into the type's blocks (the audio projection's 640 values for
    // the K-quants) gets the type `unigemma quantize` would give it: Q5_0/Q8_0, else F16.
    const DType t = m.data ? fit_row_length(type, m.ne[0]) : type;
    if (!m.data || m.type == t) return;
    const int64_t in = m.ne[0], rows = m.ne[1];
    const uint64_t out_row = row_bytes(t, in);
    auto buf = std::shared_ptr<uint8_t[]>(new uint8_t[out_row * rows]);
    pool.parallel_for(
        rows,
        [&](int64_t r0, int64_t r1, int) {
          std::vector<float> tmp(in);
          for (int64_t r = r0; r < r1; ++r) {
            dequantize_row(m.type, m.row(r), tmp.data(), in);
            quantize_row(t, tmp.data(), buf.get() + out_row * r, in);
          }
        },
        16);
    m.type = t;
    m.data = buf.get();
    m.nbytes = out_row * rows;
    w.keep_alive.push_back(std::shared_ptr<const void>(buf, buf.get()));
  };
  convert(w.tok_embd);
  for (auto& L : w.layers)
    for (Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) convert(*m);
  if (w.vision) convert(w.vision->projection);
  if (w.audio) convert(w.audio->projection);
}

void split_pos_table(VisionWeights& v, const std::vector<float>& both, int rows, int width,
                     bool axis_major) {
  v.pos_x.resize(static_cast<size_t>(rows) * width);
  v.pos_y.resize(static_cast<size_t>(rows) * width);
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < width; ++i) {
      // GGUF ne [width, rows, 2]: axis outermost. HF [rows, 2, width]: axis in the middle.
      size_t xi = axis_major ? (size_t(0) * rows + r) * width + i : (size_t(r) * 2 + 0) * width + i;
      size_t yi = axis_major ? (size_t(1) * rows + r) * width + i : (size_t(r) * 2 + 1) * width + i;
      v.pos_x[size_t(r) * width + i] = both[xi];
      v.pos_y[size_t(r) * width + i] = both[yi];
    }
}

std::shared_ptr<Gemma4Weights> load_gguf(const std::string& path, const LoadOptions& opts) {
  auto text = std::make_shared<GgufFile>(path);
  std::shared_ptr<GgufFile> mm;
  if (!opts.mmproj_path.empty()) mm = std::make_shared<GgufFile>(opts.mmproj_path);
  auto w = std::make_shared<Gemma4Weights>();
  w->keep_alive.push_back(text);
  if (mm) w->keep_alive.push_back(mm);
  w->source = path;
  w->format = "gguf";
  w->config = Gemma4Config::from_gguf(*text, mm.get());
  const Gemma4Config& c = w->config;

  TensorBinder b(path, [&](const std::string& n) { return text->tensor(n); });
  w->tok_embd = b.mat("token_embd.weight", c.n_embd, c.vocab_size);
  w->output_norm = b.vec("output_norm.weight", c.n_embd);
  if (b.get("output.weight", false))
    fail(path, ": has a separate output.weight; Gemma 4 ties the LM head to token_embd");
  bool any_global = false;
  for (int l = 0; l < c.n_layer; ++l) any_global |= !c.is_sliding[l];
  if (any_global) {
    std::vector<float> f = b.vec("rope_freqs.weight", c.head_dim_global / 2);
    for (float& x : f)
      if (x > 1e20f) x = std::numeric_limits<float>::infinity();
    w->rope_freq_factors = f;
    check_global_rope(*w, path);
  }
  bind_layers(
      *w, b,
      [](int l, const char* role) { return "blk." + std::to_string(l) + "." + role + ".weight"; },
      false);
  b.check_all_used(text->tensors());

  if (mm) {
    TensorBinder m(opts.mmproj_path, [&](const std::string& n) { return mm->tensor(n); });
    const int64_t pv = int64_t(c.mm_patch) * c.mm_patch * 3, vw = c.vision_width;
    if (c.has_vision) {
      VisionWeights v;
      v.chw = true;
      v.ln1_w = m.vec("v.patch_norm.1.weight", pv);
      v.ln1_b = m.vec("v.patch_norm.1.bias", pv);
      v.patch_dense = m.mat("v.patch_embd.weight", pv, vw);
      v.dense_b = m.vec("v.patch_embd.bias", vw);
      v.ln2_w = m.vec("v.patch_norm.2.weight", vw);
      v.ln2_b = m.vec("v.patch_norm.2.bias", vw);
      v.ln3_w = m.vec("v.patch_norm.3.weight", vw);
      v.ln3_b = m.vec("v.patch_norm.3.bias", vw);
      const TensorView* pos = m.get("v.position_embd.weight", true);
      if (pos->ne.size() != 3 || pos->ne[0] != vw || pos->ne[2] != 2)
        fail(opts.mmproj_path, ": v.position_embd.weight has shape ", shape_string(pos->ne),
             ", expected [", vw, ", rows, 2]");
      w->config.pos_table = static_cast<int>(pos->ne[1]);
      split_pos_table(v, m.vec("v.position_embd.weight", pos->n_elements()), w->config.pos_table,
                      static_cast<int>(vw), true);
      v.projection = m.mat("mm.input_projection.weight", vw, c.n_embd);
      w->vision = std::move(v);
    }
    if (c.has_audio) {
      AudioWeights a;
      a.projection = m.mat("mm.a.input_projection.weight", c.audio_frame, c.n_embd);
      w->audio = std::move(a);
    }
    m.check_all_used(mm->tensors());
    mm->drop_metadata();
  }
  // The files stay open for their mapped tensors; their parsed metadata (≈ 100 MB of tokenizer
  // arrays in a 12B file) is no longer needed.
  text->drop_metadata();
  if (opts.quantize) quantize_matrices(*w, *opts.quantize, opts.threads);
  return w;
}

std::shared_ptr<Gemma4Weights> load_hf(const std::string& folder, const LoadOptions& opts) {
  HfFolder hf = load_hf_folder(folder);
  auto set = std::make_shared<SafetensorsSet>(folder);
  auto w = std::make_shared<Gemma4Weights>();
  w->keep_alive.push_back(set);
  w->source = folder;
  w->format = "hf";
  const nlohmann::json* gen = hf.generation_config.is_null() ? nullptr : &hf.generation_config;
  w->config = Gemma4Config::from_hf(hf.config, gen);
  const Gemma4Config& c = w->config;
  std::string prefix =
      set->tensor("model.language_model.embed_tokens.weight") ? "model.language_model." : "model.";
  TensorBinder b(folder, [&](const std::string& n) { return set->tensor(n); });
  w->tok_embd = b.mat(prefix + "embed_tokens.weight", c.n_embd, c.vocab_size);
  w->output_norm = b.vec(prefix + "norm.weight", c.n_embd);
  b.get("lm_head.weight", false);  // tied; a stored copy is ignored
  w->rope_freq_factors = proportional_factors(c);
  bind_layers(
      *w, b,
      [&](int l, const char* role) {
        return prefix + "layers." + std::to_string(l) + "." + hf_layer_name(role);
      },
      true);
  const int64_t pv = int64_t(c.mm_patch) * c.mm_patch * 3, vw = c.vision_width;
  if (c.has_vision && b.get("model.vision_embedder.patch_dense.weight", false)) {
    VisionWeights v;
    v.chw = false;
    const std::string e = "model.vision_embedder.";
    v.ln1_w = b.vec(e + "patch_ln1.weight", pv);
    v.ln1_b = b.vec(e + "patch_ln1.bias", pv);
    v.patch_dense = b.mat(e + "patch_dense.weight", pv, vw);
    v.dense_b = b.vec(e + "patch_dense.bias", vw);
    v.ln2_w = b.vec(e + "patch_ln2.weight", vw);
    v.ln2_b = b.vec(e + "patch_ln2.bias", vw);
    v.ln3_w = b.vec(e + "pos_norm.weight", vw);
    v.ln3_b = b.vec(e + "pos_norm.bias", vw);
    const TensorView* pos = b.get(e + "pos_embedding", true);
    if (pos->ne.size() != 3 || pos->ne[0] != vw || pos->ne[1] != 2)
      fail(folder, ": pos_embedding has ggml shape ", shape_string(pos->ne), ", expected [", vw,
           ", 2, rows]");
    w->config.pos_table = static_cast<int>(pos->ne[2]);
    split_pos_table(v, b.vec(e + "pos_embedding", pos->n_elements()), w->config.pos_table,
                    static_cast<int>(vw), false);
    v.projection = b.mat("model.embed_vision.embedding_projection.weight", vw, c.n_embd);
    w->vision = std::move(v);
  } else {
    w->config.has_vision = false;
  }
  if (c.has_audio && b.get("model.embed_audio.embedding_projection.weight", false)) {
    AudioWeights a;
    a.projection = b.mat("model.embed_audio.embedding_projection.weight", c.audio_frame, c.n_embd);
    w->audio = std::move(a);
  } else {
    w->config.has_audio = false;
  }
  b.check_all_used(set->tensors());
  if (opts.quantize) quantize_matrices(*w, *opts.quantize, opts.threads);
  return w;
}

}  // namespace

std::shared_ptr<Gemma4Weights> load_gemma4(const std::string& path, const LoadOptions& opts) {
  std::shared_ptr<Gemma4Weights> w;
  if (is_hf_folder(path)) {
    if (!opts.mmproj_path.empty())
      fail(path, ": an HF folder carries its own vision and audio weights; --mmproj is for GGUF");
    w = load_hf(path, opts);
  } else {
    w = load_gguf(path, opts);
  }
  if (repack_on_load()) {
    std::vector<Matrix*> ms = {&w->tok_embd};
    for (auto& L : w->layers)
      for (Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) ms.push_back(m);
    if (w->vision) ms.insert(ms.end(), {&w->vision->patch_dense, &w->vision->projection});
    if (w->audio) ms.push_back(&w->audio->projection);
    repack_matrices(ms, w->keep_alive, opts.threads);
  }
  return w;
}

}  // namespace ug
