// The tensor lists of the test checkpoints and the counter-based value generator behind them.
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "testmodel/test_model.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ug {

namespace {

// Scales chosen so a forward pass stays finite and non-degenerate through every layer:
// projections keep unit variance (std 1/sqrt(fan_in)); sandwich norms are ≈ 1; the tied LM
// head gives logits of std ≈ kEmbedSpread; q/k norm weights make q·k of std ≈ kScoreSpread
// (attention uses scale 1.0, text spec §3.4, so unit norms would give scores of std head_dim).
constexpr float kEmbedSpread = 3.0f;
constexpr float kScoreSpread = 2.0f;
constexpr float kNormNoise = 0.05f;
constexpr float kBiasNoise = 0.02f;
constexpr float kPosEmbedStd = 0.5f;
constexpr float kLayerScalarLo = 0.3f, kLayerScalarHi = 0.95f;

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t stream_key(uint64_t seed, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a of the name, then mixed with the seed
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  return mix64(mix64(seed + 0x9E3779B97F4A7C15ull) ^ h);
}

inline float round_bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

// One draw per element from the element's own counter: any chunking gives the same values.
inline float draw(const TestTensor& t, int64_t j) {
  if (t.init == TestInit::RopeFreqs) return j < static_cast<int64_t>(t.a) ? 1.0f : 1e30f;
  uint64_t h = mix64(t.key + static_cast<uint64_t>(j + 1) * 0x9E3779B97F4A7C15ull);
  if (t.init == TestInit::Uniform) {
    float u = (static_cast<float>(h >> 40) + 0.5f) * (1.0f / 16777216.0f);
    return round_bf16(t.a + (t.b - t.a) * u);
  }
  // Irwin–Hall(4) from four 16-bit uniforms: mean 2, variance 1/3.
  float s =
      static_cast<float>((h & 0xffff) + ((h >> 16) & 0xffff) + ((h >> 32) & 0xffff) + (h >> 48)) +
      2.0f;
  float z = (s * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
  return round_bf16(t.a + t.b * z);
}

// CHW index within one patch vector → HWC index (input spec §1.5).
inline int64_t chw_to_hwc(int64_t c, int64_t p) {
  int64_t ch = c / (p * p), rem = c % (p * p);
  return (rem / p) * p * 3 + (rem % p) * 3 + ch;
}

inline int64_t gguf_to_hf(const TestTensor& t, int64_t i) {
  switch (t.layout) {
    case TestLayout::Same:
      return i;
    case TestLayout::PatchVector:
      return chw_to_hwc(i, t.patch);
    case TestLayout::PatchColumns: {
      int64_t k = t.ne[0];
      return (i / k) * k + chw_to_hwc(i % k, t.patch);
    }
    case TestLayout::PosTable: {
      int64_t w = t.ne[0], rows = t.ne[1];
      int64_t d = i % w, p = (i / w) % rows, axis = i / (w * rows);
      return (p * 2 + axis) * w + d;
    }
  }
  return i;
}

bool is_k_quant(DType t) {
  return t == DType::Q2_K || t == DType::Q3_K || t == DType::Q4_K || t == DType::Q5_K ||
         t == DType::Q6_K;
}

// llama-quantize's habit: a row that does not split into the type's blocks gets a coarser-block
// type instead of failing.
DType fit_type(DType want, int64_t ne0) {
  if (ne0 % dtype_info(want).block == 0) return want;
  if (is_k_quant(want) && ne0 % 32 == 0) return DType::Q8_0;
  return DType::F16;
}

void check_writable(DType t, const char* what) {
  if (t != DType::F32 && !can_quantize(t))
    fail("make-test-model: cannot write ", what, " as ", dtype_name(t),
         " (no quantizer for that type)");
}

class Planner {
 public:
  Planner(uint64_t seed, std::string tag) : seed_(seed), tag_(std::move(tag)) {}

  TestTensor& add(std::string gguf, std::string hf, std::vector<int64_t> ne, DType type,
                  TestInit init, float a, float b) {
    TestTensor t;
    t.gguf_name = std::move(gguf);
    t.hf_name = std::move(hf);
    t.hf_ne = ne;
    t.ne = std::move(ne);
    t.gguf_type = type;
    t.init = init;
    t.a = a;
    t.b = b;
    t.key = stream_key(seed_, tag_ + (t.hf_name.empty() ? t.gguf_name : t.hf_name));
    out.push_back(std::move(t));
    return out.back();
  }
  // A Linear layer: GGUF ne {in, out} = HF [out, in], unit-variance output.
  void matrix(std::string gguf, std::string hf, int64_t in, int64_t outd, DType want) {
    add(std::move(gguf), std::move(hf), {in, outd}, fit_type(want, in), TestInit::Normal, 0.0f,
        1.0f / std::sqrt(static_cast<float>(in)));
  }
  void norm(std::string gguf, std::string hf, int64_t n, float mean = 1.0f) {
    add(std::move(gguf), std::move(hf), {n}, DType::F32, TestInit::Normal, mean, kNormNoise * mean);
  }
  void bias(std::string gguf, std::string hf, int64_t n) {
    add(std::move(gguf), std::move(hf), {n}, DType::F32, TestInit::Normal, 0.0f, kBiasNoise);
  }
  void rope_freqs(int64_t pairs, int rotated) {
    add("rope_freqs.weight", "", {pairs}, DType::F32, TestInit::RopeFreqs,
        static_cast<float>(rotated), 0.0f);
  }
  void embedding(std::string gguf, std::string hf, int64_t width, int64_t vocab, DType want) {
    add(std::move(gguf), std::move(hf), {width, vocab}, fit_type(want, width), TestInit::Normal,
        0.0f, kEmbedSpread / std::sqrt(static_cast<float>(width)));
  }
  void layer_scalar(std::string gguf, std::string hf) {
    add(std::move(gguf), std::move(hf), {1}, DType::F32, TestInit::Uniform, kLayerScalarLo,
        kLayerScalarHi);
  }

  std::vector<TestTensor> out;

 private:
  uint64_t seed_;
  std::string tag_;
};

// q_norm and k_norm weights w: q·k = w²·Σ q̂k̂ over hd unit-RMS entries has std w²·sqrt(hd),
// which this makes kScoreSpread.
float qk_norm_mean(int hd) { return std::sqrt(kScoreSpread / std::sqrt(static_cast<float>(hd))); }

DType embed_type_of(const TestModelOptions& o) { return o.embed_type.value_or(o.weight_type); }

}  // namespace

int64_t TestTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

float test_value_hf(const TestTensor& t, int64_t hf_index) { return draw(t, hf_index); }

float test_value_gguf(const TestTensor& t, int64_t gguf_index) {
  return draw(t, gguf_to_hf(t, gguf_index));
}

void test_range_hf(const TestTensor& t, int64_t begin, int64_t n, float* out) {
  for (int64_t j = 0; j < n; ++j) out[j] = draw(t, begin + j);
}

void test_row_gguf(const TestTensor& t, int64_t row, float* out) {
  const int64_t n = t.ne[0], base = row * n;
  if (t.layout == TestLayout::Same) {
    for (int64_t c = 0; c < n; ++c) out[c] = draw(t, base + c);
  } else {
    for (int64_t c = 0; c < n; ++c) out[c] = draw(t, gguf_to_hf(t, base + c));
  }
}

std::vector<TestTensor> plan_text_tensors(const TestModelOptions& opts) {
  const Gemma4Config& c = opts.config;
  c.validate();
  check_writable(opts.weight_type, "the weights");
  check_writable(embed_type_of(opts), "token_embd");
  Planner p(opts.seed, "text/");
  const std::string lm = "model.language_model.";
  const int64_t d = c.n_embd;
  p.rope_freqs(c.head_dim_global / 2, c.rotated_pairs_global());
  p.embedding("token_embd.weight", lm + "embed_tokens.weight", d, c.vocab_size,
              embed_type_of(opts));
  p.norm("output_norm.weight", lm + "norm.weight", d);
  for (int l = 0; l < c.n_layer; ++l) {
    const std::string g = "blk." + std::to_string(l) + ".";
    const std::string h = lm + "layers." + std::to_string(l) + ".";
    const int hd = c.head_dim(l);
    const DType w = opts.weight_type;
    p.norm(g + "attn_norm.weight", h + "input_layernorm.weight", d);
    p.matrix(g + "attn_q.weight", h + "self_attn.q_proj.weight", d, c.q_width(l), w);
    p.matrix(g + "attn_k.weight", h + "self_attn.k_proj.weight", d, c.kv_width(l), w);
    if (c.has_v_proj(l))
      p.matrix(g + "attn_v.weight", h + "self_attn.v_proj.weight", d, c.kv_width(l), w);
    p.matrix(g + "attn_output.weight", h + "self_attn.o_proj.weight", c.q_width(l), d, w);
    p.norm(g + "attn_q_norm.weight", h + "self_attn.q_norm.weight", hd, qk_norm_mean(hd));
    p.norm(g + "attn_k_norm.weight", h + "self_attn.k_norm.weight", hd, qk_norm_mean(hd));
    p.norm(g + "post_attention_norm.weight", h + "post_attention_layernorm.weight", d);
    p.norm(g + "ffn_norm.weight", h + "pre_feedforward_layernorm.weight", d);
    p.matrix(g + "ffn_gate.weight", h + "mlp.gate_proj.weight", d, c.n_ff, w);
    p.matrix(g + "ffn_up.weight", h + "mlp.up_proj.weight", d, c.n_ff, w);
    p.matrix(g + "ffn_down.weight", h + "mlp.down_proj.weight", c.n_ff, d, w);
    p.norm(g + "post_ffw_norm.weight", h + "post_feedforward_layernorm.weight", d);
    p.layer_scalar(g + "layer_output_scale.weight", h + "layer_scalar");
  }
  return std::move(p.out);
}

// mmproj matrices: the float types as asked; quantized runs keep Q8_0 and fall back to F16
// otherwise (mmproj files are rarely quantized below 8 bits).
static DType mmproj_matrix_type(DType w) {
  if (w == DType::F32 || w == DType::F16 || w == DType::BF16 || w == DType::Q8_0) return w;
  return DType::F16;
}

std::vector<TestTensor> plan_mmproj_tensors(const TestModelOptions& opts) {
  const Gemma4Config& c = opts.config;
  Planner p(opts.seed, "mm/");
  if (!c.has_vision && !c.has_audio) return {};
  if (c.mm_patch <= 0 || c.mm_patch % 3 != 0)
    fail("make-test-model: model patch size ", c.mm_patch, " must be a positive multiple of 3");
  const DType w = mmproj_matrix_type(opts.weight_type);
  const int64_t vw = c.vision_width, k = 3ll * c.mm_patch * c.mm_patch;
  const std::string ve = "model.vision_embedder.";
  // Alphabetical, as the converter's mmproj files list them.
  if (c.has_audio)
    p.matrix("mm.a.input_projection.weight", "model.embed_audio.embedding_projection.weight",
             c.audio_frame, c.n_embd, w);
  if (c.has_vision) {
    p.matrix("mm.input_projection.weight", "model.embed_vision.embedding_projection.weight", vw,
             c.n_embd, w);
    p.bias("v.patch_embd.bias", ve + "patch_dense.bias", vw);
    // The converter keeps the patch matrix and the position tables in F32.
    p.matrix("v.patch_embd.weight", ve + "patch_dense.weight", k, vw, DType::F32);
    p.out.back().layout = TestLayout::PatchColumns;
    p.out.back().patch = c.mm_patch;
    p.bias("v.patch_norm.1.bias", ve + "patch_ln1.bias", k);
    p.out.back().layout = TestLayout::PatchVector;
    p.out.back().patch = c.mm_patch;
    p.norm("v.patch_norm.1.weight", ve + "patch_ln1.weight", k);
    p.out.back().layout = TestLayout::PatchVector;
    p.out.back().patch = c.mm_patch;
    p.bias("v.patch_norm.2.bias", ve + "patch_ln2.bias", vw);
    p.norm("v.patch_norm.2.weight", ve + "patch_ln2.weight", vw);
    p.bias("v.patch_norm.3.bias", ve + "pos_norm.bias", vw);
    p.norm("v.patch_norm.3.weight", ve + "pos_norm.weight", vw);
    TestTensor& pos = p.add("v.position_embd.weight", ve + "pos_embedding", {vw, c.pos_table, 2},
                            DType::F32, TestInit::Normal, 0.0f, kPosEmbedStd);
    pos.hf_ne = {vw, 2, c.pos_table};
    pos.layout = TestLayout::PosTable;
  }
  return std::move(p.out);
}

AssistantShape resolved_assistant_shape(const TestModelOptions& opts) {
  AssistantShape s = opts.assistant_shape;
  if (s.n_embd <= 0) s.n_embd = (4 * opts.config.n_embd / 15 + 31) / 32 * 32;
  if (s.n_ff <= 0) s.n_ff = 8 * s.n_embd;
  if (s.n_layer < 1) fail("make-test-model: the assistant needs at least one layer");
  if (s.n_embd == opts.config.n_embd)
    fail("make-test-model: the assistant width must differ from the target's (", s.n_embd,
         "); llama.cpp refuses such a drafter");
  return s;
}

std::vector<TestTensor> plan_assistant_tensors(const TestModelOptions& opts) {
  const Gemma4Config& c = opts.config;
  const AssistantShape s = resolved_assistant_shape(opts);
  Planner p(opts.seed, "assistant/");
  const int64_t a = s.n_embd, d = c.n_embd;
  const DType w = opts.weight_type;
  p.rope_freqs(c.head_dim_global / 2, c.rotated_pairs_global());
  p.embedding("token_embd.weight", "model.embed_tokens.weight", a, c.vocab_size,
              embed_type_of(opts));
  p.norm("output_norm.weight", "model.norm.weight", a);
  p.matrix("nextn.pre_projection.weight", "pre_projection.weight", 2 * d, a, w);
  p.matrix("nextn.post_projection.weight", "post_projection.weight", a, d, w);
  for (int l = 0; l < s.n_layer; ++l) {
    const bool global = l == s.n_layer - 1;
    const int hd = global ? c.head_dim_global : c.head_dim_swa;
    const int64_t q = static_cast<int64_t>(c.n_head) * hd;
    const std::string g = "blk." + std::to_string(l) + ".";
    const std::string h = "model.layers." + std::to_string(l) + ".";
    p.norm(g + "attn_norm.weight", h + "input_layernorm.weight", a);
    p.matrix(g + "attn_q.weight", h + "self_attn.q_proj.weight", a, q, w);
    p.norm(g + "attn_q_norm.weight", h + "self_attn.q_norm.weight", hd, qk_norm_mean(hd));
    p.matrix(g + "attn_output.weight", h + "self_attn.o_proj.weight", q, a, w);
    p.norm(g + "post_attention_norm.weight", h + "post_attention_layernorm.weight", a);
    p.norm(g + "ffn_norm.weight", h + "pre_feedforward_layernorm.weight", a);
    p.matrix(g + "ffn_gate.weight", h + "mlp.gate_proj.weight", a, s.n_ff, w);
    p.matrix(g + "ffn_up.weight", h + "mlp.up_proj.weight", a, s.n_ff, w);
    p.matrix(g + "ffn_down.weight", h + "mlp.down_proj.weight", s.n_ff, a, w);
    p.norm(g + "post_ffw_norm.weight", h + "post_feedforward_layernorm.weight", a);
    p.layer_scalar(g + "layer_output_scale.weight", h + "layer_scalar");
  }
  return std::move(p.out);
}

}  // namespace ug
