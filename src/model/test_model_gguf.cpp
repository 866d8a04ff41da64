// The test checkpoint as llama.cpp's converter writes it: text spec §5.1–§5.3 and §7.2, input
// spec §8.3; key order and key types mirror the third-party fixture GGUFs.
#include "base/error.h"
#include "model/tensor_names.h"
#include "formats/gguf.h"
#include "model/test_model.h"
#include "model/test_model_stream.h"
#include "model/test_model_vocab.h"

namespace ug {

namespace {

GgufValue u32(int64_t v) { return GgufValue::make_u32(static_cast<uint32_t>(v)); }
GgufValue f32(double v) { return GgufValue::make_f32(static_cast<float>(v)); }


GgufValue int_array(const std::vector<int>& v) {
  std::vector<GgufValue> items;
  for (int x : v) items.push_back(GgufValue::make_i32(x));
  return GgufValue::make_array(GgufType::I32, std::move(items));
}

GgufValue bool_array(const std::vector<bool>& v) {
  std::vector<GgufValue> items;
  for (bool x : v) items.push_back(GgufValue::make_bool(x));
  return GgufValue::make_array(GgufType::BOOL, std::move(items));
}

GgufValue f32_array(const std::vector<float>& v) {
  std::vector<GgufValue> items;
  for (float x : v) items.push_back(GgufValue::make_f32(x));
  return GgufValue::make_array(GgufType::F32, std::move(items));
}

// The attention/RoPE block of keys shared by the decoder and the drafter (text spec §5.1, §7.2).
void add_decoder_keys(GgufWriter& w, const std::string& p, const Gemma4Config& c, int n_embd,
                      int n_ff, const std::vector<int>& kv, const std::vector<bool>& sliding,
                      int shared_kv_layers) {
  w.add_kv(p + "context_length", u32(c.context_length));
  w.add_kv(p + "embedding_length", u32(n_embd));
  w.add_kv(p + "block_count", u32(static_cast<int64_t>(sliding.size())));
  w.add_kv(p + "feed_forward_length", u32(n_ff));
  w.add_kv(p + "attention.head_count", u32(c.n_head));
  w.add_kv(p + "attention.head_count_kv", int_array(kv));
  w.add_kv(p + "attention.key_length", u32(c.head_dim_global));
  w.add_kv(p + "attention.value_length", u32(c.head_dim_global));
  w.add_kv(p + "attention.key_length_swa", u32(c.head_dim_swa));
  w.add_kv(p + "attention.value_length_swa", u32(c.head_dim_swa));
  w.add_kv(p + "rope.dimension_count", u32(c.head_dim_global));
  w.add_kv(p + "rope.dimension_count_swa", u32(c.head_dim_swa));
  w.add_kv(p + "rope.freq_base", f32(c.rope_base_global));
  w.add_kv(p + "rope.freq_base_swa", f32(c.rope_base_swa));
  w.add_kv(p + "attention.layer_norm_rms_epsilon", f32(c.rms_eps));
  w.add_kv(p + "attention.sliding_window", u32(c.sliding_window));
  w.add_kv(p + "attention.sliding_window_pattern", bool_array(sliding));
  w.add_kv(p + "attention.shared_kv_layers", u32(shared_kv_layers));
  w.add_kv(p + "embedding_length_per_layer_input", u32(0));
}

void add_tokenizer_keys(GgufWriter& w, const Gemma4Config& c, const TokenizerData& v) {
  w.add_kv("tokenizer.ggml.model", GgufValue::make_string("gemma4"));
  std::vector<GgufValue> tokens, scores, types, merges;
  tokens.reserve(v.tokens.size());
  for (const auto& t : v.tokens) tokens.push_back(GgufValue::make_string(t));
  for (size_t i = 0; i < v.tokens.size(); ++i)
    scores.push_back(GgufValue::make_f32(v.scores.empty() ? -1000.0f : v.scores[i]));
  for (TokenType t : v.types) types.push_back(GgufValue::make_i32(static_cast<int32_t>(t)));
  merges.reserve(v.merges.size());
  for (const auto& m : v.merges) merges.push_back(GgufValue::make_string(m));
  w.add_kv("tokenizer.ggml.tokens", GgufValue::make_array(GgufType::STRING, std::move(tokens)));
  w.add_kv("tokenizer.ggml.scores", GgufValue::make_array(GgufType::F32, std::move(scores)));
  w.add_kv("tokenizer.ggml.token_type", GgufValue::make_array(GgufType::I32, std::move(types)));
  w.add_kv("tokenizer.ggml.merges", GgufValue::make_array(GgufType::STRING, std::move(merges)));
  w.add_kv("tokenizer.ggml.bos_token_id", u32(c.bos_id));
  w.add_kv("tokenizer.ggml.eos_token_id", u32(c.eos_id));
  w.add_kv("tokenizer.ggml.unknown_token_id", u32(c.unk_id));
  w.add_kv("tokenizer.ggml.padding_token_id", u32(c.pad_id));
  w.add_kv("tokenizer.ggml.mask_token_id", u32(v.mask_id));
  w.add_kv("tokenizer.ggml.add_bos_token", GgufValue::make_bool(true));
  w.add_kv("tokenizer.ggml.add_eos_token", GgufValue::make_bool(false));
  w.add_kv("tokenizer.ggml.add_space_prefix", GgufValue::make_bool(false));
  w.add_kv("tokenizer.chat_template", GgufValue::make_string(gemma4_chat_template()));
  std::vector<GgufValue> sup;
  for (int32_t id : c.suppress_tokens) sup.push_back(GgufValue::make_i32(id));
  w.add_kv("tokenizer.ggml.suppress_tokens", GgufValue::make_array(GgufType::I32, std::move(sup)));
}

void add_sampling_keys(GgufWriter& w, const Gemma4Config& c) {
  w.add_kv("general.sampling.top_k", GgufValue::make_i32(c.top_k));
  w.add_kv("general.sampling.top_p", f32(c.top_p));
  w.add_kv("general.sampling.temp", f32(c.temperature));
}

void write_file(GgufWriter& w, const std::vector<TestTensor>& plan, ThreadPool& pool,
                const std::string& path) {
  std::vector<const TestTensor*> order;
  for (const auto& t : plan) {
    w.add_tensor_info(t.gguf_name, t.gguf_type, t.ne);
    order.push_back(&t);
  }
  w.begin(path);
  stream_tensors(order, TestEncoding::Gguf, pool,
                 [&w](const void* d, uint64_t n) { w.write_tensor_data(d, n); });
  w.finish();
}

std::string model_name(const TestModelOptions& o, const char* what) {
  return std::string("unigemma-test") + what + "-random-s" + std::to_string(o.seed);
}

void write_text(const TestModelOptions& o, const TokenizerData& vocab, ThreadPool& pool,
                const std::string& path) {
  const Gemma4Config& c = o.config;
  auto plan = plan_text_tensors(o);
  GgufWriter w;
  w.add_kv("general.architecture", GgufValue::make_string("gemma4"));
  w.add_kv("general.name", GgufValue::make_string(model_name(o, "")));
  w.add_kv("general.file_type", u32(gguf_file_type(o.weight_type)));
  w.add_kv("general.quantization_version", u32(2));
  add_test_config_keys(w, c);
  add_tokenizer_keys(w, c, vocab);
  write_file(w, plan, pool, path);
}

void write_mmproj(const TestModelOptions& o, ThreadPool& pool, const std::string& path) {
  const Gemma4Config& c = o.config;
  auto plan = plan_mmproj_tensors(o);
  DType proj = DType::F16;
  for (const auto& t : plan)
    if (t.gguf_name == "mm.input_projection.weight" ||
        t.gguf_name == "mm.a.input_projection.weight")
      proj = t.gguf_type;
  GgufWriter w;
  w.add_kv("general.architecture", GgufValue::make_string("clip"));
  w.add_kv("general.name", GgufValue::make_string(model_name(o, "-mmproj")));
  w.add_kv("general.file_type", u32(gguf_file_type(proj)));
  w.add_kv("clip.has_vision_encoder", GgufValue::make_bool(c.has_vision));
  w.add_kv("clip.has_audio_encoder", GgufValue::make_bool(c.has_audio));
  if (c.has_vision) w.add_kv("clip.vision.projector_type", GgufValue::make_string("gemma4uv"));
  if (c.has_audio) w.add_kv("clip.audio.projector_type", GgufValue::make_string("gemma4ua"));
  if (c.has_vision) {
    w.add_kv("clip.vision.embedding_length", u32(c.vision_width));
    w.add_kv("clip.vision.feed_forward_length", u32(0));
    w.add_kv("clip.vision.block_count", u32(0));
    w.add_kv("clip.vision.attention.head_count", u32(0));
    w.add_kv("clip.vision.attention.layer_norm_epsilon", f32(c.mm_rms_eps));
    w.add_kv("clip.vision.projection_dim", u32(c.n_embd));
  }
  if (c.has_audio) {
    w.add_kv("clip.audio.embedding_length", u32(c.audio_frame));
    w.add_kv("clip.audio.feed_forward_length", u32(0));
    w.add_kv("clip.audio.block_count", u32(0));
    w.add_kv("clip.audio.attention.head_count", u32(0));
    w.add_kv("clip.audio.attention.layer_norm_epsilon", f32(c.mm_rms_eps));
    w.add_kv("clip.audio.projection_dim", u32(c.n_embd));
  }
  if (c.has_vision) {
    w.add_kv("clip.vision.image_size", u32(224));  // unused by gemma4uv; the converter sets it
    w.add_kv("clip.vision.patch_size", u32(c.mm_patch / 3));  // llama.cpp multiplies by 3
    w.add_kv("clip.vision.image_mean", f32_array({0, 0, 0}));
    w.add_kv("clip.vision.image_std", f32_array({1, 1, 1}));
  }
  if (c.has_audio) w.add_kv("clip.audio.num_mel_bins", u32(128));  // meaningless (input §2.6)
  write_file(w, plan, pool, path);
}

void write_assistant(const TestModelOptions& o, const TokenizerData& vocab, ThreadPool& pool,
                     const std::string& path) {
  const Gemma4Config& c = o.config;
  const AssistantShape s = resolved_assistant_shape(o);
  auto plan = plan_assistant_tensors(o);
  int swa_kv = c.n_head_kv.front(), global_kv = c.n_head_kv.back();
  for (int l = 0; l < c.n_layer; ++l) (c.is_sliding[l] ? swa_kv : global_kv) = c.n_head_kv[l];
  std::vector<int> kv(s.n_layer, swa_kv);
  std::vector<bool> sliding(s.n_layer, true);
  kv.back() = global_kv;
  sliding.back() = false;
  GgufWriter w;
  w.add_kv("general.architecture", GgufValue::make_string("gemma4-assistant"));
  w.add_kv("general.name", GgufValue::make_string(model_name(o, "-assistant")));
  w.add_kv("general.file_type", u32(gguf_file_type(o.weight_type)));
  w.add_kv("general.quantization_version", u32(2));
  const std::string p = "gemma4-assistant.";
  add_decoder_keys(w, p, c, s.n_embd, s.n_ff, kv, sliding, s.n_layer);
  w.add_kv(p + "embedding_length_out", u32(c.n_embd));
  w.add_kv(p + "nextn_predict_layers", u32(s.n_layer));
  add_tokenizer_keys(w, c, vocab);
  write_file(w, plan, pool, path);
}

}  // namespace

void add_test_config_keys(GgufWriter& w, const Gemma4Config& c) {
  add_sampling_keys(w, c);
  add_decoder_keys(w, "gemma4.", c, c.n_embd, c.n_ff, c.n_head_kv, c.is_sliding, 0);
  if (c.final_softcap > 0) w.add_kv("gemma4.final_logit_softcapping", f32(c.final_softcap));
}

void write_test_gguf(const TestModelOptions& opts, const std::string& out_prefix) {
  opts.config.validate();
  auto vocab = resolve_test_vocab(opts);
  ThreadPool pool(opts.threads);
  write_text(opts, *vocab, pool, out_prefix + ".gguf");
  if (opts.mmproj && (opts.config.has_vision || opts.config.has_audio))
    write_mmproj(opts, pool, out_prefix + "-mmproj.gguf");
  if (opts.assistant) write_assistant(opts, *vocab, pool, out_prefix + "-assistant.gguf");
}

}  // namespace ug
