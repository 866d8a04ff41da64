// Live audio input: PCM16 that arrives in pieces decodes as the whole file does (media/pcm_stream),
// WAV stream headers, and the energy VAD's turn boundaries (media/energy_vad).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "../wav_bytes.h"
#include "base/error.h"
#include "media/audio.h"
#include "media/energy_vad.h"
#include "media/pcm_stream.h"

namespace ug {
namespace {

// Interleaved int16 little-endian: channel c of frame i is a tone of its own.
std::vector<uint8_t> pcm16(size_t frames, int channels, int rate) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c) {
      const double v = 0.4 * std::sin(2 * M_PI * (300.0 + 200 * c) * i / rate);
      const auto s = static_cast<uint16_t>(static_cast<int16_t>(std::lround(v * 32767)));
      out.push_back(static_cast<uint8_t>(s));
      out.push_back(static_cast<uint8_t>(s >> 8));
    }
  return out;
}

std::vector<uint8_t> wav(const std::vector<uint8_t>& data, int channels, int rate, int bits = 16,
                         int tag = 1) {
  return test::wav_bytes(data, channels, rate, bits, tag, true);
}

// Decodes `bytes` in pieces of `piece` bytes (odd ones split samples) as a stream does.
std::vector<float> stream_decode(const std::vector<uint8_t>& bytes, int rate, int channels,
                                 size_t piece) {
  Pcm16Stream s(rate, channels, "test");
  std::vector<float> out;
  for (size_t i = 0; i < bytes.size(); i += piece)
    s.push(bytes.data() + i, std::min(piece, bytes.size() - i), out);
  const uint64_t exact = s.finish(out);
  out.resize(exact, 0.0f);
  return out;
}

TEST(Pcm16Stream, PiecesDecodeAsTheWholeFileAt16kHz) {
  const std::vector<uint8_t> data = pcm16(16000, 1, 16000);
  const std::vector<uint8_t> file = wav(data, 1, 16000);
  const std::vector<float> whole = decode_audio(file.data(), file.size(), "whole.wav");
  for (size_t piece : {1u, 3u, 641u, 32000u})
    EXPECT_EQ(stream_decode(data, 16000, 1, piece), whole) << "pieces of " << piece << " bytes";
}

TEST(Pcm16Stream, StereoAt24kHzMixesAndResamplesAsTheFileDecoder) {
  const std::vector<uint8_t> data = pcm16(24000 + 7, 2, 24000);
  const std::vector<uint8_t> file = wav(data, 2, 24000);
  const std::vector<float> whole = decode_audio(file.data(), file.size(), "whole.wav");
  const std::vector<float> streamed = stream_decode(data, 24000, 2, 4801);
  ASSERT_EQ(streamed.size(), whole.size());
  float worst = 0;
  for (size_t i = 0; i < whole.size(); ++i)
    worst = std::max(worst, std::abs(streamed[i] - whole[i]));
  EXPECT_LT(worst, 1e-5f);  // libsoxr's chunking may round differently; not audibly
}

TEST(Pcm16Stream, RefusesUnusableFormats) {
  EXPECT_THROW(Pcm16Stream(500, 1, "x"), Error);
  EXPECT_THROW(Pcm16Stream(16000, 0, "x"), Error);
  EXPECT_THROW(Pcm16Stream(16000, 17, "x"), Error);
}

TEST(WavStreamHeader, NeedsMoreBytesThenParses) {
  const std::vector<uint8_t> file = wav(pcm16(10, 2, 22050), 2, 22050);
  const size_t header = file.size() - 40;
  WavStreamFormat f;
  for (size_t n = 0; n < header; ++n)
    EXPECT_EQ(parse_wav_stream_header(file.data(), n, f, "s"), 0u) << n;
  EXPECT_EQ(parse_wav_stream_header(file.data(), file.size(), f, "s"), header);
  EXPECT_EQ(f.sample_rate, 22050);
  EXPECT_EQ(f.channels, 2);
}

TEST(WavStreamHeader, RefusesWhatIsNotPcm16) {
  WavStreamFormat f;
  const std::vector<uint8_t> u8 = wav(std::vector<uint8_t>(10), 1, 16000, 8);
  EXPECT_THROW(parse_wav_stream_header(u8.data(), u8.size(), f, "s"), Error);
  const std::vector<uint8_t> flt = wav(std::vector<uint8_t>(16), 1, 16000, 32, 3);
  EXPECT_THROW(parse_wav_stream_header(flt.data(), flt.size(), f, "s"), Error);
  const std::string junk = "RIFX....WAVEfmt ";
  EXPECT_THROW(
      parse_wav_stream_header(reinterpret_cast<const uint8_t*>(junk.data()), junk.size(), f, "s"),
      Error);
}

std::vector<float> tone(double seconds, float amp) {
  std::vector<float> v(static_cast<size_t>(seconds * 16000));
  for (size_t i = 0; i < v.size(); ++i) v[i] = amp * std::sin(2 * M_PI * 200 * i / 16000.0);
  return v;
}

TEST(EnergyVad, FindsTheStartAndTheEndAfterTheSilence) {
  VadOptions o;
  o.threshold = 0.5;  // -35 dBFS
  o.silence_ms = 300;
  EnergyVad vad(o);
  std::vector<float> a = tone(0.5, 0.0005f);  // -69 dBFS: quiet room
  std::vector<float> speech = tone(1.0, 0.2f);
  a.insert(a.end(), speech.begin(), speech.end());
  a.resize(a.size() + 16000, 0.0f);  // 1 s of silence
  std::vector<EnergyVad::Event> ev;
  for (size_t i = 0; i < a.size(); i += 1000) {  // any split gives the same events
    auto more = vad.push(a.data() + i, std::min<size_t>(1000, a.size() - i));
    ev.insert(ev.end(), more.begin(), more.end());
  }
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_TRUE(ev[0].start);
  EXPECT_EQ(ev[0].sample, 8000u);  // 0.5 s, on a 20 ms window boundary
  EXPECT_FALSE(ev[1].start);
  EXPECT_EQ(ev[1].sample, 24000u + 300 * 16);  // speech ended at 1.5 s, + the silence
  EXPECT_FALSE(vad.speaking());
}

TEST(EnergyVad, ShortPausesDoNotEndSpeechAndTheThresholdMatters) {
  VadOptions o;
  o.silence_ms = 400;
  EnergyVad vad(o);
  std::vector<float> a = tone(0.5, 0.2f);
  a.resize(a.size() + 16 * 200, 0.0f);  // a 200 ms pause
  std::vector<float> b = tone(0.5, 0.2f);
  a.insert(a.end(), b.begin(), b.end());
  EXPECT_EQ(vad.push(a.data(), a.size()).size(), 1u);  // one start, no stop
  EXPECT_TRUE(vad.speaking());
  // -40 dBFS is speech at threshold 0.3 (-45 dBFS) but not at 0.5 (-35 dBFS).
  std::vector<float> quiet = tone(0.2, 0.01f * std::sqrt(2.0f));
  VadOptions lo, hi;
  lo.threshold = 0.3;
  hi.threshold = 0.5;
  EnergyVad vlo(lo), vhi(hi);
  EXPECT_EQ(vlo.push(quiet.data(), quiet.size()).size(), 1u);
  EXPECT_TRUE(vhi.push(quiet.data(), quiet.size()).empty());
  EXPECT_THROW(EnergyVad(VadOptions{1.5, 500}), Error);
}

}  // namespace
}  // namespace ug
