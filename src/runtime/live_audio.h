// Audio that arrives in pieces (a microphone, a pipe) turned into prompt rows as it comes, so an
// open engine request (EngineRequest::open_prompt) can prefill it while the person still speaks.
// The rows equal those build_multimodal_prompt makes for the whole clip (input spec §2.4):
// <|audio> + one soft row per 640-sample frame + <audio|>, with a new block every
// audio_block_seconds as the whole-clip path splits long audio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "model/weights.h"
#include "runtime/prompt.h"

namespace ug {

class LiveAudioRows {
 public:
  // w must have audio weights (ug::Error otherwise); block_seconds as MediaOptions.
  LiveAudioRows(const Gemma4Weights& w, double block_seconds = 30);

  // More 16 kHz mono samples in [-1, 1].
  void push(const float* pcm, size_t n);
  void push(const std::vector<float>& pcm) { push(pcm.data(), pcm.size()); }
  // Cuts or zero-pads the clip to n samples (a resampler's exact final length); the frames
  // already taken must stay as they were.
  void resize(size_t n);

  // Rows for the whole frames that arrived since the last call, with the block markers before
  // them; empty when none. pool runs the audio projection.
  Prompt take(ThreadPool& pool);
  // The rest: the last frame (zero-padded) and the closing <audio|>. After it, the rows given
  // out are the whole clip's. Throws ug::Error when there are no samples or all are silent (the
  // whole-clip path refuses those too); name says which audio in the message.
  Prompt finish(ThreadPool& pool, const char* name = "live audio");

  size_t samples() const { return pcm_.size(); }
  double seconds() const { return static_cast<double>(pcm_.size()) / 16000.0; }
  size_t frames_taken() const { return taken_; }
  // Whole frames that take() would give now.
  size_t frames_ready() const { return pcm_.size() / frame_ - taken_; }
  const std::vector<float>& pcm() const { return pcm_; }
  bool finished() const { return finished_; }

 private:
  Prompt rows_for(size_t first, size_t count, ThreadPool& pool);

  const Gemma4Weights& w_;
  size_t frame_;
  size_t block_frames_;  // frames per <|audio>...<audio|> block
  std::vector<float> pcm_;
  size_t taken_ = 0;  // frames turned into rows
  bool finished_ = false;
};

}  // namespace ug

#include <string>

#include "runtime/model_loader.h"
#include "runtime/multimodal.h"

namespace ug {

// A rendered prompt around one live audio input: the rows before its placeholder (BOS and the
// media before it included) and after it, so that before + the live rows + after equals
// build_multimodal_prompt with that audio given whole.
struct LivePromptParts {
  Prompt before, after;
};

// media: every input but the live one, in placeholder order; live_index: how many audio inputs
// come before the live one. Throws ug::Error when the text has no placeholder for it.
LivePromptParts split_live_prompt(const LoadedModel& m, ThreadPool& pool, const std::string& text,
                                  const std::vector<MediaInput>& media, size_t live_index,
                                  const MediaOptions& options);

}  // namespace ug
