// 16-bit PCM that arrives in pieces (a WebSocket, a pipe) decoded to the model's 16 kHz mono
// waveform as it comes, and the header of a WAV stream. The samples are those decode_audio gives
// for the same sound as a file: int16 / 32768, channels averaged, resampled by libsoxr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "media/resampler.h"

namespace ug {

class Pcm16Stream {
 public:
  // Interleaved little-endian int16 at sample_rate (1000..768000 Hz) with 1..16 channels; name
  // is the input named in errors.
  Pcm16Stream(int sample_rate, int channels, std::string name);

  // Decodes n more bytes and appends the 16 kHz samples to out. A sample frame split across two
  // calls is carried over.
  void push(const uint8_t* data, size_t n, std::vector<float>& out);
  // End of the stream: appends what the resampler still holds to out and returns the exact
  // 16 kHz length of the whole stream (ceil(input frames * 16000 / rate), as librosa gives), which
  // may differ from what was appended by a few samples.
  uint64_t finish(std::vector<float>& out);

  size_t carried_bytes() const { return carry_.size(); }
  uint64_t frames_in() const { return frames_in_; }
  int sample_rate() const { return rate_; }
  int channels() const { return channels_; }

 private:
  int rate_, channels_;
  std::string name_;
  Resampler16k resampler_;
  std::vector<uint8_t> carry_;  // the bytes of an incomplete sample frame
  std::vector<float> mono_;     // scratch
  uint64_t frames_in_ = 0;
};

struct WavStreamFormat {
  int sample_rate = 0;
  int channels = 0;
};

// Parses a RIFF/WAVE header at the start of a stream, up to the start of the `data` chunk's
// samples. Returns the header's length in bytes, or 0 when `n` bytes are not enough yet (call
// again with more). Throws ug::Error for anything but 16-bit integer PCM, or a malformed header.
size_t parse_wav_stream_header(const uint8_t* data, size_t n, WavStreamFormat& format,
                               const std::string& name);

}  // namespace ug
