#include "runtime/quantize_hf_assistant.h"

#include <cstdio>
#include <filesystem>

#include "base/error.h"
#include "base/thread_pool.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "formats/safetensors.h"
#include "model/assistant.h"
#include "model/tensor_names.h"
#include "runtime/quantize_hf.h"
#include "runtime/quantize_plan.h"
#include "runtime/quantize_stream.h"

namespace ug {

namespace {

GgufValue u32(int64_t v) { return GgufValue::make_u32(static_cast<uint32_t>(v)); }
GgufValue f32(double v) { return GgufValue::make_f32(static_cast<float>(v)); }

// The keys of text spec §7.2: the decoder keys computed from the drafter's text_config, plus
// embedding_length_out and nextn_predict_layers.
void add_assistant_keys(GgufWriter& w, const AssistantConfig& a, const std::string& name,
                        uint32_t file_type) {
  w.add_kv("general.architecture", GgufValue::make_string("gemma4-assistant"));
  w.add_kv("general.name", GgufValue::make_string(name));
  w.add_kv("general.file_type", u32(file_type));
  w.add_kv("general.quantization_version", u32(2));
  const std::string p = "gemma4-assistant.";
  if (a.context_length > 0) w.add_kv(p + "context_length", u32(a.context_length));
  w.add_kv(p + "embedding_length", u32(a.n_embd));
  w.add_kv(p + "block_count", u32(a.n_layer));
  w.add_kv(p + "feed_forward_length", u32(a.n_ff));
  w.add_kv(p + "attention.head_count", u32(a.n_head));
  if (a.kv_heads_swa > 0) {  // the target's K/V heads, which the drafter reads
    std::vector<GgufValue> kv;
    for (bool s : a.is_sliding)
      kv.push_back(GgufValue::make_i32(s ? a.kv_heads_swa : a.kv_heads_global));
    w.add_kv(p + "attention.head_count_kv", GgufValue::make_array(GgufType::I32, std::move(kv)));
  }
  w.add_kv(p + "attention.key_length", u32(a.head_dim_global));
  w.add_kv(p + "attention.value_length", u32(a.head_dim_global));
  w.add_kv(p + "attention.key_length_swa", u32(a.head_dim_swa));
  w.add_kv(p + "attention.value_length_swa", u32(a.head_dim_swa));
  w.add_kv(p + "rope.dimension_count", u32(a.head_dim_global));
  w.add_kv(p + "rope.dimension_count_swa", u32(a.head_dim_swa));
  w.add_kv(p + "rope.freq_base", f32(a.rope_base_global));
  w.add_kv(p + "rope.freq_base_swa", f32(a.rope_base_swa));
  w.add_kv(p + "attention.layer_norm_rms_epsilon", f32(a.rms_eps));
  w.add_kv(p + "attention.sliding_window", u32(a.sliding_window));
  std::vector<GgufValue> pattern;
  for (bool s : a.is_sliding) pattern.push_back(GgufValue::make_bool(s));
  w.add_kv(p + "attention.sliding_window_pattern",
           GgufValue::make_array(GgufType::BOOL, std::move(pattern)));
  w.add_kv(p + "attention.shared_kv_layers", u32(a.n_layer));  // no layer computes K/V
  w.add_kv(p + "embedding_length_per_layer_input", u32(0));
  w.add_kv(p + "embedding_length_out", u32(a.n_embd_out));
  w.add_kv(p + "nextn_predict_layers", u32(a.n_layer));
}

}  // namespace

QuantizeSummary quantize_hf_assistant(const std::string& folder, const std::string& out,
                                      const QuantizeOptions& o) {
  if (!o.mmproj_out.empty()) fail(folder, ": an assistant has no vision or audio front end");
  const QuantScheme scheme = parse_quant_scheme(o.type);
  const AssistantConfig a = assistant_config_from_hf(folder);
  HfFolder hf = load_hf_folder(folder);
  SafetensorsSet set(folder);

  // GGUF name -> HF name, in the converter's order (text spec §7.2).
  std::vector<std::pair<std::string, std::string>> names = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.weight"},
      {"nextn.pre_projection.weight", "pre_projection.weight"},
      {"nextn.post_projection.weight", "post_projection.weight"}};
  for (int l = 0; l < a.n_layer; ++l)
    for (const auto& [role, hf_role] : layer_role_names()) {
      const std::string r = role;
      if (r == "attn_k" || r == "attn_v" || r == "attn_k_norm") continue;  // the target's K/V
      names.push_back({"blk." + std::to_string(l) + "." + r + ".weight",
                       "model.layers." + std::to_string(l) + "." + hf_role});
    }
  std::vector<StreamTensor> plan;
  // rope_freqs is generated, as for the text model: 1.0 for the rotated pairs, 1e30 after.
  StreamTensor rope;
  rope.name = "rope_freqs.weight";
  rope.ne = {a.head_dim_global / 2};
  rope.values.assign(a.head_dim_global / 2, 1e30f);
  const int rotated = static_cast<int>(a.partial_rotary_global * float(a.head_dim_global) / 2);
  for (int d = 0; d < rotated && d < a.head_dim_global / 2; ++d) rope.values[d] = 1.0f;
  plan.push_back(std::move(rope));
  HfTensorPlanner p(set, folder);
  for (const auto& [g, h] : names) {
    const TensorView* t = p.find(h);
    p.add(g, h, {}, t && t->ne.size() == 2);
  }
  p.choose_types(scheme, o.pure);
  p.check_all_used({"lm_head.weight"});  // tied; the converter skips it
  for (auto& t : p.out) plan.push_back(std::move(t));
  QuantizeSummary sum;
  count_tensors(sum, plan);

  GgufWriter w;
  add_assistant_keys(w, a, hf_folder_name(folder), scheme.file_type);
  if (!hf.tokenizer.is_null()) {
    Gemma4Config ids;  // default special ids and suppressed tokens, as the model's
    add_gemma4_tokenizer_keys(w, ids, gguf_vocab_from_hf(hf, a.vocab_size));
  } else if (o.progress) {
    o.progress(folder +
               " has no tokenizer.json: the assistant GGUF carries no tokenizer keys "
               "(unigemma does not need them; llama.cpp reads them from every model file)");
  }
  ThreadPool pool(o.threads);
  StreamStats st = write_gguf_streamed(w, plan, out, pool, o.progress);
  sum.bytes_out = st.bytes_out;
  sum.largest_tensor_bytes = st.largest_tensor_bytes;
  return sum;
}

}  // namespace ug
