// Media given on the command line (--image/--audio/--video, /image in chat), read into memory in
// the order given, plus the options that shape their prompt expansion.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "runtime/multimodal.h"
#include "text/chat_format.h"

namespace ug::cli {

MediaInput read_media_file(const std::string& path, MediaInput::Kind kind);

struct MediaArgs {
  std::vector<std::string> images, audios, videos;
  int image_tokens = 280;
  double audio_block_seconds = 30;
  bool video_audio = false;

  void add_to(CLI::App* cmd);
  // The files in the order their flags appeared on the command line.
  std::vector<MediaInput> read_in_order(const CLI::App* cmd) const;
  MediaOptions options() const;
};

// The chat content part that stands for a medium.
ContentPart media_part(MediaInput::Kind kind);

}  // namespace ug::cli
