// The continuous-batching engine and its prefix cache, without HTTP.
#include "runtime/engine.h"

#include <chrono>
#include <thread>

#include "base/error.h"
#include "runtime/prefix_cache.h"
#include "server_test_util.h"

namespace ug::test {
namespace {

using Clock = std::chrono::steady_clock;

EngineResult run_to_end(RequestHandle& h) {
  for (;;) {
    bool done = false;
    h.wait(std::chrono::milliseconds(200), done);
    if (done) return h.result();
  }
}

EngineRequest request(const std::vector<int32_t>& tokens, int max_tokens, uint64_t seed,
                      float temperature = 1.0f) {
  EngineRequest r;
  r.prompt.tokens = tokens;
  r.max_tokens = max_tokens;
  r.sampling.temperature = temperature;
  r.sampling.top_k = 0;
  r.sampling.top_p = 1.0f;
  r.sampling.seed = seed;
  return r;  // no stop ids: random weights would stop at random places
}

std::vector<int32_t> prompt_tokens(const std::string& text) {
  auto ids = tiny_model().tokenizer->encode(text, true);
  ids.insert(ids.begin(), 2);
  return ids;
}

EngineOptions engine_options(int parallel) {
  EngineOptions eo;
  eo.parallel = parallel;
  eo.n_ctx = 512;
  eo.rollback = 64;
  eo.threads = 2;
  return eo;
}

TEST(PrefixCache, CommonPrefixStopsAtSoftRows) {
  EXPECT_EQ(common_prefix({1, 2, 3, 4}, {1, 2, 9}), 2);
  EXPECT_EQ(common_prefix({1, 2, 3}, {1, 2, 3, 4}), 3);
  EXPECT_EQ(common_prefix({1, kNoPrefixKey, 3}, {1, kNoPrefixKey, 3}), 1);
  EXPECT_EQ(common_prefix({}, {1}), 0);
}

TEST(PrefixCache, UsablePrefixRespectsTheSlidingRing) {
  const Gemma4Config c = Gemma4Config::preset_tiny();  // window 16
  KvCache cache(c, 256, 8);                            // sliding rings hold 24 positions
  cache.advance(100);
  // Cutting back more than the rollback margin would need positions the ring overwrote.
  EXPECT_EQ(usable_prefix(cache, 50, 200), 0);
  EXPECT_EQ(usable_prefix(cache, 95, 200), 95);
  EXPECT_EQ(usable_prefix(cache, 100, 100), 99);  // the last row is always computed
  EXPECT_EQ(usable_prefix(cache, 100, 300), 100);
}

TEST(PrefixCache, ChoosesLongestUsablePrefixThenLeastRecentlyUsed) {
  const Gemma4Config c = Gemma4Config::preset_tiny();
  KvCache a(c, 256, 64), b(c, 256, 64), e(c, 256, 64);
  std::vector<int32_t> ka = {5, 6, 7, 8}, kb = {5, 6, 1}, ke;
  a.advance(4);
  b.advance(3);
  std::vector<SlotCandidate> slots = {{&a, &ka, 3}, {&b, &kb, 1}, {&e, &ke, 2}};
  SlotChoice ch = choose_slot(slots, {5, 6, 7, 9, 9});
  EXPECT_EQ(ch.index, 0);
  EXPECT_EQ(ch.keep, 3);
  ch = choose_slot(slots, {1, 2});  // nothing shared: least recently used
  EXPECT_EQ(ch.index, 1);
  EXPECT_EQ(ch.keep, 0);
}

TEST(Engine, BatchedOutputEqualsSoloOutputWithTheSameSeed) {
  const LoadedModel& m = tiny_model();
  const std::vector<std::string> texts = {"Hello there", "The quick brown fox jumps",
                                          "1 2 3 4 5 6 7 8 9 10 11 12", "Why?"};
  std::vector<std::vector<int32_t>> solo;
  {
    Engine e(m.weights, m.tokenizer, engine_options(1));
    for (size_t i = 0; i < texts.size(); ++i) {
      auto h = e.submit(request(prompt_tokens(texts[i]), 24, 100 + i));
      ASSERT_TRUE(h);
      EngineResult r = run_to_end(*h);
      EXPECT_EQ(r.stop_reason, "length");
      solo.push_back(r.generated);
    }
  }
  Engine e(m.weights, m.tokenizer, engine_options(4));
  std::vector<std::shared_ptr<RequestHandle>> hs;
  for (size_t i = 0; i < texts.size(); ++i)
    hs.push_back(e.submit(request(prompt_tokens(texts[i]), 24, 100 + i)));
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_TRUE(hs[i]);
    EngineResult r = run_to_end(*hs[i]);
    EXPECT_EQ(r.generated, solo[i]) << "request " << i << " differs when batched";
  }
  // The four requests shared forward passes.
  EXPECT_LT(e.stats().steps, 4u * 24u);
}

TEST(Engine, PrefixCacheReusesASlotAndGivesTheSameTokens) {
  const LoadedModel& m = tiny_model();
  Engine e(m.weights, m.tokenizer, engine_options(1));
  std::vector<int32_t> p = prompt_tokens("a shared system prompt that is long enough to matter");
  std::vector<int32_t> p2 = p;
  for (int32_t t : prompt_tokens(" and a different question")) p2.push_back(t);
  EngineResult first = run_to_end(*e.submit(request(p, 8, 1, 0)));
  EngineResult second = run_to_end(*e.submit(request(p2, 8, 1, 0)));
  EXPECT_EQ(first.cached_tokens, 0);
  EXPECT_EQ(second.cached_tokens, static_cast<int64_t>(p.size()));
  Engine fresh(m.weights, m.tokenizer, engine_options(1));
  EngineResult ref = run_to_end(*fresh.submit(request(p2, 8, 1, 0)));
  EXPECT_EQ(second.generated, ref.generated);
  // The same prompt again: everything but the last row comes from the cache.
  EngineResult again = run_to_end(*e.submit(request(p2, 8, 1, 0)));
  EXPECT_EQ(again.cached_tokens, static_cast<int64_t>(p2.size()) - 1);
  EXPECT_EQ(again.generated, ref.generated);
}

TEST(Engine, CutBackBeyondTheRollbackMarginRecomputes) {
  const LoadedModel& m = tiny_model();
  EngineOptions eo = engine_options(1);
  eo.rollback = 4;
  Engine e(m.weights, m.tokenizer, eo);
  std::vector<int32_t> p = prompt_tokens("one two three four five six seven eight nine ten");
  EngineResult first = run_to_end(*e.submit(request(p, 20, 1, 0)));
  // The slot now holds prompt + 19 generated tokens; the ring kept only window + 4 of them.
  std::vector<int32_t> p2 = p;
  p2.push_back(first.generated[0] == 100 ? 101 : 100);
  EngineResult second = run_to_end(*e.submit(request(p2, 6, 1, 0)));
  EXPECT_EQ(second.cached_tokens, 0);
  Engine fresh(m.weights, m.tokenizer, eo);
  EXPECT_EQ(second.generated, run_to_end(*fresh.submit(request(p2, 6, 1, 0))).generated);
}

TEST(Engine, CancelFreesTheSlotAndQueueIsBounded) {
  const LoadedModel& m = tiny_model();
  EngineOptions eo = engine_options(1);
  eo.max_queue = 1;
  Engine e(m.weights, m.tokenizer, eo);
  auto long_one = e.submit(request(prompt_tokens("long"), 400, 3));
  auto waiting = e.submit(request(prompt_tokens("waiting"), 4, 3));
  ASSERT_TRUE(long_one);
  ASSERT_TRUE(waiting);
  // One busy slot and one waiting request: a third is refused.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(e.submit(request(prompt_tokens("refused"), 4, 3)));
  long_one->cancel();
  auto t0 = Clock::now();
  EngineResult r = run_to_end(*long_one);
  EXPECT_EQ(r.stop_reason, "cancelled");
  EXPECT_LT(r.generated.size(), 400u);
  EXPECT_EQ(run_to_end(*waiting).stop_reason, "length");
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 10.0);
}

TEST(Engine, StopStringsAndLimits) {
  const LoadedModel& m = tiny_model();
  Engine e(m.weights, m.tokenizer, engine_options(1));
  EngineResult free_run = run_to_end(*e.submit(request(prompt_tokens("abc"), 30, 9)));
  ASSERT_GE(free_run.text.size(), 4u);
  // Stop at a piece of what the model says anyway: same seed, text cut before it.
  const std::string stop = free_run.text.substr(free_run.text.size() / 2, 2);
  EngineRequest r = request(prompt_tokens("abc"), 30, 9);
  r.stop_strings = {stop};
  EngineResult cut = run_to_end(*e.submit(r));
  EXPECT_EQ(cut.stop_reason, "stop");
  EXPECT_EQ(cut.text, free_run.text.substr(0, free_run.text.find(stop)));
  // A prompt as long as the context is refused.
  EXPECT_THROW(e.submit(request(std::vector<int32_t>(512, 5), 4, 1)), Error);
}

TEST(Engine, ShutdownEndsRunningAndWaitingRequestsAndRefusesNewOnes) {
  const LoadedModel& m = tiny_model();
  Engine e(m.weights, m.tokenizer, engine_options(1));
  auto running = e.submit(request(prompt_tokens("long"), 450, 1));
  auto waiting = e.submit(request(prompt_tokens("waits"), 450, 2));
  ASSERT_TRUE(running && waiting);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto t0 = Clock::now();
  e.shutdown();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 10.0);
  EngineResult r = run_to_end(*running);
  EXPECT_EQ(r.stop_reason, "shutdown");
  EXPECT_LT(r.generated.size(), 450u);
  EXPECT_EQ(run_to_end(*waiting).stop_reason, "shutdown");
  EXPECT_FALSE(e.submit(request(prompt_tokens("late"), 4, 3)));
}

}  // namespace
}  // namespace ug::test
