#include "model/config.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/json_parse.h"

namespace ug {

float Gemma4Config::embed_scale() const { return std::sqrt(static_cast<float>(n_embd)); }

int64_t Gemma4Config::text_param_count() const {
  int64_t d = n_embd, total = static_cast<int64_t>(vocab_size) * d + d;  // embedding + final norm
  for (int l = 0; l < n_layer; ++l) {
    int64_t q = q_width(l), kv = kv_width(l), hd = head_dim(l);
    total += d * q + d * kv + (has_v_proj(l) ? d * kv : 0) + q * d;  // q k v o
    total += 3 * d * static_cast<int64_t>(n_ff);                      // gate up down
    total += 2 * hd + 4 * d + 1;  // q/k norms, four sandwich norms, layer scalar
  }
  return total;
}

uint64_t Gemma4Config::kv_bytes_per_token_global(int bytes_per_value) const {
  uint64_t v = 0;
  for (int l = 0; l < n_layer; ++l)
    if (!is_sliding[l]) v += 2ull * kv_width(l);
  return v * bytes_per_value;
}

uint64_t Gemma4Config::kv_bytes_per_token_sliding(int bytes_per_value) const {
  uint64_t v = 0;
  for (int l = 0; l < n_layer; ++l)
    if (is_sliding[l]) v += 2ull * kv_width(l);
  return v * bytes_per_value;
}

uint64_t Gemma4Config::kv_cache_bytes(int64_t n_ctx, int bytes_per_value) const {
  uint64_t sliding_tokens = static_cast<uint64_t>(std::min<int64_t>(n_ctx, sliding_window));
  return kv_bytes_per_token_global(bytes_per_value) * static_cast<uint64_t>(n_ctx) +
         kv_bytes_per_token_sliding(bytes_per_value) * sliding_tokens;
}

void Gemma4Config::validate() const {
  if (n_layer <= 0 || n_layer > 4096) fail("config: layer count ", n_layer, " is out of range");
  if (n_embd <= 0 || n_ff <= 0 || n_head <= 0 || vocab_size <= 0)
    fail("config: embedding_length, feed_forward_length, head_count and vocab size must be > 0");
  if (static_cast<int>(n_head_kv.size()) != n_layer)
    fail("config: head_count_kv has ", n_head_kv.size(), " entries, expected one per layer (",
         n_layer, ")");
  if (static_cast<int>(is_sliding.size()) != n_layer)
    fail("config: sliding_window_pattern has ", is_sliding.size(), " entries, expected ", n_layer);
  for (int l = 0; l < n_layer; ++l) {
    if (n_head_kv[l] <= 0 || n_head % n_head_kv[l] != 0)
      fail("config: layer ", l, " has ", n_head_kv[l], " KV heads, which does not divide ", n_head,
           " query heads");
  }
  if (head_dim_swa <= 0 || head_dim_swa % 2 || head_dim_global <= 0 || head_dim_global % 2)
    fail("config: head dimensions must be positive and even (", head_dim_swa, ", ",
         head_dim_global, ")");
  if (sliding_window <= 0) fail("config: sliding window ", sliding_window, " must be > 0");
  if (!(partial_rotary_factor_global >= 0 && partial_rotary_factor_global <= 1) ||
      rotated_pairs_global() > head_dim_global / 2)
    fail("config: partial rotary factor ", partial_rotary_factor_global, " is out of range");
}

static void set_pattern(Gemma4Config& c, int n_layer, int swa_kv, int global_kv) {
  c.n_layer = n_layer;
  c.is_sliding.assign(n_layer, true);
  c.n_head_kv.assign(n_layer, swa_kv);
  for (int l = 0; l < n_layer; ++l)
    if (l % 6 == 5) {
      c.is_sliding[l] = false;
      c.n_head_kv[l] = global_kv;
    }
}

Gemma4Config Gemma4Config::preset_12b() {
  Gemma4Config c;
  set_pattern(c, 48, 8, 1);
  c.has_vision = c.has_audio = true;
  return c;
}

Gemma4Config Gemma4Config::preset_tiny() {
  Gemma4Config c;
  c.n_embd = 64;
  c.n_ff = 128;
  c.n_head = 4;
  set_pattern(c, 6, 2, 1);
  c.head_dim_swa = 32;
  c.head_dim_global = 64;
  c.sliding_window = 16;
  c.context_length = 4096;
  c.vision_width = 32;
  c.has_vision = c.has_audio = true;
  return c;
}

// ---------------------------------------------------------------------------------------------
// GGUF (text spec §5.1; input spec §8.3)

namespace {

const GgufValue& need(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (!v) fail(f.path(), ": missing metadata key '", key, "'");
  return *v;
}

int64_t get_int(const GgufFile& f, const std::string& key) { return need(f, key).as_int(key); }

int64_t get_int_or(const GgufFile& f, const std::string& key, int64_t dflt) {
  const GgufValue* v = f.find(key);
  return v ? v->as_int(key) : dflt;
}

double get_float_or(const GgufFile& f, const std::string& key, double dflt) {
  const GgufValue* v = f.find(key);
  return v ? v->as_float(key) : dflt;
}

// Values the config holds as int or float: out-of-range numbers are refused, not wrapped (a
// block_count of 2^32 + 2 must not read as 2) or cast with undefined results.
int to_i32(const GgufFile& f, const std::string& key, int64_t v) {
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
    fail(f.path(), ": '", key, "' = ", v, " is out of range");
  return static_cast<int>(v);
}
int get_i32(const GgufFile& f, const std::string& key) { return to_i32(f, key, get_int(f, key)); }
int get_i32_or(const GgufFile& f, const std::string& key, int64_t dflt) {
  return to_i32(f, key, get_int_or(f, key, dflt));
}
float get_f32_or(const GgufFile& f, const std::string& key, double dflt) {
  const double v = get_float_or(f, key, dflt);
  if (!(std::abs(v) <= std::numeric_limits<float>::max()))
    fail(f.path(), ": '", key, "' = ", v, " is not a finite 32-bit float");
  return static_cast<float>(v);
}

// A per-layer value that may be a scalar or an array of n_layer entries.
std::vector<int> per_layer_ints(const GgufFile& f, const std::string& key, int n_layer) {
  const GgufValue& v = need(f, key);
  std::vector<int> out;
  if (v.type == GgufType::ARRAY) {
    if (static_cast<int>(v.arr.size()) != n_layer)
      fail(f.path(), ": '", key, "' has ", v.arr.size(), " entries, expected ", n_layer);
    for (const auto& e : v.arr) out.push_back(to_i32(f, key, e.as_int(key)));
  } else {
    out.assign(n_layer, to_i32(f, key, v.as_int(key)));
  }
  return out;
}

}  // namespace

Gemma4Config Gemma4Config::from_gguf(const GgufFile& f, const GgufFile* mmproj) {
  const std::string arch = need(f, "general.architecture").as_string("general.architecture");
  if (arch != "gemma4")
    fail(f.path(), ": general.architecture is '", arch, "', expected 'gemma4' (a Gemma 4 text model)");
  const std::string p = arch + ".";
  Gemma4Config c;
  int64_t n_layer = get_int(f, p + "block_count");
  if (n_layer <= 0 || n_layer > 4096) fail(f.path(), ": block_count ", n_layer, " is out of range");
  c.n_layer = static_cast<int>(n_layer);
  c.n_embd = get_i32(f, p + "embedding_length");
  c.n_ff = get_i32(f, p + "feed_forward_length");
  c.n_head = get_i32(f, p + "attention.head_count");
  c.n_head_kv = per_layer_ints(f, p + "attention.head_count_kv", c.n_layer);
  c.head_dim_global = get_i32(f, p + "attention.key_length");
  c.head_dim_swa = get_i32_or(f, p + "attention.key_length_swa", c.head_dim_global);
  if (get_int_or(f, p + "attention.value_length", c.head_dim_global) != c.head_dim_global ||
      get_int_or(f, p + "attention.value_length_swa", c.head_dim_swa) != c.head_dim_swa)
    fail(f.path(), ": value_length must equal key_length (Gemma 4 has equal K and V head sizes)");
  c.context_length = get_int_or(f, p + "context_length", c.context_length);
  c.sliding_window = get_i32(f, p + "attention.sliding_window");
  const GgufValue& pat = need(f, p + "attention.sliding_window_pattern");
  if (pat.type != GgufType::ARRAY || static_cast<int>(pat.arr.size()) != c.n_layer)
    fail(f.path(), ": '", p, "attention.sliding_window_pattern' must be a bool array of ", c.n_layer,
         " entries");
  c.is_sliding.clear();
  for (const auto& e : pat.arr) c.is_sliding.push_back(e.as_bool(p + "attention.sliding_window_pattern"));
  c.rope_base_global = get_f32_or(f, p + "rope.freq_base", 1e6);
  c.rope_base_swa = get_f32_or(f, p + "rope.freq_base_swa", 1e4);
  c.rms_eps = get_f32_or(f, p + "attention.layer_norm_rms_epsilon", 1e-6);
  c.final_softcap = get_f32_or(f, p + "final_logit_softcapping", 0.0);
  if (get_int_or(f, p + "attention.shared_kv_layers", 0) != 0)
    fail(f.path(), ": shared_kv_layers is not 0; this is not a Gemma 4 12B decoder");
  if (get_int_or(f, p + "embedding_length_per_layer_input", 0) != 0)
    fail(f.path(), ": per-layer embeddings (Gemma 4 E2B/E4B) are not supported");
  if (f.find(p + "expert_count") && get_int(f, p + "expert_count") > 0)
    fail(f.path(), ": mixture-of-experts Gemma 4 models are not supported");
  // In GGUF the partial rotation is carried by the rope_freqs tensor; the weights loader checks
  // that it agrees with this factor.
  c.partial_rotary_factor_global = 0.25f;

  const GgufValue* tokens = f.find("tokenizer.ggml.tokens");
  if (tokens && tokens->type == GgufType::ARRAY) c.vocab_size = static_cast<int>(tokens->arr.size());
  if (const TensorView* emb = f.tensor("token_embd.weight"); emb && emb->ne.size() == 2)
    c.vocab_size = to_i32(f, "token_embd.weight ne[1]", emb->ne[1]);
  c.bos_id = get_i32_or(f, "tokenizer.ggml.bos_token_id", c.bos_id);
  c.eos_id = get_i32_or(f, "tokenizer.ggml.eos_token_id", c.eos_id);
  c.pad_id = get_i32_or(f, "tokenizer.ggml.padding_token_id", c.pad_id);
  c.unk_id = get_i32_or(f, "tokenizer.ggml.unknown_token_id", c.unk_id);
  if (const GgufValue* s = f.find("tokenizer.ggml.suppress_tokens")) {
    c.suppress_tokens.clear();
    for (const auto& e : s->arr)
      c.suppress_tokens.push_back(
          to_i32(f, "tokenizer.ggml.suppress_tokens", e.as_int("suppress_tokens")));
  }
  c.temperature = get_f32_or(f, "general.sampling.temp", c.temperature);
  c.top_k = get_i32_or(f, "general.sampling.top_k", c.top_k);
  c.top_p = get_f32_or(f, "general.sampling.top_p", c.top_p);

  if (mmproj) {
    const GgufFile& m = *mmproj;
    const std::string march = need(m, "general.architecture").as_string("general.architecture");
    if (march != "clip") fail(m.path(), ": general.architecture is '", march, "', expected 'clip' (an mmproj file)");
    const GgufValue* vt = m.find("clip.vision.projector_type");
    const GgufValue* at = m.find("clip.audio.projector_type");
    c.has_vision = vt && vt->as_string("clip.vision.projector_type") == "gemma4uv";
    c.has_audio = at && at->as_string("clip.audio.projector_type") == "gemma4ua";
    if (!c.has_vision && !c.has_audio)
      fail(m.path(), ": no gemma4uv vision or gemma4ua audio projector; this mmproj is not for Gemma 4 12B");
    if (c.has_vision) c.vision_width = get_i32(m, "clip.vision.embedding_length");
    if (c.has_audio) c.audio_frame = get_i32(m, "clip.audio.embedding_length");
    c.mm_rms_eps = get_f32_or(m, "clip.vision.attention.layer_norm_epsilon", 1e-6);
  }
  c.validate();
  return c;
}

// ---------------------------------------------------------------------------------------------
// HF config.json (text spec §6.1, input spec §8.2)

namespace {

constexpr const char* kConfigJson = "config.json";

}  // namespace

Gemma4Config Gemma4Config::from_hf(const nlohmann::json& config, const nlohmann::json* generation) {
  if (!config.is_object()) fail("config.json: not a JSON object");
  const nlohmann::json& t = config.contains("text_config") ? config["text_config"] : config;
  if (!t.is_object()) fail("config.json: text_config is not an object");
  std::string mt = json_get<std::string>(t, "model_type", "", kConfigJson);
  if (!mt.empty() && mt.rfind("gemma4", 0) != 0)
    fail("config.json: model_type '", mt, "' is not a Gemma 4 model");
  if (json_get<int>(t, "hidden_size_per_layer_input", 0, kConfigJson) != 0)
    fail("config.json: per-layer embeddings (Gemma 4 E2B/E4B) are not supported");
  if (json_get<bool>(t, "enable_moe_block", false, kConfigJson))
    fail("config.json: mixture-of-experts Gemma 4 models are not supported");
  if (json_get<int>(t, "num_kv_shared_layers", 0, kConfigJson) != 0)
    fail("config.json: num_kv_shared_layers is not 0; this is not a Gemma 4 12B decoder");
  if (json_get<bool>(t, "use_double_wide_mlp", false, kConfigJson))
    fail("config.json: double-wide MLP layers are not supported");
  Gemma4Config c;
  c.n_layer = json_need<int>(t, "num_hidden_layers", kConfigJson);
  if (c.n_layer <= 0 || c.n_layer > 4096) fail("config.json: num_hidden_layers ", c.n_layer, " out of range");
  c.n_embd = json_need<int>(t, "hidden_size", kConfigJson);
  c.n_ff = json_need<int>(t, "intermediate_size", kConfigJson);
  c.n_head = json_need<int>(t, "num_attention_heads", kConfigJson);
  int kv = json_need<int>(t, "num_key_value_heads", kConfigJson);
  int kv_global = json_get<int>(t, "num_global_key_value_heads", kv, kConfigJson);
  c.head_dim_swa = json_need<int>(t, "head_dim", kConfigJson);
  c.head_dim_global = json_get<int>(t, "global_head_dim", c.head_dim_swa, kConfigJson);
  c.vocab_size = json_need<int>(t, "vocab_size", kConfigJson);
  c.context_length =
      json_get<int64_t>(t, "max_position_embeddings", c.context_length, kConfigJson);
  c.sliding_window = json_need<int>(t, "sliding_window", kConfigJson);
  c.rms_eps = json_get<float>(t, "rms_norm_eps", 1e-6f, kConfigJson);
  c.final_softcap = json_get<float>(t, "final_logit_softcapping", 0.0f, kConfigJson);
  c.k_eq_v_global = json_get<bool>(t, "attention_k_eq_v", false, kConfigJson);
  auto types = t.find("layer_types");
  if (types == t.end() || !types->is_array() || static_cast<int>(types->size()) != c.n_layer)
    fail("config.json: layer_types must list ", c.n_layer, " layer types");
  c.is_sliding.clear();
  c.n_head_kv.clear();
  for (const auto& e : *types) {
    std::string s = e.is_string() ? e.get<std::string>() : "";
    if (s != "sliding_attention" && s != "full_attention")
      fail("config.json: unknown layer type '", json_excerpt(e), "'");
    c.is_sliding.push_back(s == "sliding_attention");
    c.n_head_kv.push_back(s == "sliding_attention" ? kv : kv_global);
  }
  if (auto rp = t.find("rope_parameters"); rp != t.end() && rp->is_object()) {
    if (auto fa = rp->find("full_attention"); fa != rp->end()) {
      c.rope_base_global = json_get<float>(*fa, "rope_theta", c.rope_base_global, kConfigJson);
      std::string type = json_get<std::string>(*fa, "rope_type", "default", kConfigJson);
      c.partial_rotary_factor_global =
          type == "proportional"
              ? json_get<float>(*fa, "partial_rotary_factor", 1.0f, kConfigJson)
              : 1.0f;
      if (fa->contains("factor") && json_get<float>(*fa, "factor", 1.0f, kConfigJson) != 1.0f)
        fail("config.json: RoPE scaling factors are not supported");
    }
    if (auto sa = rp->find("sliding_attention"); sa != rp->end())
      c.rope_base_swa = json_get<float>(*sa, "rope_theta", c.rope_base_swa, kConfigJson);
  }
  c.bos_id = json_get<int>(t, "bos_token_id", c.bos_id, kConfigJson);
  c.pad_id = json_get<int>(t, "pad_token_id", c.pad_id, kConfigJson);
  c.image_token_id = json_get<int>(config, "image_token_id", c.image_token_id, kConfigJson);
  c.audio_token_id = json_get<int>(config, "audio_token_id", c.audio_token_id, kConfigJson);
  c.video_token_id = json_get<int>(config, "video_token_id", c.video_token_id, kConfigJson);
  c.boi_id = json_get<int>(config, "boi_token_id", c.boi_id, kConfigJson);
  c.eoi_id = json_get<int>(config, "eoi_token_id", c.eoi_id, kConfigJson);
  c.boa_id = json_get<int>(config, "boa_token_id", c.boa_id, kConfigJson);
  c.eoa_id = json_get<int>(config, "eoa_token_index", c.eoa_id, kConfigJson);
  if (auto vc = config.find("vision_config"); vc != config.end() && vc->is_object()) {
    c.has_vision = true;
    c.vision_width = json_get<int>(*vc, "mm_embed_dim", c.vision_width, kConfigJson);
    c.pos_table = json_get<int>(*vc, "mm_posemb_size", c.pos_table, kConfigJson);
    c.mm_patch = json_get<int>(*vc, "model_patch_size", c.mm_patch, kConfigJson);
    c.mm_rms_eps = json_get<float>(*vc, "rms_norm_eps", c.mm_rms_eps, kConfigJson);
  }
  if (auto ac = config.find("audio_config"); ac != config.end() && ac->is_object()) {
    c.has_audio = true;
    c.audio_frame = json_get<int>(*ac, "audio_embed_dim", c.audio_frame, kConfigJson);
  }
  if (generation && generation->is_object()) {
    const nlohmann::json& g = *generation;
    auto ids = [](const nlohmann::json& a, const char* key) {
      std::vector<int32_t> out;
      for (const auto& v : a) out.push_back(json_as<int32_t>(v, kConfigJson, key));
      return out;
    };
    if (auto s = g.find("suppress_tokens"); s != g.end() && s->is_array())
      c.suppress_tokens = ids(*s, "suppress_tokens");
    if (auto e = g.find("eos_token_id"); e != g.end()) {
      if (e->is_array()) c.stop_ids = ids(*e, "eos_token_id");
      else if (e->is_number_integer())
        c.stop_ids = {json_as<int32_t>(*e, kConfigJson, "eos_token_id")};
    }
    c.temperature = json_get<float>(g, "temperature", c.temperature, kConfigJson);
    c.top_k = json_get<int>(g, "top_k", c.top_k, kConfigJson);
    c.top_p = json_get<float>(g, "top_p", c.top_p, kConfigJson);
  }
  c.validate();
  return c;
}

}  // namespace ug
