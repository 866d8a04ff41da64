// Turns a rendered prompt with media placeholders into decoder rows: each <|image|>, <|audio|>
// or <|video|> placeholder takes the next input of its kind and is expanded exactly as the
// reference processor does (input spec §1.7, §2.4, §3.4), with the soft-token embeddings and the
// bidirectional image blocks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "runtime/prompt.h"
#include "runtime/model_loader.h"

namespace ug {

struct MediaInput {
  enum Kind { Image, Audio, Video };
  Kind kind = Image;
  std::vector<uint8_t> bytes;  // the encoded file (PNG, JPEG, WAV, MP3, MP4, ...)
  std::string name;            // for messages: a file name or "message 2, part 1"
};

struct MediaOptions {
  int image_tokens = 280;            // 70, 140, 280, 560 or 1120
  int video_frame_tokens = 70;
  int video_frames = 32;
  double audio_block_seconds = 30;   // longer audio is split into consecutive blocks
  bool video_audio = false;          // also feed a video's sound track as audio
  int64_t max_pixels = 50'000'000;   // refused before decoding
  double max_audio_seconds = 3600;
};

// text: the rendered chat (or raw prompt); special tokens are parsed. Throws ug::Error naming the
// input when a medium is bad, when placeholders and inputs do not match in number and kind, or
// when the model lacks the weights for a kind.
Prompt build_multimodal_prompt(const LoadedModel& model, ThreadPool& pool, const std::string& text,
                               const std::vector<MediaInput>& media, const MediaOptions& options);

// MediaInput::Kind from a file name's extension or a MIME type ("image/png", "audio/wav", ...).
MediaInput::Kind media_kind_from_mime(const std::string& mime);

}  // namespace ug
