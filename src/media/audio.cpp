#include "media/audio.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>

#include "base/error.h"
#include "media/ffmpeg_io.h"
#include "media/resampler.h"

namespace ug {
namespace {

// libsndfile reads from memory through these callbacks.
struct MemReader {
  const uint8_t* data;
  sf_count_t size;
  sf_count_t pos;
};

sf_count_t vio_len(void* u) { return static_cast<MemReader*>(u)->size; }

sf_count_t vio_seek(sf_count_t off, int whence, void* u) {
  auto* m = static_cast<MemReader*>(u);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
  const sf_count_t p = base + off;
  if (p < 0 || p > m->size) return -1;
  m->pos = p;
  return p;
}

sf_count_t vio_read(void* ptr, sf_count_t n, void* u) {
  auto* m = static_cast<MemReader*>(u);
  const sf_count_t k = std::max<sf_count_t>(0, std::min(n, m->size - m->pos));
  if (k > 0) std::memcpy(ptr, m->data + m->pos, size_t(k));
  m->pos += k;
  return k;
}

sf_count_t vio_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t vio_tell(void* u) { return static_cast<MemReader*>(u)->pos; }

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail("audio '", path, "': cannot open the file");
  const std::streamoff n = in.tellg();
  if (n < 0) fail("audio '", path, "': cannot read the file size");
  if (n > (std::streamoff(4) << 30)) fail("audio '", path, "': file of ", n, " bytes is too large");
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  in.seekg(0);
  if (n > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), n)) {
    fail("audio '", path, "': read error");
  }
  return bytes;
}

}  // namespace

std::vector<float> decode_audio(const uint8_t* data, size_t size, const std::string& name,
                                double max_seconds) {
  if (size == 0 || data == nullptr) fail("audio '", name, "': file is empty");
  // Ogg (Vorbis, Opus) goes to FFmpeg: libsndfile 1.2.0 leaks its Vorbis state on every Ogg file
  // whose Vorbis headers are corrupt (about 6 KB a request, found by fuzz/audio.cpp).
  if (size >= 4 && std::memcmp(data, "OggS", 4) == 0)
    return decode_av_sound(data, size, "audio", name, max_seconds);
  MemReader mem{data, sf_count_t(size), 0};
  SF_VIRTUAL_IO vio{vio_len, vio_seek, vio_read, vio_write, vio_tell};
  SF_INFO info;
  std::memset(&info, 0, sizeof info);
  std::unique_ptr<SNDFILE, int (*)(SNDFILE*)> sf(sf_open_virtual(&vio, SFM_READ, &info, &mem),
                                                 sf_close);
  if (!sf) {
    fail("audio '", name, "': not a supported audio file (expected WAV, FLAC, Ogg Vorbis, Opus ",
         "or MP3): ", sf_strerror(nullptr));
  }
  if (info.channels < 1 || info.channels > 256) {
    fail("audio '", name, "': ", info.channels, " channels (expected 1..256)");
  }
  if (info.samplerate < 1000 || info.samplerate > 768000) {
    fail("audio '", name, "': sample rate ", info.samplerate, " Hz (expected 1000..768000)");
  }
  // Checked from the header first; the loop re-checks because some headers under-report.
  const double max_frames_d = max_seconds * info.samplerate;
  if (info.frames > 0 && double(info.frames) > max_frames_d) {
    fail("audio '", name, "': ", double(info.frames) / info.samplerate, " s is longer than the ",
         max_seconds, " s limit");
  }
  // Normalised float reads give int16 / 32768, the scale the reference loader uses.
  sf_command(sf.get(), SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);

  Resampler16k rs(info.samplerate, name);
  std::vector<float> out;
  if (info.frames > 0) {
    out.reserve(size_t(double(info.frames) * kAudioSampleRate / info.samplerate) + 1024);
  }
  constexpr sf_count_t kChunk = 8192;  // frames per read
  std::vector<float> buf(size_t(kChunk) * info.channels), mono(kChunk);
  sf_count_t total = 0;
  for (;;) {
    const sf_count_t got = sf_readf_float(sf.get(), buf.data(), kChunk);
    if (got <= 0) break;
    total += got;
    if (double(total) > max_frames_d) {
      fail("audio '", name, "': longer than the ", max_seconds, " s limit");
    }
    const int ch = info.channels;
    for (sf_count_t i = 0; i < got; ++i) {
      float s = 0;
      for (int c = 0; c < ch; ++c) s += buf[size_t(i) * ch + c];
      mono[i] = ch == 1 ? s : s / float(ch);
    }
    rs.push(mono.data(), size_t(got), out);
  }
  if (sf_error(sf.get()) != SF_ERR_NO_ERROR) {
    fail("audio '", name, "': corrupt data after ", total, " frames: ", sf_strerror(sf.get()));
  }
  if (total == 0) fail("audio '", name, "': contains no samples");
  rs.finish(out);
  return out;
}

std::vector<float> load_audio_file(const std::string& path, double max_seconds) {
  const std::vector<uint8_t> bytes = read_file(path);
  return decode_audio(bytes.data(), bytes.size(), path, max_seconds);
}

int audio_token_count(size_t samples) { return int((samples + kAudioFrame - 1) / kAudioFrame); }

std::vector<float> audio_frames(const std::vector<float>& pcm16k, int frame) {
  if (frame <= 0) fail("audio frames: frame size ", frame, " must be > 0");
  const size_t n = (pcm16k.size() + size_t(frame) - 1) / size_t(frame);
  std::vector<float> out(n * size_t(frame), 0.0f);  // zero padding lives in the last frame
  std::copy(pcm16k.begin(), pcm16k.end(), out.begin());
  return out;
}

std::vector<std::pair<size_t, size_t>> split_audio(size_t n_samples, double max_seconds) {
  const double max_samples = std::floor(max_seconds * kAudioSampleRate);
  if (!(max_samples >= kAudioFrame)) {
    fail("audio split: pieces of ", max_seconds, " s are shorter than one ", kAudioFrame,
         "-sample frame");
  }
  // Whole frames per piece, so each piece's tokens are the same as the whole clip's.
  const size_t piece = size_t(max_samples / kAudioFrame) * kAudioFrame;
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t b = 0; b < n_samples; b += piece) out.emplace_back(b, std::min(n_samples, b + piece));
  return out;
}

}  // namespace ug
