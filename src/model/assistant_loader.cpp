// Loading the MTP drafter from GGUF (arch gemma4-assistant) or an HF assistant folder, text spec
// §7.1–§7.2, validated against the target's config.
#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "formats/json_parse.h"
#include "formats/safetensors.h"
#include "model/assistant.h"
#include "model/repack.h"
#include "model/tensor_binder.h"
#include "model/tensor_names.h"
#include "tensor/quant.h"

namespace ug {

namespace {

// The assistant's hyperparameters as read from either format, before the tensors are bound.
struct Hparams {
  int n_layer = 0, n_embd = 0, n_ff = 0, n_head = 0, n_embd_out = 0;
  int head_dim_swa = 0, head_dim_global = 0, sliding_window = 0;
  float rope_base_swa = 0, rope_base_global = 0, rms_eps = 1e-6f;
  std::vector<bool> is_sliding;
};

bool close(float a, float b) {
  return std::abs(a - b) <= 1e-6f * std::max(std::abs(a), std::abs(b));
}

// The drafter only works on top of a target whose K/V it can read with its own head sizes and
// masks (text spec §7.3, §7.6).
void check_against_target(const Hparams& h, const Gemma4Config& t, const std::string& file) {
  if (h.n_layer <= 0 || h.n_layer > 64)
    fail(file, ": assistant block_count ", h.n_layer, " is out of range");
  if (h.n_embd <= 0 || h.n_ff <= 0 || h.n_head <= 0)
    fail(file, ": assistant embedding_length, feed_forward_length and head_count must be > 0");
  if (static_cast<int>(h.is_sliding.size()) != h.n_layer)
    fail(file, ": assistant layer pattern has ", h.is_sliding.size(), " entries, expected ",
         h.n_layer);
  if (h.n_embd_out != t.n_embd)
    fail(file, ": the assistant's backbone width (embedding_length_out) is ", h.n_embd_out,
         " but the model's embedding_length is ", t.n_embd,
         "; this drafter belongs to another model");
  if (h.head_dim_swa != t.head_dim_swa || h.head_dim_global != t.head_dim_global)
    fail(file, ": assistant head dims (sliding ", h.head_dim_swa, ", global ", h.head_dim_global,
         ") differ from the model's (", t.head_dim_swa, ", ", t.head_dim_global, ")");
  if (h.sliding_window != t.sliding_window)
    fail(file, ": assistant sliding window ", h.sliding_window, " differs from the model's ",
         t.sliding_window);
  if (!close(h.rope_base_swa, t.rope_base_swa) || !close(h.rope_base_global, t.rope_base_global))
    fail(file, ": assistant RoPE bases (", h.rope_base_swa, ", ", h.rope_base_global,
         ") differ from the model's (", t.rope_base_swa, ", ", t.rope_base_global, ")");
  if (t.n_layer < 2 || !t.is_sliding[t.n_layer - 2] || t.is_sliding[t.n_layer - 1])
    fail(file,
         ": the model's last two layers must be (sliding, global) for the drafter to share "
         "their KV cache");
  for (int l = t.n_layer - 2; l < t.n_layer; ++l)
    if (h.n_head % t.kv_heads(l) != 0)
      fail(file, ": assistant head_count ", h.n_head, " is not a multiple of the model's ",
           t.kv_heads(l), " KV heads of layer ", l);
}

std::vector<float> proportional_factors(const Gemma4Config& t) {
  std::vector<float> f(t.head_dim_global / 2, std::numeric_limits<float>::infinity());
  for (int d = 0; d < t.rotated_pairs_global(); ++d) f[d] = 1.0f;
  return f;
}

void bind(AssistantModel& m, const Hparams& h, const Gemma4Config& t, TensorBinder& b,
          const std::function<std::string(const char*)>& top,
          const std::function<std::string(int, const char*)>& layer) {
  m.n_layer = h.n_layer;
  m.n_embd = h.n_embd;
  m.n_ff = h.n_ff;
  m.n_head = h.n_head;
  m.n_embd_target = h.n_embd_out;
  m.rms_eps = h.rms_eps;
  m.vocab_size = t.vocab_size;
  const int64_t a = h.n_embd, d = h.n_embd_out;
  m.tok_embd = b.mat(top("token_embd"), a, t.vocab_size);
  m.output_norm = b.vec(top("output_norm"), a);
  m.pre_projection = b.mat(top("pre_projection"), 2 * d, a);
  m.post_projection = b.mat(top("post_projection"), a, d);
  m.layers.resize(h.n_layer);
  for (int l = 0; l < h.n_layer; ++l) {
    AssistantLayer& L = m.layers[l];
    L.sliding = h.is_sliding[l];
    L.head_dim = L.sliding ? h.head_dim_swa : h.head_dim_global;
    const int64_t q = static_cast<int64_t>(h.n_head) * L.head_dim;
    L.attn_norm = b.vec(layer(l, "attn_norm"), a);
    L.wq = b.mat(layer(l, "attn_q"), a, q);
    L.q_norm = b.vec(layer(l, "attn_q_norm"), L.head_dim);
    L.wo = b.mat(layer(l, "attn_output"), q, a);
    L.post_attn_norm = b.vec(layer(l, "post_attention_norm"), a);
    L.ffn_norm = b.vec(layer(l, "ffn_norm"), a);
    L.w_gate = b.mat(layer(l, "ffn_gate"), a, h.n_ff);
    L.w_up = b.mat(layer(l, "ffn_up"), a, h.n_ff);
    L.w_down = b.mat(layer(l, "ffn_down"), h.n_ff, a);
    L.post_ffw_norm = b.vec(layer(l, "post_ffw_norm"), a);
    L.layer_scalar = b.vec(layer(l, "layer_output_scale"), 1)[0];
    if (!std::isfinite(L.layer_scalar))
      fail(m.source, ": assistant layer ", l, " output scale is not finite");
  }
}

// ---------------------------------------------------------------------------------------------
// GGUF

const GgufValue& need(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (!v) fail(f.path(), ": missing metadata key '", key, "'");
  return *v;
}

int get_int(const GgufFile& f, const std::string& key) {
  const GgufValue& v = need(f, key);
  if (v.type == GgufType::ARRAY) {  // a per-layer array with one value is accepted
    if (v.arr.empty()) fail(f.path(), ": '", key, "' is an empty array");
    for (const auto& e : v.arr)
      if (e.as_int(key) != v.arr[0].as_int(key))
        fail(f.path(), ": '", key,
             "' differs between layers, which the assistant does not support");
    return static_cast<int>(v.arr[0].as_int(key));
  }
  const int64_t x = v.as_int(key);
  if (x < 0 || x > (1 << 30)) fail(f.path(), ": '", key, "' = ", x, " is out of range");
  return static_cast<int>(x);
}

float get_float_or(const GgufFile& f, const std::string& key, float dflt) {
  const GgufValue* v = f.find(key);
  return v ? static_cast<float>(v->as_float(key)) : dflt;
}

AssistantModel load_gguf(const std::string& path, const Gemma4Config& t) {
  auto f = std::make_shared<GgufFile>(path);
  const std::string arch = need(*f, "general.architecture").as_string("general.architecture");
  if (arch != "gemma4-assistant")
    fail(path, ": general.architecture is '", arch,
         "', expected 'gemma4-assistant' (a Gemma 4 MTP drafter)");
  const std::string p = arch + ".";
  Hparams h;
  h.n_layer = get_int(*f, p + "block_count");
  h.n_embd = get_int(*f, p + "embedding_length");
  h.n_ff = get_int(*f, p + "feed_forward_length");
  h.n_head = get_int(*f, p + "attention.head_count");
  h.n_embd_out = get_int(*f, p + "embedding_length_out");
  h.head_dim_global = get_int(*f, p + "attention.key_length");
  h.head_dim_swa = f->find(p + "attention.key_length_swa")
                       ? get_int(*f, p + "attention.key_length_swa")
                       : h.head_dim_global;
  for (const char* k : {"attention.value_length", "attention.value_length_swa"})
    if (f->find(p + k) &&
        get_int(*f, p + k) !=
            (std::string(k).ends_with("swa") ? h.head_dim_swa : h.head_dim_global))
      fail(path, ": '", p, k, "' must equal the matching key_length");
  h.sliding_window = get_int(*f, p + "attention.sliding_window");
  h.rope_base_global = get_float_or(*f, p + "rope.freq_base", 1e6f);
  h.rope_base_swa = get_float_or(*f, p + "rope.freq_base_swa", 1e4f);
  h.rms_eps = get_float_or(*f, p + "attention.layer_norm_rms_epsilon", 1e-6f);
  if (const GgufValue* n = f->find(p + "nextn_predict_layers"); n && n->as_int() != h.n_layer)
    fail(path, ": '", p, "nextn_predict_layers' is ", n->as_int(), " but block_count is ",
         h.n_layer, "; every assistant layer is a drafter layer");
  const GgufValue& pat = need(*f, p + "attention.sliding_window_pattern");
  if (pat.type != GgufType::ARRAY || static_cast<int>(pat.arr.size()) != h.n_layer)
    fail(path, ": '", p, "attention.sliding_window_pattern' must be a bool array of ", h.n_layer,
         " entries");
  for (const auto& e : pat.arr)
    h.is_sliding.push_back(e.as_bool(p + "attention.sliding_window_pattern"));
  check_against_target(h, t, path);

  AssistantModel m;
  m.source = path;
  m.format = "gguf";
  m.keep_alive.push_back(f);
  TensorBinder b(
      path, [&](const std::string& n) { return f->tensor(n); }, "assistant tensor");
  bind(
      m, h, t, b,
      [](const char* role) {
        const std::string r = role;
        if (r == "pre_projection" || r == "post_projection") return "nextn." + r + ".weight";
        return r + ".weight";
      },
      [](int l, const char* role) { return "blk." + std::to_string(l) + "." + role + ".weight"; });
  bool any_global = false;
  for (bool s : h.is_sliding) any_global |= !s;
  if (any_global) {
    m.rope_freq_factors = b.vec("rope_freqs.weight", h.head_dim_global / 2);
    const std::vector<float> want = proportional_factors(t);
    for (size_t i = 0; i < want.size(); ++i) {
      float& x = m.rope_freq_factors[i];
      if (x > 1e20f) x = std::numeric_limits<float>::infinity();
      if (!(std::isinf(want[i]) ? std::isinf(x) : close(x, want[i])))
        fail(path, ": rope_freqs.weight[", i, "] = ", x,
             " differs from the model's proportional "
             "RoPE (",
             t.rotated_pairs_global(), " rotated pairs of ", want.size(), ")");
    }
  }
  // Centroid tensors of the E2B/E4B drafters' ordered head; unused by the 12B (text spec §7.1).
  b.check_all_used(f->tensors(), {"masked_embd_centroids.weight", "masked_embd_ordering.weight",
                                  "output.weight"});
  if (f->tensor("output.weight"))
    fail(path, ": has a separate output.weight; the assistant's head is tied to token_embd");
  return m;
}

// ---------------------------------------------------------------------------------------------
// HF folder

// HF names of the drafter's tensors: the decoder-layer roles shared with the target, plus its own.
const char* hf_role(const char* role) {
  static const std::pair<const char*, const char*> kOwn[] = {
      {"token_embd", "model.embed_tokens.weight"},
      {"output_norm", "model.norm.weight"},
      {"pre_projection", "pre_projection.weight"},
      {"post_projection", "post_projection.weight"},
  };
  for (const auto& [g, h] : kOwn)
    if (std::string(g) == role) return h;
  return hf_layer_name(role);
}

AssistantModel load_hf(const std::string& folder, const Gemma4Config& t) {
  HfFolder hf = load_hf_folder(folder);
  const std::string file = folder + "/config.json";
  const nlohmann::json& c = hf.config;
  bool known = false;
  if (auto a = c.find("architectures"); a != c.end() && a->is_array())
    for (const auto& e : *a)
      known |= e.is_string() &&
               (e == "Gemma4UnifiedAssistantForCausalLM" || e == "Gemma4AssistantForCausalLM");
  if (!known)
    fail(file, ": architectures is ",
         c.contains("architectures") ? json_excerpt(c["architectures"]) : "absent",
         ", expected [\"Gemma4UnifiedAssistantForCausalLM\"] (a Gemma 4 MTP drafter)");
  if (json_get<bool>(c, "use_ordered_embeddings", false, file))
    fail(file,
         ": use_ordered_embeddings is true (the E2B/E4B centroid head), which is not "
         "supported; the 12B drafter has it false");
  const nlohmann::json& tc = c.contains("text_config") ? c["text_config"] : c;
  if (!tc.is_object()) fail(file, ": text_config is not an object");
  Hparams h;
  h.n_embd_out = json_need<int>(c, "backbone_hidden_size", file);
  h.n_layer = json_need<int>(tc, "num_hidden_layers", file);
  h.n_embd = json_need<int>(tc, "hidden_size", file);
  h.n_ff = json_need<int>(tc, "intermediate_size", file);
  h.n_head = json_need<int>(tc, "num_attention_heads", file);
  h.head_dim_swa = json_need<int>(tc, "head_dim", file);
  h.head_dim_global = json_get<int>(tc, "global_head_dim", h.head_dim_swa, file);
  h.sliding_window = json_need<int>(tc, "sliding_window", file);
  h.rms_eps = json_get<float>(tc, "rms_norm_eps", 1e-6f, file);
  const int vocab = json_need<int>(tc, "vocab_size", file);
  if (vocab != t.vocab_size)
    fail(file, ": assistant vocab_size ", vocab, " differs from the model's ", t.vocab_size);
  auto types = tc.find("layer_types");
  if (types == tc.end() || !types->is_array() || static_cast<int>(types->size()) != h.n_layer)
    fail(file, ": layer_types must list ", h.n_layer, " layer types");
  for (const auto& e : *types) {
    const std::string s = e.is_string() ? e.get<std::string>() : "";
    if (s != "sliding_attention" && s != "full_attention")
      fail(file, ": unknown layer type ", json_excerpt(e));
    h.is_sliding.push_back(s == "sliding_attention");
  }
  float partial = 1.0f;
  h.rope_base_global = 1e6f;
  h.rope_base_swa = 1e4f;
  if (auto rp = tc.find("rope_parameters"); rp != tc.end() && rp->is_object()) {
    if (auto fa = rp->find("full_attention"); fa != rp->end() && fa->is_object()) {
      h.rope_base_global = json_get<float>(*fa, "rope_theta", h.rope_base_global, file);
      if (json_get<std::string>(*fa, "rope_type", "default", file) == "proportional")
        partial = json_get<float>(*fa, "partial_rotary_factor", 1.0f, file);
    }
    if (auto sa = rp->find("sliding_attention"); sa != rp->end() && sa->is_object())
      h.rope_base_swa = json_get<float>(*sa, "rope_theta", h.rope_base_swa, file);
  }
  check_against_target(h, t, file);
  if (!close(partial, t.partial_rotary_factor_global))
    fail(file, ": assistant partial_rotary_factor ", partial, " differs from the model's ",
         t.partial_rotary_factor_global);

  auto set = std::make_shared<SafetensorsSet>(folder);
  AssistantModel m;
  m.source = folder;
  m.format = "hf";
  m.keep_alive.push_back(set);
  TensorBinder b(
      folder, [&](const std::string& n) { return set->tensor(n); }, "assistant tensor");
  bind(
      m, h, t, b, [](const char* role) { return std::string(hf_role(role)); },
      [](int l, const char* role) {
        return "model.layers." + std::to_string(l) + "." + hf_role(role);
      });
  m.rope_freq_factors = proportional_factors(t);
  b.check_all_used(set->tensors(), {"lm_head.weight"});  // tied; a stored copy is ignored
  return m;
}

}  // namespace

AssistantModel load_assistant(const std::string& path, const Gemma4Config& target) {
  AssistantModel m = is_hf_folder(path) ? load_hf(path, target) : load_gguf(path, target);
  if (repack_on_load()) {
    std::vector<Matrix*> ms = {&m.tok_embd, &m.pre_projection, &m.post_projection};
    for (auto& L : m.layers)
      for (Matrix* x : {&L.wq, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) ms.push_back(x);
    repack_matrices(ms, m.keep_alive, 0);
  }
  return m;
}

}  // namespace ug
