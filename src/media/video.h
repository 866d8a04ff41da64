// Video decoding (FFmpeg): uniformly sampled RGB frames, their timestamps, and optionally the
// sound track at 16 kHz mono (input spec §3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "media/image.h"

namespace ug {

struct VideoFrames {
  std::vector<Image> frames;       // sampled frames, in order
  std::vector<double> timestamps;  // seconds, index / fps
  double fps = 0;                  // the stream's average rate, 24 when unknown
  int64_t total_frames = 0;        // T, the frames the stream holds
  std::vector<float> audio16k;     // the first sound track, 16 kHz mono, when asked for
  bool has_audio = false;          // the file has a sound track that was decoded
};

struct VideoOptions {
  int max_frames = 32;              // frames sampled: min(max_frames, T)
  bool want_audio = false;          // decode the sound track too
  int64_t max_pixels = 50'000'000;  // per frame, checked before decoding
  double max_audio_seconds = 3600;  // sound track longer than this is refused
};

// Frame indices int(i * T / n), i < n = min(max_frames, T) (transformers' uniform sampling).
std::vector<int64_t> sample_frame_indices(int64_t total_frames, int max_frames);

// Decodes a video held in memory; name is used in error messages ("video 'clip.mp4': ...").
VideoFrames decode_video(const uint8_t* data, size_t size, const std::string& name,
                         const VideoOptions& options = {});

// Decodes a video file.
VideoFrames load_video_file(const std::string& path, const VideoOptions& options = {});

// "MM:SS" for a frame timestamp as the reference prompt writes it: floor(t / 60) zero-padded to
// two digits (more when needed), floor(t mod 60) zero-padded to two.
std::string video_timestamp(double seconds);

}  // namespace ug
