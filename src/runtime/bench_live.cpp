// `unigemma bench --live-audio SECONDS`: live audio through the engine's open prompt. The audio
// is streamed in real time (one 40 ms frame every 40 ms of wall time), appended to an open
// request every live_chunk_seconds, and the clock runs from the end of the audio to the first
// token; against it, the same clip sent whole when it ends (decode, embed, prefill, first token).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "base/error.h"
#include "media/audio.h"
#include "runtime/bench_runner.h"
#include "runtime/bench_util.h"
#include "runtime/engine.h"
#include "runtime/live_audio.h"
#include "runtime/model_loader.h"
#include "text/chat_format.h"

namespace ug {

namespace {

// A fresh engine per measurement: the prefix cache must not hand one run's audio to the next.
std::unique_ptr<Engine> one_slot_engine(const LoadedModel& m, const BenchOptions& o, int64_t rows) {
  EngineOptions eo;
  eo.parallel = 1;
  eo.n_ctx = std::max<int64_t>(512, rows + 64);
  eo.rollback = 0;
  eo.threads = o.threads;
  eo.step_tokens = o.ubatch;
  return std::make_unique<Engine>(m.weights, m.tokenizer, eo);
}

EngineRequest first_token_request(Prompt p, bool open) {
  EngineRequest r;
  r.prompt = std::move(p);
  r.max_tokens = 1;
  r.sampling.temperature = 0;
  r.open_prompt = open;
  return r;
}

// Seconds until the request's first token (it asks for one), from `from`.
double wait_first_token(RequestHandle& h, BenchClock::time_point from) {
  for (;;) {
    bool done = false;
    h.wait(std::chrono::milliseconds(1), done);
    if (done) {
      if (h.result().stop_reason == StopReason::kError)
        fail("bench: live audio request failed: ", h.result().error);
      return std::chrono::duration<double>(BenchClock::now() - from).count();
    }
  }
}

}  // namespace

void bench_live_audio(const LoadedModel& m, const BenchOptions& o, BenchReport& rep,
                      const std::function<void(const std::string&)>& say) {
  const double secs = o.live_audio_seconds;
  const std::vector<uint8_t> wav = synthetic_wav(secs);
  const std::vector<float> pcm = decode_audio(wav.data(), wav.size(), "synthetic tone");
  ChatOptions co;
  const std::string text =
      render_chat({{"user",
                    {{ContentPart::Audio, ""}, {ContentPart::Text, "Transcribe this audio."}},
                    "",
                    {},
                    "",
                    ""}},
                  co);
  ThreadPool pool(o.threads);
  const MediaOptions mo;
  const LivePromptParts parts = split_live_prompt(m, pool, text, {}, 0, mo);
  const int64_t rows = static_cast<int64_t>(parts.before.size() + parts.after.size()) +
                       audio_token_count(pcm.size()) + 2 * (1 + static_cast<int64_t>(secs / 30));
  const size_t frame = kAudioFrame;
  const size_t chunk = static_cast<size_t>(o.live_chunk_seconds * kAudioSampleRate);
  std::vector<double> streamed, whole, behind;
  for (int r = 0; r < o.reps; ++r) {
    {
      auto engine = one_slot_engine(m, o, rows);
      auto h = engine->submit(first_token_request(parts.before, true));
      LiveAudioRows live(*m.weights, mo.audio_block_seconds);
      const auto t0 = BenchClock::now();
      for (size_t k = 0; k * frame < pcm.size(); ++k) {
        // Frame k has been spoken at t0 + (k + 1) * 40 ms.
        std::this_thread::sleep_until(t0 + std::chrono::microseconds((k + 1) * 40000));
        live.push(pcm.data() + k * frame, std::min(frame, pcm.size() - k * frame));
        if (live.frames_ready() * frame >= chunk) h->append_prompt(live.take(pool));
      }
      const auto t_end = BenchClock::now();  // the end of speech
      behind.push_back(since(t0) - secs);
      const int64_t before_close = static_cast<int64_t>(engine->stats().prompt_tokens);
      Prompt rest = live.finish(pool, "synthetic tone");
      rest.append(parts.after);
      h->append_prompt(rest);
      h->close_prompt();
      streamed.push_back(wait_first_token(*h, t_end));
      say("live audio rep " + std::to_string(r) + ": " + std::to_string(before_close) +
          " rows prefilled before the end of speech, first token " +
          std::to_string(streamed.back()) + " s after it");
    }
    {
      auto engine = one_slot_engine(m, o, rows);
      const auto t0 = BenchClock::now();  // the clip is complete now
      Prompt whole_prompt = parts.before;
      whole_prompt.append(build_multimodal_prompt(
          m, pool, "<|audio|>", {{MediaInput::Audio, wav, "synthetic tone"}}, mo));
      whole_prompt.append(parts.after);
      auto h = engine->submit(first_token_request(std::move(whole_prompt), false));
      whole.push_back(wait_first_token(*h, t0));
      say("whole clip rep " + std::to_string(r) + ": first token " + std::to_string(whole.back()) +
          " s after the clip");
    }
  }
  char name[64];
  std::snprintf(name, sizeof name, "%g", secs);
  BenchResult ws = summarize(std::string("ttft_audio") + name + "_whole", rows, whole, true);
  BenchResult ss = summarize(std::string("ttft_audio") + name + "_live", rows, streamed, true);
  ss.ratio = ss.seconds / ws.seconds;
  ss.ratio_of = ws.test;
  rep.results.push_back(ws);
  rep.results.push_back(ss);
}

}  // namespace ug
