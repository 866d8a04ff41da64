// WAV files for tests, built by hand: a RIFF header around sample bytes.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace ug::test {

// Floats in [-1, 1] as 16-bit little-endian PCM (x * 32768, rounded, clamped).
inline std::vector<uint8_t> pcm16_bytes(const std::vector<float>& pcm) {
  std::vector<uint8_t> out;
  out.reserve(pcm.size() * 2);
  for (float v : pcm) {
    const long s = std::lround(std::fmax(-32768.0, std::fmin(32767.0, v * 32768.0)));
    out.push_back(static_cast<uint8_t>(s & 0xff));
    out.push_back(static_cast<uint8_t>((s >> 8) & 0xff));
  }
  return out;
}

// data: interleaved samples of `bits` bits; tag 1 = integer PCM, 3 = float. metadata: a LIST
// chunk between fmt and data, as some writers put there.
inline std::vector<uint8_t> wav_bytes(const std::vector<uint8_t>& data, int channels, int rate,
                                      int bits = 16, int tag = 1, bool metadata = false) {
  std::vector<uint8_t> w;
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) w.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  auto put16 = [&](uint32_t v) {
    w.push_back(static_cast<uint8_t>(v));
    w.push_back(static_cast<uint8_t>(v >> 8));
  };
  auto tag4 = [&](const char* t) { w.insert(w.end(), t, t + 4); };
  tag4("RIFF");
  put32(static_cast<uint32_t>(4 + 24 + (metadata ? 14 : 0) + 8 + data.size()));
  tag4("WAVE");
  tag4("fmt ");
  put32(16);
  put16(static_cast<uint32_t>(tag));
  put16(static_cast<uint32_t>(channels));
  put32(static_cast<uint32_t>(rate));
  put32(static_cast<uint32_t>(rate * channels * bits / 8));
  put16(static_cast<uint32_t>(channels * bits / 8));
  put16(static_cast<uint32_t>(bits));
  if (metadata) {
    tag4("LIST");
    put32(6);
    w.insert(w.end(), {'I', 'N', 'F', 'O', 0, 0});
  }
  tag4("data");
  put32(static_cast<uint32_t>(data.size()));
  w.insert(w.end(), data.begin(), data.end());
  return w;
}

}  // namespace ug::test
