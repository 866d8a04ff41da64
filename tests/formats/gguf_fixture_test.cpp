// Reads the third-party GGUF fixtures (written by llama.cpp's gguf-py) and checks what their
// README states; rewriting them with GgufWriter must give the same bytes.
#include <cmath>
#include <memory>

#include "format_test_util.h"
#include "formats/gguf.h"
#include "shared_fixtures.h"
#include "tensor/half.h"

namespace ug {
namespace {

using test::fixture_path;

const char* kTextFixture = "gemma4-fixture-f16-s4242.gguf";
const char* kMmprojFixture = "gemma4-fixture-mmproj-f16-s4242.gguf";

class GgufFixture : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::shared_fixtures_present()) return;  // each test skips in SetUp
    text_ = std::make_unique<GgufFile>(fixture_path(kTextFixture));
    mmproj_ = std::make_unique<GgufFile>(fixture_path(kMmprojFixture));
  }
  void SetUp() override { UG_SKIP_WITHOUT_SHARED_FIXTURES(); }
  static void TearDownTestSuite() {
    text_.reset();
    mmproj_.reset();
  }
  static std::unique_ptr<GgufFile> text_;
  static std::unique_ptr<GgufFile> mmproj_;
};
std::unique_ptr<GgufFile> GgufFixture::text_;
std::unique_ptr<GgufFile> GgufFixture::mmproj_;

TEST_F(GgufFixture, TextHeader) {
  const GgufFile& f = *text_;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.keys().size(), 38u);
  EXPECT_EQ(f.keys().front(), "general.architecture");
  EXPECT_EQ(f.get("general.architecture").as_string(), "gemma4");
  EXPECT_EQ(f.get("gemma4.embedding_length").as_int(), 64);
  EXPECT_EQ(f.get("gemma4.block_count").as_int(), 6);
  EXPECT_EQ(f.get("gemma4.feed_forward_length").as_int(), 128);
  EXPECT_EQ(f.get("gemma4.attention.head_count").as_int(), 2);
  EXPECT_EQ(f.get("gemma4.attention.key_length").as_int(), 512);
  EXPECT_EQ(f.get("gemma4.attention.value_length").as_int(), 512);
  EXPECT_EQ(f.get("gemma4.attention.key_length_swa").as_int(), 256);
  EXPECT_EQ(f.get("gemma4.attention.value_length_swa").as_int(), 256);
  EXPECT_EQ(f.get("gemma4.attention.sliding_window").as_int(), 16);
  EXPECT_EQ(f.get("gemma4.rope.freq_base").as_float(), 1e6);
  EXPECT_EQ(f.get("gemma4.rope.freq_base_swa").as_float(), 1e4);
  EXPECT_EQ(f.get("gemma4.final_logit_softcapping").as_float(), 30.0);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get("gemma4.attention.layer_norm_rms_epsilon").as_float()),
                  1e-6f);

  const GgufValue& kv_heads = f.get("gemma4.attention.head_count_kv");
  ASSERT_EQ(kv_heads.type, GgufType::ARRAY);
  ASSERT_EQ(kv_heads.arr.size(), 6u);
  for (const GgufValue& v : kv_heads.arr) EXPECT_EQ(v.as_int(), 1);

  const GgufValue& pattern = f.get("gemma4.attention.sliding_window_pattern");
  ASSERT_EQ(pattern.elem_type, GgufType::BOOL);
  ASSERT_EQ(pattern.arr.size(), 6u);
  for (int l = 0; l < 6; ++l) EXPECT_EQ(pattern.arr[l].as_bool(), l != 5) << "layer " << l;

  EXPECT_EQ(f.find("no.such.key"), nullptr);
  EXPECT_ERROR_HAS(f.get("no.such.key"), kTextFixture, "no.such.key");
  EXPECT_ERROR_HAS(f.get("general.architecture").as_int("general.architecture"),
                   "general.architecture", "string");
}

TEST_F(GgufFixture, TextTokenizer) {
  const GgufFile& f = *text_;
  EXPECT_EQ(f.get("tokenizer.ggml.model").as_string(), "gemma4");
  const GgufValue& tokens = f.get("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.elem_type, GgufType::STRING);
  ASSERT_EQ(tokens.arr.size(), 262144u);
  EXPECT_EQ(tokens.arr[0].s, "<pad>");
  EXPECT_EQ(tokens.arr[1].s, "<eos>");
  EXPECT_EQ(tokens.arr[2].s, "<bos>");
  EXPECT_EQ(f.get("tokenizer.ggml.scores").arr.size(), 262144u);
  EXPECT_EQ(f.get("tokenizer.ggml.token_type").arr.size(), 262144u);
  const GgufValue& merges = f.get("tokenizer.ggml.merges");
  ASSERT_EQ(merges.elem_type, GgufType::STRING);
  EXPECT_EQ(merges.arr.size(), 514906u);
  for (size_t k = 0; k < merges.arr.size(); k += 9973)  // every merge is "left right"
    EXPECT_NE(merges.arr[k].s.find(' '), std::string::npos) << k;
  const GgufValue& suppress = f.get("tokenizer.ggml.suppress_tokens");
  ASSERT_EQ(suppress.arr.size(), 2u);
  EXPECT_EQ(suppress.arr[0].as_int(), 258882);
  EXPECT_EQ(suppress.arr[1].as_int(), 258883);
  EXPECT_EQ(f.get("tokenizer.ggml.bos_token_id").as_int(), 2);
  EXPECT_EQ(f.get("tokenizer.ggml.eos_token_id").as_int(), 1);
  EXPECT_TRUE(f.get("tokenizer.ggml.add_bos_token").as_bool());
  EXPECT_FALSE(f.get("tokenizer.ggml.add_eos_token").as_bool());
  EXPECT_NE(f.get("tokenizer.chat_template").as_string().find("{%"), std::string::npos);
}

TEST_F(GgufFixture, TextTensors) {
  const GgufFile& f = *text_;
  EXPECT_EQ(f.tensors().size(), 86u);
  const TensorView* embd = f.tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->type, DType::Q8_0);
  EXPECT_EQ(embd->ne, (std::vector<int64_t>{64, 262144}));
  EXPECT_EQ(embd->nbytes, 262144u * 2 * 34);

  const TensorView* rope = f.tensor("rope_freqs.weight");
  ASSERT_NE(rope, nullptr);
  ASSERT_EQ(rope->type, DType::F32);
  ASSERT_EQ(rope->ne, (std::vector<int64_t>{256}));
  const float* r = static_cast<const float*>(rope->data);
  for (int k = 0; k < 64; ++k) EXPECT_EQ(r[k], 1.0f) << k;
  for (int k = 64; k < 256; ++k) EXPECT_EQ(r[k], 1e30f) << k;

  for (int l = 0; l < 6; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const int64_t head_dim = l == 5 ? 512 : 256;
    for (const char* name : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      const TensorView* t = f.tensor(p + name + ".weight");
      if (l == 5 && std::string(name) == "attn_v") {
        EXPECT_EQ(t, nullptr) << "global layer has no attn_v (K = V)";
        continue;
      }
      ASSERT_NE(t, nullptr) << p << name;
      EXPECT_EQ(t->type, DType::F16) << t->name;
    }
    EXPECT_EQ(f.tensor(p + "attn_q.weight")->ne, (std::vector<int64_t>{64, 2 * head_dim}));
    EXPECT_EQ(f.tensor(p + "attn_k.weight")->ne, (std::vector<int64_t>{64, head_dim}));
    EXPECT_EQ(f.tensor(p + "attn_output.weight")->ne, (std::vector<int64_t>{2 * head_dim, 64}));
    for (const char* name : {"ffn_gate", "ffn_up", "ffn_down"}) {
      const TensorView* t = f.tensor(p + name + ".weight");
      ASSERT_NE(t, nullptr) << p << name;
      EXPECT_EQ(t->type, DType::Q4_0) << t->name;
    }
    EXPECT_EQ(f.tensor(p + "ffn_down.weight")->ne, (std::vector<int64_t>{128, 64}));
    const TensorView* scale = f.tensor(p + "layer_output_scale.weight");
    ASSERT_NE(scale, nullptr);
    float s = *static_cast<const float*>(scale->data);
    EXPECT_GE(s, 0.3f);
    EXPECT_LE(s, 0.95f);
  }
  const uint8_t* lo = nullptr;
  for (const TensorView& t : f.tensors()) {
    if (t.ne.size() == 1) {
      EXPECT_EQ(t.type, DType::F32) << t.name;
    }
    EXPECT_EQ(t.nbytes, t.row_size() * static_cast<uint64_t>(t.rows())) << t.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 32, 0u) << t.name;
    const uint8_t* p = static_cast<const uint8_t*>(t.data);
    if (!lo || p < lo) lo = p;
  }
  // The first tensor sits at data offset 0, so `lo` is the data section start; gguf-py pads the
  // last tensor to the alignment and the file ends there.
  const TensorView& last = f.tensors().back();
  const uint64_t data_end = static_cast<uint64_t>(static_cast<const uint8_t*>(last.data) - lo) +
                            (last.nbytes + 31) / 32 * 32;
  EXPECT_EQ(static_cast<const uint8_t*>(f.tensors()[0].data), lo);
  EXPECT_LT(data_end, f.file_size());
}

TEST_F(GgufFixture, Mmproj) {
  const GgufFile& f = *mmproj_;
  EXPECT_EQ(f.get("general.architecture").as_string(), "clip");
  EXPECT_TRUE(f.get("clip.has_vision_encoder").as_bool());
  EXPECT_TRUE(f.get("clip.has_audio_encoder").as_bool());
  EXPECT_EQ(f.get("clip.vision.projector_type").as_string(), "gemma4uv");
  EXPECT_EQ(f.get("clip.audio.projector_type").as_string(), "gemma4ua");
  EXPECT_EQ(f.get("clip.vision.embedding_length").as_int(), 32);
  EXPECT_EQ(f.get("clip.vision.projection_dim").as_int(), 64);
  EXPECT_EQ(f.get("clip.vision.patch_size").as_int(), 16);
  EXPECT_EQ(f.get("clip.vision.image_size").as_int(), 224);
  EXPECT_EQ(f.get("clip.vision.block_count").as_int(), 0);
  EXPECT_EQ(f.get("clip.audio.embedding_length").as_int(), 640);
  EXPECT_EQ(f.get("clip.audio.projection_dim").as_int(), 64);
  EXPECT_EQ(f.get("clip.audio.num_mel_bins").as_int(), 128);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get("clip.vision.attention.layer_norm_epsilon").as_float()),
                  1e-6f);
  for (const char* key : {"clip.vision.image_mean", "clip.vision.image_std"}) {
    const GgufValue& v = f.get(key);
    ASSERT_EQ(v.arr.size(), 3u) << key;
    for (const GgufValue& x : v.arr) EXPECT_EQ(x.as_float(), key[18] == 'm' ? 0.0 : 1.0) << key;
  }

  struct Expected {
    const char* name;
    DType type;
    std::vector<int64_t> ne;
  };
  const Expected expected[] = {
      {"v.patch_embd.weight", DType::F32, {6912, 32}},
      {"v.patch_embd.bias", DType::F32, {32}},
      {"v.patch_norm.1.weight", DType::F32, {6912}},
      {"v.patch_norm.1.bias", DType::F32, {6912}},
      {"v.patch_norm.2.weight", DType::F32, {32}},
      {"v.patch_norm.2.bias", DType::F32, {32}},
      {"v.patch_norm.3.weight", DType::F32, {32}},
      {"v.patch_norm.3.bias", DType::F32, {32}},
      {"v.position_embd.weight", DType::F32, {32, 1120, 2}},
      {"mm.input_projection.weight", DType::F16, {32, 64}},
      {"mm.a.input_projection.weight", DType::F16, {640, 64}},
  };
  EXPECT_EQ(f.tensors().size(), std::size(expected));
  for (const Expected& e : expected) {
    const TensorView* t = f.tensor(e.name);
    ASSERT_NE(t, nullptr) << e.name;
    EXPECT_EQ(t->type, e.type) << e.name;
    EXPECT_EQ(t->ne, e.ne) << e.name;
  }
}

// Rewrites a file's metadata and tensors with GgufWriter, streaming the tensor data.
void rewrite(const GgufFile& f, const std::string& out) {
  GgufWriter w;
  for (const std::string& key : f.keys()) w.add_kv(key, f.get(key));
  for (const TensorView& t : f.tensors()) w.add_tensor_info(t.name, t.type, t.ne);
  w.begin(out);
  for (const TensorView& t : f.tensors()) {
    // Two chunks, to exercise partial writes as a converter would do them.
    const uint64_t half = t.nbytes / 2;
    w.write_tensor_data(t.data, half);
    w.write_tensor_data(static_cast<const uint8_t*>(t.data) + half, t.nbytes - half);
  }
  w.finish();
}

void expect_same_file(const std::string& a, const std::string& b) {
  MappedFile x(a), y(b);
  ASSERT_EQ(x.size(), y.size()) << a << " vs " << b;
  uint64_t first_diff = x.size();
  for (uint64_t k = 0; k < x.size(); ++k) {
    if (x.data()[k] != y.data()[k]) {
      first_diff = k;
      break;
    }
  }
  EXPECT_EQ(first_diff, x.size()) << "files differ first at byte " << first_diff;
}

TEST_F(GgufFixture, RewriteIsByteIdentical) {
  for (const GgufFile* f : {text_.get(), mmproj_.get()}) {
    const std::string out = test::temp_path("rewrite.gguf");
    rewrite(*f, out);
    expect_same_file(f->path(), out);
    std::remove(out.c_str());
  }
}

}  // namespace
}  // namespace ug
