#include "cli/run_live.h"

#include <cstdio>
#include <cstring>
#include <memory>

#include "base/error.h"
#include "media/audio.h"
#include "media/pcm_stream.h"

namespace ug::cli {

int live_audio_index(const std::vector<MediaInput>& media) {
  int found = -1;
  for (size_t i = 0; i < media.size(); ++i)
    if (media[i].kind == MediaInput::Audio && media[i].name == "-" && media[i].bytes.empty()) {
      if (found >= 0) fail("--audio - can be given once (standard input is one stream)");
      found = static_cast<int>(i);
    }
  return found;
}

namespace {

// Standard input as PCM16: a WAV stream's header decides the format, else 16 kHz mono.
class StdinAudio {
 public:
  explicit StdinAudio(double max_seconds) : max_seconds_(max_seconds) {}

  // Reads up to `bytes`; appends 16 kHz samples to out. False at the end of input.
  bool read(size_t bytes, std::vector<float>& out) {
    std::vector<uint8_t> buf(bytes);
    const size_t got = std::fread(buf.data(), 1, bytes, stdin);
    if (got == 0) {
      if (std::ferror(stdin)) fail("--audio -: cannot read standard input");
      return false;
    }
    buf.resize(got);
    if (!pcm_) {
      head_.insert(head_.end(), buf.begin(), buf.end());
      if (head_.size() < 4) return true;
      size_t skip = 0;
      WavStreamFormat f{kAudioSampleRate, 1};
      if (std::memcmp(head_.data(), "RIFF", 4) == 0) {
        skip = parse_wav_stream_header(head_.data(), head_.size(), f, "standard input");
        if (skip == 0) return true;  // more header to come
      }
      pcm_ = std::make_unique<Pcm16Stream>(f.sample_rate, f.channels, "standard input");
      buf.assign(head_.begin() + static_cast<std::ptrdiff_t>(skip), head_.end());
      head_.clear();
    }
    pcm_->push(buf.data(), buf.size(), out);
    if (static_cast<double>(pcm_->frames_in()) > max_seconds_ * pcm_->sample_rate())
      fail("--audio -: longer than the ", max_seconds_, " s limit");
    return true;
  }

  // The end: the resampler's tail; returns the exact 16 kHz length of the whole stream.
  uint64_t finish(std::vector<float>& out) {
    if (!pcm_) fail("--audio -: standard input held no audio");
    return pcm_->finish(out);
  }

 private:
  double max_seconds_;
  std::vector<uint8_t> head_;
  std::unique_ptr<Pcm16Stream> pcm_;
};

}  // namespace

EngineResult run_live_audio(Engine& engine, const LoadedModel& m, ThreadPool& pool,
                            EngineRequest request, const LivePromptParts& parts,
                            const MediaOptions& media, double chunk_seconds,
                            const std::function<bool(const EngineToken&)>& on_token,
                            std::vector<int32_t>* prompt_ids) {
  request.prompt = parts.before;
  std::vector<int32_t> ids = parts.before.tokens;
  request.open_prompt = true;
  std::shared_ptr<RequestHandle> h = engine.submit(std::move(request));
  if (!h) fail("the engine is busy or shutting down");
  LiveAudioRows live(*m.weights, media.audio_block_seconds);
  StdinAudio in(media.max_audio_seconds);
  const size_t chunk = static_cast<size_t>(chunk_seconds * kAudioSampleRate);
  std::vector<float> pcm;
  // 40 ms of 16 kHz mono per read: a pipe from a microphone delivers about that at a time.
  while (in.read(1280, pcm)) {
    live.push(pcm);
    pcm.clear();
    if (live.frames_ready() * kAudioFrame < chunk) continue;
    Prompt rows = live.take(pool);
    ids.insert(ids.end(), rows.tokens.begin(), rows.tokens.end());
    h->append_prompt(rows);
  }
  const uint64_t exact = in.finish(pcm);
  live.push(pcm);
  live.resize(static_cast<size_t>(exact));
  Prompt rest = live.finish(pool, "standard input");
  rest.append(parts.after);
  ids.insert(ids.end(), rest.tokens.begin(), rest.tokens.end());
  if (prompt_ids) *prompt_ids = std::move(ids);
  h->append_prompt(rest);
  h->close_prompt();
  for (;;) {
    bool done = false;
    for (const EngineToken& t : h->wait(std::chrono::milliseconds(20), done))
      if (on_token && !on_token(t)) h->cancel();
    if (done) return h->result();
  }
}

}  // namespace ug::cli
