#include "runtime/live_audio.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "media/audio.h"
#include "model/embedders.h"
#include "text/chat_format.h"

namespace ug {

LiveAudioRows::LiveAudioRows(const Gemma4Weights& w, double block_seconds)
    : w_(w), frame_(static_cast<size_t>(w.config.audio_frame)) {
  if (!w.audio) fail(w.source, ": this model has no audio weights (for GGUF, pass --mmproj)");
  // The same piece length as split_audio: whole frames per block.
  const double max_samples = std::floor(block_seconds * kAudioSampleRate);
  if (!(max_samples >= static_cast<double>(frame_)))
    fail("audio blocks of ", block_seconds, " s are shorter than one ", frame_, "-sample frame");
  block_frames_ = static_cast<size_t>(max_samples) / frame_;
}

void LiveAudioRows::push(const float* pcm, size_t n) {
  if (finished_) fail("live audio: more samples after the end of the clip");
  pcm_.insert(pcm_.end(), pcm, pcm + n);
}

void LiveAudioRows::resize(size_t n) {
  if (finished_) fail("live audio: the clip was already finished");
  if (n < taken_ * frame_)
    fail("live audio: cannot cut the clip to ", n, " samples; ", taken_ * frame_,
         " are already in the prompt");
  pcm_.resize(n, 0.0f);
}

// Rows of frames [first, first + count): a block's <|audio> before its first frame and the
// previous block's <audio|> before that.
Prompt LiveAudioRows::rows_for(size_t first, size_t count, ThreadPool& pool) {
  Prompt p;
  if (count == 0) return p;
  const Gemma4Config& c = w_.config;
  std::vector<float> frames(count * frame_, 0.0f);  // the last frame of the clip zero-padded
  const size_t begin = first * frame_;
  const size_t end = std::min(pcm_.size(), (first + count) * frame_);
  std::copy(pcm_.begin() + begin, pcm_.begin() + end, frames.begin());
  std::vector<float> emb = embed_audio_frames(w_, frames, pool);  // [count, n_embd]
  for (size_t i = 0; i < count; ++i) {
    const size_t f = first + i;
    if (f % block_frames_ == 0) {
      if (f > 0) {
        p.tokens.push_back(c.eoa_id);
        p.soft.emplace_back();
      }
      p.tokens.push_back(c.boa_id);
      p.soft.emplace_back();
    }
    p.tokens.push_back(c.audio_token_id);
    p.soft.emplace_back(emb.begin() + i * c.n_embd, emb.begin() + (i + 1) * c.n_embd);
  }
  return p;
}

Prompt LiveAudioRows::take(ThreadPool& pool) {
  if (finished_) return {};
  const size_t ready = frames_ready();
  Prompt p = rows_for(taken_, ready, pool);
  taken_ += ready;
  return p;
}

Prompt LiveAudioRows::finish(ThreadPool& pool, const char* name) {
  if (finished_) fail(name, ": the clip was already finished");
  if (pcm_.empty()) fail("audio '", name, "' has no samples");
  // As the whole-clip path: below one 16-bit step everywhere there is nothing to hear.
  if (std::all_of(pcm_.begin(), pcm_.end(), [](float v) { return std::abs(v) < 1.0f / 32768.0f; }))
    fail("audio '", name, "' is silent: no sample reaches the level of one 16-bit step");
  const size_t total = (pcm_.size() + frame_ - 1) / frame_;
  Prompt p = rows_for(taken_, total - taken_, pool);
  taken_ = total;
  p.tokens.push_back(w_.config.eoa_id);
  p.soft.emplace_back();
  finished_ = true;
  return p;
}

}  // namespace ug

namespace ug {

LivePromptParts split_live_prompt(const LoadedModel& m, ThreadPool& pool, const std::string& text,
                                  const std::vector<MediaInput>& media, size_t live_index,
                                  const MediaOptions& o) {
  // Special tokens are split off before BPE, so the text on either side of the placeholder
  // tokenizes as it does in the whole.
  const std::string audio(media_placeholder(ContentPart::Audio));
  size_t at = std::string::npos, from = 0;
  for (size_t k = 0; k <= live_index; ++k) {
    at = text.find(audio, from);
    if (at == std::string::npos) fail("the prompt has no placeholder for the live audio");
    from = at + audio.size();
  }
  const std::string before = text.substr(0, at), after = text.substr(from);
  const ContentPart::Kind kinds[3] = {ContentPart::Image, ContentPart::Audio, ContentPart::Video};
  size_t count[3] = {0, 0, 0};  // placeholders of each kind before the live audio
  for (int k = 0; k < 3; ++k) {
    const std::string ph(media_placeholder(kinds[k]));
    for (size_t p = before.find(ph); p != std::string::npos; p = before.find(ph, p + ph.size()))
      ++count[k];
  }
  std::vector<MediaInput> first, rest;
  size_t seen[3] = {0, 0, 0};
  for (const MediaInput& in : media)
    (seen[in.kind]++ < count[in.kind] ? first : rest).push_back(in);
  LivePromptParts parts;
  parts.before = build_multimodal_prompt(m, pool, before, first, o);
  // encode() adds no BOS: the rendered text carries its own, in `before`.
  parts.after = build_multimodal_prompt(m, pool, after, rest, o);
  return parts;
}

}  // namespace ug
