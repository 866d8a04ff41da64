#include "media/pcm_stream.h"

#include <cstring>

#include "base/error.h"
#include "media/audio.h"

namespace ug {

namespace {

uint32_t le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24; }
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

// A header longer than this is not a WAV stream we read (chunks before `data` are metadata).
constexpr size_t kMaxWavHeader = 1 << 20;

}  // namespace

Pcm16Stream::Pcm16Stream(int sample_rate, int channels, std::string name)
    : rate_(sample_rate),
      channels_(channels),
      name_(std::move(name)),
      resampler_(sample_rate >= 1000 && sample_rate <= 768000 ? sample_rate : 16000, name_) {
  if (sample_rate < 1000 || sample_rate > 768000)
    fail("audio '", name_, "': sample rate ", sample_rate, " Hz (expected 1000..768000)");
  if (channels < 1 || channels > 16)
    fail("audio '", name_, "': ", channels, " channels (expected 1..16)");
}

void Pcm16Stream::push(const uint8_t* data, size_t n, std::vector<float>& out) {
  const size_t frame_bytes = 2 * static_cast<size_t>(channels_);
  // Whole frames from the carried bytes plus the new ones, without copying the bulk.
  std::vector<uint8_t> head;
  if (!carry_.empty()) {
    const size_t need = frame_bytes - carry_.size();
    if (n < need) {
      carry_.insert(carry_.end(), data, data + n);
      return;
    }
    head = carry_;
    head.insert(head.end(), data, data + need);
    carry_.clear();
    data += need;
    n -= need;
  }
  const size_t frames = n / frame_bytes;
  mono_.resize(frames + (head.empty() ? 0 : 1));
  auto mix = [&](const uint8_t* p) {
    float s = 0;
    for (int c = 0; c < channels_; ++c)
      s += static_cast<float>(static_cast<int16_t>(le16(p + 2 * c))) / 32768.0f;
    return channels_ == 1 ? s : s / static_cast<float>(channels_);  // as decode_audio mixes
  };
  size_t k = 0;
  if (!head.empty()) mono_[k++] = mix(head.data());
  for (size_t i = 0; i < frames; ++i) mono_[k++] = mix(data + i * frame_bytes);
  carry_.assign(data + frames * frame_bytes, data + n);
  frames_in_ += k;
  resampler_.push(mono_.data(), k, out);
}

uint64_t Pcm16Stream::finish(std::vector<float>& out) {
  std::vector<float> tail;
  resampler_.finish(tail);  // drains the filter; its length fix-up is ours to do below
  out.insert(out.end(), tail.begin(), tail.end());
  return (frames_in_ * uint64_t(kAudioSampleRate) + uint64_t(rate_) - 1) / uint64_t(rate_);
}

size_t parse_wav_stream_header(const uint8_t* d, size_t n, WavStreamFormat& format,
                               const std::string& name) {
  if (n < 12) return 0;
  if (std::memcmp(d, "RIFF", 4) != 0 || std::memcmp(d + 8, "WAVE", 4) != 0)
    fail("audio '", name, "': not a RIFF/WAVE stream");
  size_t pos = 12;
  bool have_fmt = false;
  for (;;) {
    if (pos > kMaxWavHeader) fail("audio '", name, "': no data chunk in the first 1 MiB");
    if (n < pos + 8) return 0;
    const uint32_t size = le32(d + pos + 4);
    if (std::memcmp(d + pos, "data", 4) == 0) {
      if (!have_fmt) fail("audio '", name, "': the data chunk comes before the fmt chunk");
      return pos + 8;
    }
    if (std::memcmp(d + pos, "fmt ", 4) == 0) {
      if (size < 16 || size > 1024) fail("audio '", name, "': fmt chunk of ", size, " bytes");
      if (n < pos + 8 + size) return 0;
      const uint8_t* f = d + pos + 8;
      const uint16_t tag = le16(f);
      const int channels = le16(f + 2);
      const uint32_t rate = le32(f + 4);
      const uint16_t bits = le16(f + 14);
      // 1: integer PCM; 0xFFFE: WAVE_FORMAT_EXTENSIBLE, whose sub-format we take to be PCM.
      if ((tag != 1 && tag != 0xFFFE) || bits != 16)
        fail("audio '", name, "': a WAV stream must be 16-bit integer PCM (format ", tag, ", ",
             bits, " bits); convert it, or pass the file by name");
      if (channels < 1 || channels > 16)
        fail("audio '", name, "': ", channels, " channels (expected 1..16)");
      if (rate < 1000 || rate > 768000)
        fail("audio '", name, "': sample rate ", rate, " Hz (expected 1000..768000)");
      format.channels = channels;
      format.sample_rate = static_cast<int>(rate);
      have_fmt = true;
    }
    pos += 8 + size + (size & 1);  // chunks are word-aligned
  }
}

}  // namespace ug
