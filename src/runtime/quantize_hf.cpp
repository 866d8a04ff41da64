#include "runtime/quantize_hf.h"

#include <filesystem>
#include <set>

#include "base/error.h"
#include "base/thread_pool.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "formats/safetensors.h"
#include "model/config.h"
#include "model/tensor_names.h"
#include "runtime/quantize_plan.h"
#include "runtime/quantize_stream.h"
#include "text/vocab_gemma4.h"
#include "text/vocab_hf.h"

namespace ug {

namespace {

GgufValue u32(int64_t v) { return GgufValue::make_u32(static_cast<uint32_t>(v)); }
GgufValue f32(double v) { return GgufValue::make_f32(static_cast<float>(v)); }
GgufValue str(std::string s) { return GgufValue::make_string(std::move(s)); }

template <class T, class F>
GgufValue array_of(GgufType type, const std::vector<T>& v, F make) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (const auto& x : v) items.push_back(make(x));
  return GgufValue::make_array(type, std::move(items));
}

// The text GGUF's metadata in the converter's order (the fixture GGUFs show it).
void add_text_keys(GgufWriter& w, const Gemma4Config& c, const TokenizerData& v,
                   const std::string& name, uint32_t file_type) {
  w.add_kv("general.architecture", str("gemma4"));
  w.add_kv("general.name", str(name));
  w.add_kv("general.file_type", u32(file_type));
  w.add_kv("general.quantization_version", u32(2));
  w.add_kv("general.sampling.top_k", GgufValue::make_i32(c.top_k));
  w.add_kv("general.sampling.top_p", f32(c.top_p));
  w.add_kv("general.sampling.temp", f32(c.temperature));
  const std::string p = "gemma4.";
  w.add_kv(p + "context_length", u32(c.context_length));
  w.add_kv(p + "embedding_length", u32(c.n_embd));
  w.add_kv(p + "block_count", u32(c.n_layer));
  w.add_kv(p + "feed_forward_length", u32(c.n_ff));
  w.add_kv(p + "attention.head_count", u32(c.n_head));
  w.add_kv(p + "attention.head_count_kv",
           array_of(GgufType::I32, c.n_head_kv, [](int x) { return GgufValue::make_i32(x); }));
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
  w.add_kv(p + "attention.sliding_window_pattern",
           array_of(GgufType::BOOL, c.is_sliding, [](bool x) { return GgufValue::make_bool(x); }));
  w.add_kv(p + "attention.shared_kv_layers", u32(0));
  w.add_kv(p + "embedding_length_per_layer_input", u32(0));
  if (c.final_softcap > 0) w.add_kv(p + "final_logit_softcapping", f32(c.final_softcap));

  add_gemma4_tokenizer_keys(w, c, v);
}

// The clip GGUF's metadata, as in the third-party fixture mmproj.
void add_mmproj_keys(GgufWriter& w, const Gemma4Config& c, bool vision, bool audio,
                     const std::string& name, uint32_t file_type) {
  w.add_kv("general.architecture", str("clip"));
  w.add_kv("general.name", str(name));
  w.add_kv("general.file_type", u32(file_type));
  w.add_kv("clip.has_vision_encoder", GgufValue::make_bool(vision));
  w.add_kv("clip.has_audio_encoder", GgufValue::make_bool(audio));
  if (vision) w.add_kv("clip.vision.projector_type", str("gemma4uv"));
  if (audio) w.add_kv("clip.audio.projector_type", str("gemma4ua"));
  for (const char* kind : {"vision", "audio"}) {
    if (std::string(kind) == "vision" ? !vision : !audio) continue;
    const std::string p = std::string("clip.") + kind + ".";
    w.add_kv(p + "embedding_length",
             u32(std::string(kind) == "vision" ? c.vision_width : c.audio_frame));
    w.add_kv(p + "feed_forward_length", u32(0));
    w.add_kv(p + "block_count", u32(0));
    w.add_kv(p + "attention.head_count", u32(0));
    w.add_kv(p + "attention.layer_norm_epsilon", f32(c.mm_rms_eps));
    w.add_kv(p + "projection_dim", u32(c.n_embd));
  }
  if (vision) {
    w.add_kv("clip.vision.image_size", u32(224));  // unused by gemma4uv; the converter sets it
    w.add_kv("clip.vision.patch_size", u32(c.mm_patch / 3));  // llama.cpp multiplies by 3
    const std::vector<float> zero{0, 0, 0}, one{1, 1, 1};
    auto f = [](float x) { return GgufValue::make_f32(x); };
    w.add_kv("clip.vision.image_mean", array_of(GgufType::F32, zero, f));
    w.add_kv("clip.vision.image_std", array_of(GgufType::F32, one, f));
  }
  if (audio) w.add_kv("clip.audio.num_mel_bins", u32(128));  // meaningless (input spec §2.6)
}

// Token types as llama.cpp's Gemma 4 converter writes them (text spec §5.3, and the third-party
// fixture): added tokens that are not special are NORMAL, except the seven chat-parser tokens,
// which are USER_DEFINED even when tokenizer.json marks them special.
void apply_gemma4_token_types(TokenizerData& v) {
  std::set<std::string> chat;
  for (const auto& s : gemma4_renamed_slots())
    if (s.type == TokenType::UserDefined) chat.insert(s.gemma4);
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (chat.count(v.tokens[i]))
      v.types[i] = TokenType::UserDefined;
    else if (v.types[i] == TokenType::UserDefined)
      v.types[i] = TokenType::Normal;
  }
}



}  // namespace

void count_tensors(QuantizeSummary& sum, const std::vector<StreamTensor>& plan) {
  for (const auto& t : plan) {
    ++sum.type_counts[t.type];
    if (t.src) sum.bytes_in += t.src->nbytes;
  }
  sum.tensors += static_cast<int>(plan.size());
}

std::string hf_folder_name(const std::string& folder) {
  std::filesystem::path p(folder);
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

TokenizerData gguf_vocab_from_hf(HfFolder& hf, int64_t vocab_size) {
  TokenizerData vocab = vocab_from_hf_json(
      hf.tokenizer, hf.tokenizer_config.is_null() ? nullptr : &hf.tokenizer_config,
      hf.path + "/tokenizer.json");
  if (!hf.chat_template.empty()) vocab.chat_template = hf.chat_template;
  hf.tokenizer = nullptr;  // the parsed JSON is large (≈100 MB for Gemma's vocabulary)
  apply_gemma4_token_types(vocab);
  if (static_cast<int64_t>(vocab.tokens.size()) > vocab_size)
    fail(hf.path, ": tokenizer.json has ", vocab.tokens.size(), " tokens, more than vocab_size ",
         vocab_size);
  // The converter pads a short vocabulary to the embedding's rows with unused [PAD] pieces.
  for (int64_t id = static_cast<int64_t>(vocab.tokens.size()); id < vocab_size; ++id) {
    vocab.tokens.push_back("[PAD" + std::to_string(id) + "]");
    vocab.types.push_back(TokenType::Unused);
    if (!vocab.scores.empty()) vocab.scores.push_back(-1000.0f);
  }
  return vocab;
}

void add_gemma4_tokenizer_keys(GgufWriter& w, const Gemma4Config& c, const TokenizerData& v) {
  // Tokenizer keys (input spec §4.4). BPE has no scores; the converter writes -1000.
  w.add_kv("tokenizer.ggml.model", str("gemma4"));
  w.add_kv("tokenizer.ggml.tokens", array_of(GgufType::STRING, v.tokens, [](const std::string& s) {
             return GgufValue::make_string(s);
           }));
  std::vector<float> scores = v.scores;
  scores.resize(v.tokens.size(), -1000.0f);
  w.add_kv("tokenizer.ggml.scores",
           array_of(GgufType::F32, scores, [](float x) { return GgufValue::make_f32(x); }));
  w.add_kv("tokenizer.ggml.token_type", array_of(GgufType::I32, v.types, [](TokenType t) {
             return GgufValue::make_i32(static_cast<int32_t>(t));
           }));
  w.add_kv("tokenizer.ggml.merges", array_of(GgufType::STRING, v.merges, [](const std::string& s) {
             return GgufValue::make_string(s);
           }));
  w.add_kv("tokenizer.ggml.bos_token_id", u32(v.bos_id >= 0 ? v.bos_id : c.bos_id));
  w.add_kv("tokenizer.ggml.eos_token_id", u32(v.eos_id >= 0 ? v.eos_id : c.eos_id));
  w.add_kv("tokenizer.ggml.unknown_token_id", u32(v.unk_id >= 0 ? v.unk_id : c.unk_id));
  w.add_kv("tokenizer.ggml.padding_token_id", u32(v.pad_id >= 0 ? v.pad_id : c.pad_id));
  if (v.mask_id >= 0) w.add_kv("tokenizer.ggml.mask_token_id", u32(v.mask_id));
  // llama.cpp forces BOS for the gemma4 vocabulary; the converter writes true.
  w.add_kv("tokenizer.ggml.add_bos_token", GgufValue::make_bool(true));
  w.add_kv("tokenizer.ggml.add_eos_token", GgufValue::make_bool(false));
  w.add_kv("tokenizer.ggml.add_space_prefix", GgufValue::make_bool(false));
  if (!v.chat_template.empty()) w.add_kv("tokenizer.chat_template", str(v.chat_template));
  w.add_kv(
      "tokenizer.ggml.suppress_tokens",
      array_of(GgufType::I32, c.suppress_tokens, [](int32_t x) { return GgufValue::make_i32(x); }));
}

QuantizeSummary quantize_hf_folder(const std::string& folder, const std::string& out,
                                   const QuantizeOptions& o) {
  const QuantScheme scheme = parse_quant_scheme(o.type);
  HfFolder hf = load_hf_folder(folder);
  const nlohmann::json* gen = hf.generation_config.is_null() ? nullptr : &hf.generation_config;
  const Gemma4Config c = Gemma4Config::from_hf(hf.config, gen);
  if (hf.tokenizer.is_null())
    fail(folder, ": tokenizer.json is missing (the GGUF must carry the vocabulary)");
  TokenizerData vocab = gguf_vocab_from_hf(hf, c.vocab_size);

  SafetensorsSet set(folder);
  const std::string lm =
      set.tensor("model.language_model.embed_tokens.weight") ? "model.language_model." : "model.";
  // rope_freqs is generated, not read (text spec §5.2): 1.0 for the rotated pairs, 1e30 after.
  StreamTensor rope;
  rope.name = "rope_freqs.weight";
  rope.ne = {c.head_dim_global / 2};
  rope.values.assign(c.head_dim_global / 2, 1e30f);
  for (int d = 0; d < c.rotated_pairs_global(); ++d) rope.values[d] = 1.0f;
  HfTensorPlanner p(set, folder);
  p.add("token_embd.weight", lm + "embed_tokens.weight", {c.n_embd, c.vocab_size}, true);
  p.add("output_norm.weight", lm + "norm.weight", {c.n_embd}, false);

  for (int l = 0; l < c.n_layer; ++l) {
    const std::string h = lm + "layers." + std::to_string(l) + ".";
    const std::string g = "blk." + std::to_string(l) + ".";
    for (const auto& [role, hf_role] : layer_role_names()) {
      const std::string role_s = role;
      if (role_s == "attn_v" && !set.tensor(h + hf_role)) {
        if (c.has_v_proj(l)) fail(folder, ": missing tensor '", h + hf_role, "'");
        continue;  // K=V global layer
      }
      const TensorView* t = set.tensor(h + hf_role);
      const bool matrix = t && t->ne.size() == 2;
      p.add(g + role_s + ".weight", h + hf_role, {}, matrix);
      if (!matrix && t && t->ne.size() != 1)
        fail(folder, ": tensor '", h + hf_role, "' has shape ", shape_string(t->ne),
             ", expected a vector");
    }
  }
  p.choose_types(scheme, o.pure);
  std::vector<StreamTensor> text_plan;
  text_plan.push_back(std::move(rope));
  for (auto& t : p.out) text_plan.push_back(std::move(t));

  // The multimodal front end (input spec §8.3), in the converter's (alphabetical) order.
  const std::string ve = "model.vision_embedder.";
  const bool vision = c.has_vision && set.tensor(ve + "patch_dense.weight");
  const bool audio = c.has_audio && set.tensor("model.embed_audio.embedding_projection.weight");
  HfTensorPlanner mm(set, folder);
  if (audio)
    mm.add("mm.a.input_projection.weight", "model.embed_audio.embedding_projection.weight",
           {c.audio_frame, c.n_embd}, true);
  if (vision) {
    const int64_t vw = c.vision_width, k = 3ll * c.mm_patch * c.mm_patch;
    if (c.mm_patch % 3 != 0) fail(folder, ": model_patch_size ", c.mm_patch, " is not 3·patch");
    mm.add("mm.input_projection.weight", "model.embed_vision.embedding_projection.weight",
           {vw, c.n_embd}, true);
    mm.add("v.patch_embd.bias", ve + "patch_dense.bias", {vw}, false);
    auto& pd = mm.add("v.patch_embd.weight", ve + "patch_dense.weight", {k, vw}, false);
    pd.layout = SourceLayout::PatchColumns;
    pd.patch = c.mm_patch;
    for (const char* wb : {"bias", "weight"}) {
      auto& ln = mm.add(std::string("v.patch_norm.1.") + wb, ve + "patch_ln1." + wb, {k}, false);
      ln.layout = SourceLayout::PatchVector;
      ln.patch = c.mm_patch;
    }
    for (const char* wb : {"bias", "weight"})
      mm.add(std::string("v.patch_norm.2.") + wb, ve + "patch_ln2." + wb, {vw}, false);
    for (const char* wb : {"bias", "weight"})
      mm.add(std::string("v.patch_norm.3.") + wb, ve + "pos_norm." + wb, {vw}, false);
    const TensorView* pos = set.tensor(ve + "pos_embedding");
    if (!pos || pos->ne.size() != 3)
      fail(folder, ": '", ve, "pos_embedding' is missing or not [rows, 2, width]");
    auto& pt = mm.add("v.position_embd.weight", ve + "pos_embedding", {vw, pos->ne[2], 2}, false);
    pt.layout = SourceLayout::PosTable;
  }
  mm.choose_types(scheme, o.pure);
  std::set<std::string> ignored = mm.used_;
  ignored.insert("lm_head.weight");  // tied to embed_tokens; the converter skips it
  p.check_all_used(ignored);
  if (!o.mmproj_out.empty() && !vision && !audio && !o.mmproj_optional)
    fail(folder, ": --mmproj-out given but the checkpoint has no vision or audio weights");
  const bool write_mmproj = !o.mmproj_out.empty() && (vision || audio);

  QuantizeSummary sum;
  ThreadPool pool(o.threads);
  {
    GgufWriter w;
    add_text_keys(w, c, vocab, hf_folder_name(folder), scheme.file_type);
    vocab = TokenizerData();  // the writer holds its own copy of the vocabulary
    StreamStats st = write_gguf_streamed(w, text_plan, out, pool, o.progress);
    sum.bytes_out += st.bytes_out;
    sum.largest_tensor_bytes = st.largest_tensor_bytes;
    count_tensors(sum, text_plan);
  }
  if (write_mmproj) {
    DType proj = DType::F32;
    for (const auto& t : mm.out)
      if (t.name.rfind("mm.", 0) == 0) proj = t.type;
    GgufWriter w;
    add_mmproj_keys(w, c, vision, audio, hf_folder_name(folder) + "-mmproj", gguf_file_type(proj));
    StreamStats st = write_gguf_streamed(w, mm.out, o.mmproj_out, pool, o.progress);
    sum.mmproj_written = o.mmproj_out;
    sum.bytes_out += st.bytes_out;
    sum.largest_tensor_bytes = std::max(sum.largest_tensor_bytes, st.largest_tensor_bytes);
    count_tensors(sum, mm.out);
  }
  return sum;
}

}  // namespace ug
