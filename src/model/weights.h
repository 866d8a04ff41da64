// Binds every tensor of a model (GGUF text + mmproj, or an HF folder) to its role, whatever the
// format: text spec §5.2/§6.2, input spec §8. Matrices stay in their stored type (mapped, used in
// place) unless quantize-on-load asks for another; small vectors become f32.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"
#include "tensor/tensor_view.h"

namespace ug {

// A linear map stored as ggml ne = {in, out} (PyTorch [out, in]).
using Matrix = TensorView;

struct LayerWeights {
  std::vector<float> attn_norm, post_attn_norm, ffn_norm, post_ffw_norm;  // [n_embd]
  std::vector<float> q_norm, k_norm;                                      // [head_dim]
  Matrix wq, wk, wv, wo;  // wv.data == nullptr on K=V global layers
  Matrix w_gate, w_up, w_down;
  float layer_scalar = 1.0f;
};

struct VisionWeights {
  bool chw = false;  // GGUF mmproj patch layout is CHW, HF is HWC (input spec §1.5)
  std::vector<float> ln1_w, ln1_b;  // [patch_values]
  Matrix patch_dense;               // {patch_values, vision_width}
  std::vector<float> dense_b, ln2_w, ln2_b, ln3_w, ln3_b;  // [vision_width]
  std::vector<float> pos_x, pos_y;  // [pos_table, vision_width]
  Matrix projection;                // {vision_width, n_embd}
};

struct AudioWeights {
  Matrix projection;  // {audio_frame, n_embd}
};

struct Gemma4Weights {
  Gemma4Config config;
  std::string source;        // what was loaded, for messages
  std::string format;        // "gguf" or "hf"
  Matrix tok_embd;           // {n_embd, vocab}; also the tied LM head
  std::vector<float> output_norm;
  std::vector<float> rope_freq_factors;  // [head_dim_global/2] for global layers; inf = identity
  std::vector<LayerWeights> layers;
  std::optional<VisionWeights> vision;
  std::optional<AudioWeights> audio;
  std::vector<std::shared_ptr<const void>> keep_alive;  // mapped files and owned buffers
};

struct LoadOptions {
  std::string mmproj_path;              // GGUF only; HF folders carry their own front end
  std::optional<DType> quantize;        // quantize 2-D weights on load (e.g. Q4_0, Q8_0)
  int threads = 0;
};

// Opens a GGUF file or an HF folder and validates every tensor's presence, type and shape
// against the config. Throws ug::Error naming the file and tensor.
std::shared_ptr<Gemma4Weights> load_gemma4(const std::string& path, const LoadOptions& opts = {});

}  // namespace ug
