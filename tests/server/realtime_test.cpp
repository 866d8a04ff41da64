// Live audio without the transport: LiveAudioRows gives the whole clip's prompt rows, the
// prompt split around a live input is the whole prompt, and a RealtimeSession prefills the
// buffer through an open engine request while it grows, answers as the whole clip does, and
// frees its requests when the client goes away.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "../wav_bytes.h"
#include "base/error.h"
#include "media/audio.h"
#include "runtime/live_audio.h"
#include "server/base64.h"
#include "server/realtime_session.h"
#include "server_test_util.h"

namespace ug {
namespace {

using test::tiny_model;

std::vector<float> speechlike(double seconds, int rate = 16000) {
  std::vector<float> v(static_cast<size_t>(seconds * rate));
  for (size_t i = 0; i < v.size(); ++i) {
    const double t = static_cast<double>(i) / rate;
    v[i] = static_cast<float>(std::lround(0.3 * (0.6 + 0.4 * std::sin(2 * M_PI * 3 * t)) *
                                          std::sin(2 * M_PI * (220 + 80 * std::sin(5 * t)) * t) *
                                          32767)) /
           32768.0f;
  }
  return v;
}

void expect_same_rows(const Prompt& a, const Prompt& b) {
  ASSERT_EQ(a.tokens, b.tokens);
  ASSERT_EQ(a.soft.size(), b.soft.size());
  for (size_t i = 0; i < a.soft.size(); ++i) ASSERT_EQ(a.soft[i], b.soft[i]) << "row " << i;
}

// Rows of `pcm` streamed in pieces of `piece` samples, taken every `take_every` pieces.
Prompt streamed_rows(const std::vector<float>& pcm, size_t piece, int take_every,
                     double block_seconds) {
  const LoadedModel& m = tiny_model();
  ThreadPool pool(1);
  LiveAudioRows live(*m.weights, block_seconds);
  Prompt rows;
  int n = 0;
  for (size_t i = 0; i < pcm.size(); i += piece) {
    live.push(pcm.data() + i, std::min(piece, pcm.size() - i));
    if (++n % take_every == 0) rows.append(live.take(pool));
  }
  rows.append(live.finish(pool));
  return rows;
}

std::vector<uint8_t> wav16k(const std::vector<float>& pcm) {
  return test::wav_bytes(test::pcm16_bytes(pcm), 1, 16000);
}

// The whole clip through build_multimodal_prompt: <|audio> rows <audio|> per block.
Prompt whole_rows(const std::vector<float>& pcm, double block_seconds) {
  const LoadedModel& m = tiny_model();
  ThreadPool pool(1);
  MediaOptions o;
  o.audio_block_seconds = block_seconds;
  MediaInput in{MediaInput::Audio, wav16k(pcm), "clip.wav"};
  return build_multimodal_prompt(m, pool, "<|audio|>", {in}, o);
}

TEST(LiveAudioRows, StreamedRowsAreTheWholeClipsRows) {
  const std::vector<float> pcm = speechlike(2.37);  // ends inside a frame
  const Prompt whole = whole_rows(pcm, 30);
  expect_same_rows(streamed_rows(pcm, 800, 3, 30), whole);
  expect_same_rows(streamed_rows(pcm, 333, 1, 30), whole);
  expect_same_rows(streamed_rows(pcm, pcm.size(), 1, 30), whole);
}

TEST(LiveAudioRows, LongAudioIsSplitIntoTheSameBlocks) {
  const std::vector<float> pcm = speechlike(2.5);
  const Prompt whole = whole_rows(pcm, 1.0);  // blocks of 25 frames: 3 blocks
  int boa = 0;
  for (int32_t t : whole.tokens) boa += t == tiny_model().weights->config.boa_id;
  EXPECT_EQ(boa, 3);
  expect_same_rows(streamed_rows(pcm, 640, 5, 1.0), whole);
  // Exactly two blocks' worth: no third, empty block.
  const std::vector<float> two(pcm.begin(), pcm.begin() + 32000);
  expect_same_rows(streamed_rows(two, 640, 1, 1.0), whole_rows(two, 1.0));
}

TEST(LiveAudioRows, RefusesSilenceAndNothingAsTheWholeClipDoes) {
  ThreadPool pool(1);
  LiveAudioRows empty(*tiny_model().weights);
  EXPECT_THROW(empty.finish(pool), Error);
  LiveAudioRows silent(*tiny_model().weights);
  silent.push(std::vector<float>(16000, 0.0f));
  EXPECT_THROW(silent.finish(pool), Error);
}

TEST(LiveAudioRows, SplitPromptAroundTheLiveInputIsTheWholePrompt) {
  const LoadedModel& m = tiny_model();
  ThreadPool pool(1);
  const std::vector<float> first = speechlike(0.7), live = speechlike(1.3);
  const std::string text = "<bos><|turn>user\n<|audio|> then <|audio|>Hi<turn|>\n<|turn>model\n";
  MediaInput a{MediaInput::Audio, wav16k(first), "a.wav"};
  MediaInput b{MediaInput::Audio, wav16k(live), "b.wav"};
  const Prompt whole = build_multimodal_prompt(m, pool, text, {a, b}, MediaOptions{});
  LivePromptParts parts = split_live_prompt(m, pool, text, {a}, 1, MediaOptions{});
  Prompt joined = parts.before;
  joined.append(streamed_rows(live, 1000, 2, 30));
  joined.append(parts.after);
  expect_same_rows(joined, whole);
  EXPECT_THROW(split_live_prompt(m, pool, "no placeholder", {}, 0, MediaOptions{}), Error);
}

// ---------------------------------------------------------------------------------------------
// RealtimeSession

struct SessionFixture {
  SessionFixture() {
    b = std::make_shared<server::Backend>();
    b->model = tiny_model();
    EngineOptions eo;
    eo.parallel = 2;
    eo.n_ctx = 1024;
    eo.rollback = 256;
    eo.threads = 2;
    b->engine = std::make_unique<Engine>(b->model.weights, b->model.tokenizer, eo);
    b->media_pool = std::make_unique<ThreadPool>(1);
    b->name = "tiny";
    opt.realtime_chunk_seconds = 0.2;
    session = std::make_unique<server::RealtimeSession>(
        b, opt,
        [this](std::string e) {
          std::lock_guard<std::mutex> lock(mu);
          events.push_back(nlohmann::json::parse(e));
          return true;
        },
        [this] { closed = true; });
    session->open();
  }
  ~SessionFixture() { session.reset(); }

  void send(const nlohmann::json& e) { session->on_message(e.dump()); }
  // Waits for the next event of `type`; the events before it are dropped.
  nlohmann::json next(const std::string& type, int timeout_s = 60) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        for (size_t i = 0; i < events.size(); ++i)
          if (events[i]["type"] == type) {
            nlohmann::json e = events[i];
            events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(i) + 1);
            return e;
          }
      }
      if (std::chrono::steady_clock::now() > deadline) return nullptr;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void append(const std::vector<float>& pcm) {
    const std::vector<uint8_t> bytes = test::pcm16_bytes(pcm);
    send({{"type", "input_audio_buffer.append"},
          {"audio", server::base64_encode(bytes.data(), bytes.size())}});
  }
  void manual() {
    send({{"type", "session.update"},
          {"session",
           {{"turn_detection", nullptr},
            {"input_audio_sample_rate", 16000},
            {"temperature", 0},
            {"max_output_tokens", 10}}}});
    ASSERT_FALSE(next("session.updated").is_null());
  }

  std::shared_ptr<server::Backend> b;
  server::ServerOptions opt;
  std::mutex mu;
  std::vector<nlohmann::json> events;
  std::atomic<bool> closed{false};
  std::unique_ptr<server::RealtimeSession> session;
};

TEST(RealtimeSession, PrefillsTheBufferWhileItGrowsAndAnswersAsTheWholeClip) {
  const std::vector<float> pcm = speechlike(2.0);
  // The whole clip as /v1/chat/completions renders it.
  const LoadedModel& m = tiny_model();
  ChatOptions co;
  const std::string text = render_chat({{"user", {{ContentPart::Audio, ""}}, "", {}, "", ""}}, co);
  ThreadPool pool(1);
  EngineRequest whole;
  whole.prompt = build_multimodal_prompt(
      m, pool, text, {{MediaInput::Audio, wav16k(pcm), "clip.wav"}}, MediaOptions{});
  whole.max_tokens = 10;
  whole.sampling.temperature = 0;
  whole.stop_ids = m.weights->config.stop_ids;
  SessionFixture f;
  const EngineResult expect = generate(*f.b->engine, whole);

  f.manual();
  for (size_t i = 0; i < pcm.size(); i += 4000)
    f.append(std::vector<float>(pcm.begin() + i, pcm.begin() + std::min(pcm.size(), i + 4000)));
  EXPECT_TRUE(f.session->live_request_open());
  // The conversation's opening plus all whole frames so far are in the engine request.
  EXPECT_GE(f.session->live_rows(), static_cast<int64_t>(pcm.size() / 640));
  f.send({{"type", "input_audio_buffer.commit"}});
  ASSERT_FALSE(f.next("input_audio_buffer.committed").is_null());
  f.send({{"type", "response.create"}});
  const nlohmann::json done = f.next("response.done");
  ASSERT_FALSE(done.is_null());
  EXPECT_EQ(done["response"]["output"][0]["content"][0]["text"], parse_output(expect.text).content);
  EXPECT_EQ(done["response"]["usage"]["output_tokens"], expect.generated.size());
  EXPECT_EQ(done["response"]["usage"]["input_tokens"], whole.prompt.size());
}

TEST(RealtimeSession, EndingMidUtteranceFreesTheEngineRequest) {
  SessionFixture f;
  f.manual();
  f.append(speechlike(1.0));
  ASSERT_TRUE(f.session->live_request_open());
  for (int i = 0; f.b->engine->stats().active == 0; ++i) {
    ASSERT_LT(i, 500);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  f.session->end();
  EXPECT_FALSE(f.session->live_request_open());
  for (int i = 0; f.b->engine->stats().active > 0; ++i) {
    ASSERT_LT(i, 500) << "the slot stayed busy";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

TEST(RealtimeSession, LimitsAndIdleTimeGiveErrors) {
  SessionFixture f;
  f.opt.realtime_max_buffer_seconds = 1.0;  // the fixture's session copied the options before
  f.session.reset();
  f.opt.realtime_idle_seconds = 2;  // long enough for the steps below on a loaded machine
  f.session = std::make_unique<server::RealtimeSession>(
      f.b, f.opt,
      [&f](std::string e) {
        std::lock_guard<std::mutex> lock(f.mu);
        f.events.push_back(nlohmann::json::parse(e));
        return true;
      },
      [&f] { f.closed = true; });
  f.session->open();
  f.manual();
  f.append(speechlike(0.8));
  f.append(speechlike(0.8));
  EXPECT_EQ(f.next("error")["error"]["code"], "input_audio_buffer_full");
  f.send({{"type", "input_audio_buffer.commit"}});  // what fitted is still there
  EXPECT_FALSE(f.next("input_audio_buffer.committed").is_null());
  const nlohmann::json idle = f.next("error", 10);
  ASSERT_FALSE(idle.is_null());
  EXPECT_EQ(idle["error"]["code"], "session_idle_timeout");
  EXPECT_TRUE(f.closed);
}

TEST(RealtimeProtocol, SessionUpdateTakesBothShapesAllOrNothing) {
  server::RealtimeSettings s;
  server::apply_session_update(
      {{"type", "realtime"},
       {"instructions", "Hi"},
       {"audio",
        {{"input",
          {{"format", {{"type", "audio/pcm"}, {"rate", 48000}}},
           {"turn_detection", {{"type", "server_vad"}, {"silence_duration_ms", 700}}}}}}}},
      s, 4096);
  EXPECT_EQ(s.instructions, "Hi");
  EXPECT_EQ(s.input_rate, 48000);
  EXPECT_TRUE(s.turn_detection);
  EXPECT_EQ(s.vad.silence_ms, 700);
  server::apply_session_update({{"turn_detection", nullptr}, {"max_response_output_tokens", "inf"}},
                               s, 4096);
  EXPECT_FALSE(s.turn_detection);
  EXPECT_EQ(s.max_output_tokens, 0);
  const server::RealtimeSettings before = s;
  EXPECT_THROW(server::apply_session_update(
                   {{"instructions", "changed"}, {"input_audio_format", "g711_ulaw"}}, s, 4096),
               server::ApiError);
  EXPECT_EQ(s.instructions, before.instructions);
  EXPECT_THROW(server::apply_session_update({{"max_output_tokens", 5000}}, s, 4096),
               server::ApiError);
  EXPECT_THROW(server::apply_session_update({{"output_modalities", {"audio"}}}, s, 4096),
               server::ApiError);
}

}  // namespace
}  // namespace ug
