// The test checkpoint as Google ships google/gemma-4-12B-it: text spec §6, input spec §8.1–§8.2.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "formats/safetensors.h"
#include "testmodel/test_model.h"
#include "testmodel/test_model_stream.h"
#include "testmodel/test_model_vocab.h"
#include "text/chat_format.h"
#include "text/vocab_hf.h"

namespace ug {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kTransformersVersion = "5.10.0.dev0";

// A float as its shortest decimal, so 0.95f is written 0.95 and not 0.949999988079071.
double num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", static_cast<double>(v));
  return std::strtod(buf, nullptr);
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  if (!f) fail(path.string(), ": cannot create file");
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!f) fail(path.string(), ": write failed");
}

void write_json(const fs::path& path, const json& j) { write_text_file(path, j.dump(2) + "\n"); }

json layer_types(const std::vector<bool>& sliding) {
  json t = json::array();
  for (bool s : sliding) t.push_back(s ? "sliding_attention" : "full_attention");
  return t;
}

json rope_parameters(const Gemma4Config& c) {
  return {{"full_attention",
           {{"partial_rotary_factor", num(c.partial_rotary_factor_global)},
            {"rope_theta", num(c.rope_base_global)},
            {"rope_type", "proportional"}}},
          {"sliding_attention", {{"rope_theta", num(c.rope_base_swa)}, {"rope_type", "default"}}}};
}

int kv_heads_of(const Gemma4Config& c, bool sliding) {
  int v = 0;
  for (int l = 0; l < c.n_layer; ++l)
    if (c.is_sliding[l] == sliding) v = c.n_head_kv[l];
  return v ? v : c.n_head_kv.front();
}

json text_config(const Gemma4Config& c) {
  return {{"attention_bias", false},
          {"attention_dropout", 0.0},
          {"attention_k_eq_v", c.k_eq_v_global},
          {"bos_token_id", c.bos_id},
          {"dtype", "bfloat16"},
          {"enable_moe_block", false},
          {"eos_token_id", c.eos_id},
          {"final_logit_softcapping", c.final_softcap > 0 ? json(num(c.final_softcap)) : json()},
          {"global_head_dim", c.head_dim_global},
          {"head_dim", c.head_dim_swa},
          {"hidden_activation", "gelu_pytorch_tanh"},
          {"hidden_size", c.n_embd},
          {"hidden_size_per_layer_input", 0},
          {"initializer_range", 0.02},
          {"intermediate_size", c.n_ff},
          {"layer_types", layer_types(c.is_sliding)},
          {"max_position_embeddings", c.context_length},
          {"model_type", "gemma4_unified_text"},
          {"moe_intermediate_size", nullptr},
          {"num_attention_heads", c.n_head},
          {"num_experts", nullptr},
          {"num_global_key_value_heads", kv_heads_of(c, false)},
          {"num_hidden_layers", c.n_layer},
          {"num_key_value_heads", kv_heads_of(c, true)},
          {"num_kv_shared_layers", 0},
          {"pad_token_id", c.pad_id},
          {"rms_norm_eps", num(c.rms_eps)},
          {"rope_parameters", rope_parameters(c)},
          {"sliding_window", c.sliding_window},
          {"tie_word_embeddings", true},
          {"top_k_experts", nullptr},
          {"use_bidirectional_attention", "vision"},
          {"use_cache", true},
          {"use_double_wide_mlp", false},
          {"vocab_size", c.vocab_size},
          {"vocab_size_per_layer_input", c.vocab_size}};
}

json model_config(const Gemma4Config& c) {
  json j = {{"architectures", {"Gemma4UnifiedForConditionalGeneration"}},
            {"audio_token_id", c.audio_token_id},
            {"boa_token_id", c.boa_id},
            {"boi_token_id", c.boi_id},
            {"dtype", "bfloat16"},
            {"eoa_token_index", c.eoa_id},
            {"eoi_token_id", c.eoi_id},
            {"eos_token_id", {c.eos_id, 106}},
            {"image_token_id", c.image_token_id},
            {"initializer_range", 0.02},
            {"model_type", "gemma4_unified"},
            {"text_config", text_config(c)},
            {"tie_word_embeddings", true},
            {"transformers_version", kTransformersVersion},
            {"video_token_id", c.video_token_id}};
  if (c.has_vision)
    j["vision_config"] = {
        {"mm_embed_dim", c.vision_width},   {"mm_posemb_size", c.pos_table},
        {"model_patch_size", c.mm_patch},   {"model_type", "gemma4_unified_vision"},
        {"num_soft_tokens", 280},           {"output_proj_dims", c.n_embd},
        {"patch_size", c.mm_patch / 3},     {"pooling_kernel_size", 3},
        {"rms_norm_eps", num(c.mm_rms_eps)}};
  if (c.has_audio)
    j["audio_config"] = {
        {"audio_embed_dim", c.audio_frame},  {"audio_samples_per_token", c.audio_frame},
        {"hidden_size", c.audio_frame},      {"model_type", "gemma4_unified_audio"},
        {"output_proj_dims", c.audio_frame}, {"rms_norm_eps", num(c.mm_rms_eps)}};
  return j;
}

json generation_config(const Gemma4Config& c) {
  return {{"bos_token_id", c.bos_id},
          {"do_sample", true},
          {"eos_token_id", c.stop_ids},
          {"pad_token_id", c.pad_id},
          {"suppress_tokens", c.suppress_tokens},
          {"temperature", num(c.temperature)},
          {"top_k", c.top_k},
          {"top_p", num(c.top_p)},
          {"transformers_version", kTransformersVersion}};
}

json tokenizer_config() {
  return {{"add_bos_token", false},  // the -it chat template emits <bos> itself (input spec §4.3)
          {"add_eos_token", false},
          {"audio_token", "<|audio|>"},
          {"boa_token", "<|audio>"},
          {"boi_token", "<|image>"},
          {"bos_token", "<bos>"},
          {"clean_up_tokenization_spaces", false},
          {"eoa_token", "<audio|>"},
          {"eoc_token", "<channel|>"},
          {"eoi_token", "<image|>"},
          {"eos_token", "<eos>"},
          {"eot_token", "<turn|>"},
          {"escape_token", "<|\"|>"},
          {"etc_token", "<tool_call|>"},
          {"etd_token", "<tool|>"},
          {"etr_token", "<tool_response|>"},
          {"extra_special_tokens", {"<|video|>"}},
          {"image_token", "<|image|>"},
          {"mask_token", "<mask>"},
          {"model_max_length", 1000000000000000019884624838656.0},
          {"pad_token", "<pad>"},
          {"padding_side", "left"},
          {"soc_token", "<|channel>"},
          {"sot_token", "<|turn>"},
          {"stc_token", "<|tool_call>"},
          {"std_token", "<|tool>"},
          {"str_token", "<|tool_response>"},
          {"think_token", "<|think|>"},
          {"tokenizer_class", "GemmaTokenizer"},
          {"unk_token", "<unk>"}};
}

// Shards of at most max_bytes (a larger tensor gets a shard of its own), each written with the
// same generate-while-writing pipeline as the GGUF files; then the index.
void write_shards(const fs::path& folder, const std::vector<const TestTensor*>& tensors,
                  uint64_t max_bytes, ThreadPool& pool) {
  std::vector<std::vector<const TestTensor*>> shards(1);
  uint64_t used = 0, total = 0;
  for (const TestTensor* t : tensors) {
    uint64_t b = static_cast<uint64_t>(t->n_elements()) * 2;
    if (!shards.back().empty() && used + b > max_bytes) {
      shards.emplace_back();
      used = 0;
    }
    shards.back().push_back(t);
    used += b;
    total += b;
  }
  std::map<std::string, std::string> weight_map;
  const size_t n = shards.size();
  for (size_t k = 0; k < n; ++k) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", k + 1, n);
    SafetensorsWriter w;
    w.add_metadata("format", "pt");
    for (const TestTensor* t : shards[k]) {
      w.add_tensor_info(t->hf_name, DType::BF16, t->hf_ne);
      weight_map[t->hf_name] = name;
    }
    w.begin((folder / name).string());
    stream_tensors(shards[k], TestEncoding::HfBf16, pool,
                   [&w](const void* d, uint64_t n) { w.write_tensor_data(d, n); });
    w.finish();
  }
  write_safetensors_index(folder.string(), weight_map, total);
}

void prepare_folder(const fs::path& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec || !fs::is_directory(folder))
    fail(folder.string(), ": cannot create the output folder (", ec.message(), ")");
  // Stale shards of an earlier run with another shard count would confuse readers.
  for (const auto& e : fs::directory_iterator(folder)) {
    std::string name = e.path().filename().string();
    if (name.rfind("model-", 0) == 0 && e.path().extension() == ".safetensors")
      fs::remove(e.path());
  }
}

json assistant_config(const TestModelOptions& o) {
  const Gemma4Config& c = o.config;
  const AssistantShape s = resolved_assistant_shape(o);
  std::vector<bool> sliding(s.n_layer, true);
  sliding.back() = false;
  json t = text_config(c);
  t["hidden_size"] = s.n_embd;
  t["intermediate_size"] = s.n_ff;
  t["num_hidden_layers"] = s.n_layer;
  t["layer_types"] = layer_types(sliding);
  t["num_kv_shared_layers"] = s.n_layer;
  t["final_logit_softcapping"] = nullptr;
  return {{"architectures", {"Gemma4UnifiedAssistantForCausalLM"}},
          {"backbone_hidden_size", c.n_embd},
          {"centroid_intermediate_top_k", 32},
          {"dtype", "bfloat16"},
          {"model_type", "gemma4_unified_assistant"},
          {"num_centroids", 2048},
          {"text_config", t},
          {"tie_word_embeddings", true},
          {"transformers_version", kTransformersVersion},
          {"use_ordered_embeddings", false}};
}

}  // namespace

void write_test_hf(const TestModelOptions& opts, const std::string& folder_path) {
  const Gemma4Config& c = opts.config;
  c.validate();
  auto vocab = resolve_test_vocab(opts);
  std::vector<TestTensor> text = plan_text_tensors(opts);
  std::vector<TestTensor> mm = opts.mmproj ? plan_mmproj_tensors(opts) : std::vector<TestTensor>{};
  Gemma4Config written = c;
  if (!opts.mmproj) written.has_vision = written.has_audio = false;

  const fs::path folder(folder_path);
  prepare_folder(folder);
  write_json(folder / "config.json", model_config(written));
  write_json(folder / "generation_config.json", generation_config(c));
  write_json(folder / "tokenizer.json", vocab_to_hf_json(*vocab));
  write_json(folder / "tokenizer_config.json", tokenizer_config());
  write_text_file(folder / "chat_template.jinja", gemma4_chat_template());

  std::vector<const TestTensor*> order;
  for (const auto& t : text)
    if (!t.hf_name.empty()) order.push_back(&t);
  for (const auto& t : mm) order.push_back(&t);
  ThreadPool pool(opts.threads);
  write_shards(folder, order, opts.hf_shard_bytes, pool);

  if (opts.assistant) {
    const fs::path af = folder.string() + "-assistant";
    prepare_folder(af);
    write_json(af / "config.json", assistant_config(opts));
    std::vector<TestTensor> asst = plan_assistant_tensors(opts);
    std::vector<const TestTensor*> aorder;
    for (const auto& t : asst)
      if (!t.hf_name.empty()) aorder.push_back(&t);
    write_shards(af, aorder, opts.hf_shard_bytes, pool);
  }
}

}  // namespace ug
