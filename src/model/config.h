// Every hyperparameter of the Gemma 4 12B family (text spec §2, input spec §8), filled from GGUF
// metadata or an HF config.json. Nothing about the layer pattern is hard-coded elsewhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ug {

class GgufFile;

struct Gemma4Config {
  // --- text decoder ---
  int n_layer = 48;
  int n_embd = 3840;
  int n_ff = 15360;
  int n_head = 16;
  std::vector<int> n_head_kv;       // per layer: 8 sliding, 1 global in the 12B
  std::vector<bool> is_sliding;     // per layer; global layers are false
  int head_dim_swa = 256;
  int head_dim_global = 512;
  int vocab_size = 262144;
  int64_t context_length = 262144;
  int sliding_window = 1024;
  float rope_base_swa = 10000.0f;
  float rope_base_global = 1000000.0f;
  float partial_rotary_factor_global = 0.25f;  // 64 of 256 pairs rotate (text spec §3.5)
  float rms_eps = 1e-6f;
  float final_softcap = 30.0f;   // 0 = none
  bool k_eq_v_global = true;     // global layers have no V projection
  std::vector<int32_t> suppress_tokens{258883, 258882};

  // --- tokens and generation defaults ---
  int bos_id = 2, eos_id = 1, pad_id = 0, unk_id = 3;
  std::vector<int32_t> stop_ids{1, 106, 50};
  float temperature = 1.0f;
  int top_k = 64;
  float top_p = 0.95f;

  // --- multimodal front end (input spec §1, §2, §8) ---
  bool has_vision = false;
  bool has_audio = false;
  int mm_patch = 48;           // pixels per side of one model patch
  int vision_width = 3840;     // mm_embed_dim
  int pos_table = 1120;        // rows of each position table
  int audio_frame = 640;       // samples per audio token
  float mm_ln_eps = 1e-5f;
  float mm_rms_eps = 1e-6f;
  int image_token_id = 258880, audio_token_id = 258881, video_token_id = 258884;
  int boi_id = 255999, eoi_id = 258882, boa_id = 256000, eoa_id = 258883;

  int head_dim(int layer) const { return is_sliding[layer] ? head_dim_swa : head_dim_global; }
  int kv_heads(int layer) const { return n_head_kv[layer]; }
  int q_width(int layer) const { return n_head * head_dim(layer); }
  int kv_width(int layer) const { return n_head_kv[layer] * head_dim(layer); }
  bool has_v_proj(int layer) const { return is_sliding[layer] || !k_eq_v_global; }
  float rope_base(int layer) const { return is_sliding[layer] ? rope_base_swa : rope_base_global; }
  // Pairs of the global head that rotate; the rest are identity (text spec §3.5).
  int rotated_pairs_global() const {
    return static_cast<int>(partial_rotary_factor_global * head_dim_global / 2);
  }
  float embed_scale() const;  // sqrt(n_embd) in f32, as llama.cpp

  int64_t text_param_count() const;        // text spec §2.3
  uint64_t kv_bytes_per_token_global(int bytes_per_value) const;
  uint64_t kv_bytes_per_token_sliding(int bytes_per_value) const;
  // KV cache bytes for one sequence of n_ctx tokens (sliding layers hold min(n_ctx, window)).
  uint64_t kv_cache_bytes(int64_t n_ctx, int bytes_per_value) const;

  void validate() const;  // throws ug::Error on inconsistent values

  static Gemma4Config preset_12b();   // the exact 12B shape
  static Gemma4Config preset_tiny();  // 6 layers (S S S S S G), small widths, window 16

  static Gemma4Config from_gguf(const GgufFile& text, const GgufFile* mmproj = nullptr);
  // config.json (top level with text_config / vision_config / audio_config, or a bare text
  // config) and generation_config.json (may be null).
  static Gemma4Config from_hf(const nlohmann::json& config, const nlohmann::json* generation);
};

}  // namespace ug
