#include "cli/media_args.h"

#include <filesystem>
#include <fstream>

#include "base/error.h"

namespace ug::cli {

MediaInput read_media_file(const std::string& path, MediaInput::Kind kind) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(path, ": no such file");
  auto size = std::filesystem::file_size(path, ec);
  if (ec) fail(path, ": cannot read its size");
  constexpr uintmax_t kMaxBytes = 4ull << 30;
  if (size > kMaxBytes) fail(path, ": ", size, " bytes is larger than the 4 GiB media limit");
  if (size == 0) fail(path, ": the file is empty");
  MediaInput m;
  m.kind = kind;
  m.name = path;
  m.bytes.resize(size);
  std::ifstream f(path, std::ios::binary);
  if (!f.read(reinterpret_cast<char*>(m.bytes.data()), static_cast<std::streamsize>(size)))
    fail(path, ": cannot read the file");
  return m;
}

void MediaArgs::add_to(CLI::App* cmd) {
  cmd->add_option("--image", images, "image file (PNG, JPEG, WebP, GIF, BMP); repeatable");
  cmd->add_option("--audio", audios,
                  "audio file (WAV, FLAC, OGG, Opus, MP3); repeatable; `-` (run only): raw 16 kHz "
                  "mono PCM16 or a PCM16 WAV stream from standard input, prefilled as it arrives");
  cmd->add_option("--video", videos, "video file (any container FFmpeg reads); repeatable");
  cmd->add_option("--image-tokens", image_tokens, "soft tokens per image: 70, 140, 280, 560, 1120")
      ->check(CLI::IsMember({70, 140, 280, 560, 1120}))
      ->capture_default_str();
  cmd->add_option("--audio-block-seconds", audio_block_seconds,
                  "longer audio is split into blocks of at most this many seconds")
      ->check(CLI::Range(1.0, 30.0))
      ->capture_default_str();
  cmd->add_flag("--video-audio", video_audio, "also give the model each video's sound track");
}

std::vector<MediaInput> MediaArgs::read_in_order(const CLI::App* cmd) const {
  std::vector<MediaInput> out;
  size_t next[3] = {0, 0, 0};
  const std::vector<std::string>* lists[3] = {&images, &audios, &videos};
  const char* names[3] = {"--image", "--audio", "--video"};
  for (const CLI::Option* opt : cmd->parse_order())
    for (int k = 0; k < 3; ++k)
      if (opt->check_name(names[k]) && next[k] < lists[k]->size()) {
        const std::string& path = (*lists[k])[next[k]++];
        if (k == MediaInput::Audio && path == "-") {
          // Live audio from standard input: a marker without bytes (cli/run_live.cpp).
          MediaInput live;
          live.kind = MediaInput::Audio;
          live.name = "-";
          out.push_back(std::move(live));
          continue;
        }
        out.push_back(read_media_file(path, MediaInput::Kind(k)));
      }
  return out;
}

MediaOptions MediaArgs::options() const {
  MediaOptions o;
  o.image_tokens = image_tokens;
  o.audio_block_seconds = audio_block_seconds;
  o.video_audio = video_audio;
  return o;
}

ContentPart media_part(MediaInput::Kind kind) {
  ContentPart p;
  p.kind = kind == MediaInput::Image   ? ContentPart::Image
           : kind == MediaInput::Audio ? ContentPart::Audio
                                       : ContentPart::Video;
  return p;
}

}  // namespace ug::cli
