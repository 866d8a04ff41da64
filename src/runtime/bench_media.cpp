// Synthetic media for the benchmark's time-to-first-token tests.
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "runtime/bench_runner.h"

namespace ug {

namespace {

void put16(std::vector<uint8_t>& v, uint32_t x) {
  v.push_back(x & 0xff);
  v.push_back((x >> 8) & 0xff);
}
void put32(std::vector<uint8_t>& v, uint32_t x) {
  put16(v, x & 0xffff);
  put16(v, x >> 16);
}

}  // namespace

std::vector<uint8_t> synthetic_bmp(int width, int height) {
  if (width <= 0 || height <= 0 || int64_t(width) * height > 50'000'000)
    fail("synthetic image: bad size ", width, "x", height);
  const uint32_t stride = (3u * width + 3) & ~3u, data = stride * height;
  std::vector<uint8_t> v;
  v.reserve(54 + data);
  v.push_back('B');
  v.push_back('M');
  put32(v, 54 + data);
  put32(v, 0);
  put32(v, 54);
  put32(v, 40);  // BITMAPINFOHEADER
  put32(v, width);
  put32(v, height);  // positive: rows bottom-up
  put16(v, 1);
  put16(v, 24);
  put32(v, 0);  // BI_RGB
  put32(v, data);
  put32(v, 2835);
  put32(v, 2835);
  put32(v, 0);
  put32(v, 0);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      v.push_back(static_cast<uint8_t>((x * 255) / width));                    // B
      v.push_back(static_cast<uint8_t>((y * 255) / height));                   // G
      v.push_back(static_cast<uint8_t>(((x ^ y) * 7 + (x * y) / 13) & 0xff));  // R
    }
    for (uint32_t p = 3u * width; p < stride; ++p) v.push_back(0);
  }
  return v;
}

std::vector<uint8_t> synthetic_wav(double seconds) {
  if (!(seconds > 0) || seconds > 3600) fail("synthetic audio: bad length ", seconds, " s");
  const uint32_t rate = 16000, n = static_cast<uint32_t>(std::lround(seconds * rate));
  std::vector<uint8_t> v;
  v.reserve(44 + 2 * n);
  for (char c : std::string("RIFF")) v.push_back(c);
  put32(v, 36 + 2 * n);
  for (char c : std::string("WAVEfmt ")) v.push_back(c);
  put32(v, 16);
  put16(v, 1);  // PCM
  put16(v, 1);  // mono
  put32(v, rate);
  put32(v, rate * 2);
  put16(v, 2);
  put16(v, 16);
  for (char c : std::string("data")) v.push_back(c);
  put32(v, 2 * n);
  uint32_t lcg = 12345;
  for (uint32_t i = 0; i < n; ++i) {
    lcg = lcg * 1664525u + 1013904223u;
    const double noise = (static_cast<double>(lcg >> 8) / 16777216.0 - 0.5) * 0.1;
    const double s = 0.4 * std::sin(2 * M_PI * 440.0 * i / rate) + noise;
    put16(v, static_cast<uint16_t>(static_cast<int16_t>(std::lround(s * 32767))));
  }
  return v;
}

}  // namespace ug
