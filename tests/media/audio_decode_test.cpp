// Input spec §2.1: audio in every supported container and rate decodes to 16 kHz mono that
// matches sox's own 16 kHz conversion of the same speech, with the right length and gain.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "base/error.h"
#include "media/audio.h"
#include "media_test_util.h"
#include "shared_fixtures.h"

namespace ug {
namespace {

using test::sh;
using test::tmp;

struct Variant {
  const char* file;
  const char* make;
  double gain;        // expected amplitude relative to the reference
  double min_corr;    // lossy codecs and 8 kHz (no content above 4 kHz) correlate less
  int len_tolerance;  // samples at 16 kHz; codecs with priming/padding frames need more
};

const Variant kVariants[] = {
    {"s22k.wav", "cp speech.wav s22k.wav", 1.0, 0.999, 0},
    {"s8k.wav", "sox speech.wav -r 8000 s8k.wav", 1.0, 0.95, 0},
    {"s44k.wav", "sox speech.wav -r 44100 s44k.wav", 1.0, 0.999, 0},
    {"s48k.wav", "sox speech.wav -r 48000 s48k.wav", 1.0, 0.999, 0},
    {"s24bit.wav", "sox speech.wav -b 24 -r 44100 s24bit.wav", 1.0, 0.999, 0},
    {"st_dup.wav", "sox speech.wav -r 44100 st_dup.wav remix 1 1", 1.0, 0.999, 0},
    // Right channel silent: averaging the channels halves the amplitude.
    {"st_half.wav", "sox speech.wav -r 48000 st_half.wav remix 1 0", 0.5, 0.999, 0},
    {"s.flac", "sox speech.wav -r 48000 s.flac", 1.0, 0.999, 0},
    {"s.ogg", "sox speech.wav -r 44100 s.ogg", 1.0, 0.97, 640},
    {"s.opus", "ffmpeg -y -loglevel error -i speech.wav -c:a libopus -b:a 64k s.opus", 1.0, 0.95,
     640},
    // This MP3 is 5% quieter than its source: FFmpeg's own decoder gives the same level.
    {"s.mp3", "ffmpeg -y -loglevel error -i speech.wav -ar 44100 -c:a libmp3lame -b:a 128k s.mp3",
     0.95, 0.97, 1280},
};

// Best normalised cross-correlation of a against b over lags |lag| <= max_lag, with the
// least-squares gain of a relative to b at that lag.
struct Match {
  double corr = -1, gain = 0;
  int lag = 0;
};

Match best_match(const std::vector<float>& a, const std::vector<float>& b, int max_lag) {
  Match m;
  for (int lag = -max_lag; lag <= max_lag; ++lag) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < b.size(); ++i) {
      const long j = long(i) + lag;
      if (j < 0 || j >= long(a.size())) continue;
      ab += double(a[size_t(j)]) * b[i];
      aa += double(a[size_t(j)]) * a[size_t(j)];
      bb += double(b[i]) * b[i];
    }
    if (aa <= 0 || bb <= 0) continue;
    const double c = ab / std::sqrt(aa * bb);
    if (c > m.corr) m = {c, ab / bb, lag};
  }
  return m;
}

size_t read_count(const std::string& file) {
  std::ifstream in(tmp(file));
  size_t n = 0;
  in >> n;
  return n;
}

class AudioDecode : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(sh("espeak-ng -w speech.wav 'The quick brown fox jumps over the lazy dog. "
                 "Testing one two three.'"),
              0);
    // The reference: sox's high-quality conversion to 16 kHz float.
    ASSERT_EQ(sh("sox speech.wav -r 16000 -b 32 -e floating-point ref16k.wav"), 0);
    for (const Variant& v : kVariants) ASSERT_EQ(sh(v.make), 0) << v.make;
  }
};

TEST_F(AudioDecode, MatchesSoxReference) {
  const std::vector<float> ref = load_audio_file(tmp("ref16k.wav"));  // 16 kHz: no resampling
  ASSERT_GT(ref.size(), 16000u);
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.file);
    const std::vector<float> ours = load_audio_file(tmp(v.file));
    const Match m = best_match(ours, ref, 1200);
    const long dlen = long(ours.size()) - long(ref.size());
    std::printf("  audio %-12s %7zu samples (ref %zu, %+ld)  corr %.5f at lag %+d  gain %.4f\n",
                v.file, ours.size(), ref.size(), dlen, m.corr, m.lag, m.gain);
    EXPECT_GE(m.corr, v.min_corr);
    EXPECT_NEAR(m.gain, v.gain, 0.05 * v.gain);
    EXPECT_LE(std::abs(dlen), long(kAudioFrame) + v.len_tolerance);
    for (float x : ours) ASSERT_TRUE(std::isfinite(x) && std::fabs(x) <= 1.5f);
  }
}

TEST_F(AudioDecode, LengthIsCeilOfRateRatio) {
  // librosa's length rule: ceil(L * 16000 / rate), exactly, for every lossless rate.
  for (const char* f : {"s8k.wav", "s22k.wav", "s44k.wav", "s48k.wav", "s.flac"}) {
    SCOPED_TRACE(f);
    ASSERT_EQ(sh(std::string("soxi -s ") + f + " > " + f + ".n && soxi -r " + f + " > " + f + ".r"),
              0);
    const size_t n = read_count(std::string(f) + ".n");
    const size_t rate = read_count(std::string(f) + ".r");
    ASSERT_GT(n, 0u);
    EXPECT_EQ(load_audio_file(tmp(f)).size(), (n * 16000 + rate - 1) / rate);
  }
}

TEST(AudioFixture, Hello16kIs26Tokens) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  const std::string path = UG_SHARED_DIR "/fixtures/media/hello_16k.wav";
  const std::vector<float> pcm = load_audio_file(path);
  EXPECT_NEAR(double(pcm.size()) / 16000.0, 1.03, 0.005);  // 16454 samples per soxi
  EXPECT_EQ(audio_token_count(pcm.size()), 26);
  // 16 kHz mono 16-bit: no resampling, samples are exactly int16 / 32768.
  const std::vector<uint8_t> b = test::read_bytes(path);
  size_t pos = 12;
  while (pos + 8 <= b.size() && std::memcmp(&b[pos], "data", 4) != 0) {
    uint32_t len;
    std::memcpy(&len, &b[pos + 4], 4);
    pos += 8 + len + (len & 1);
  }
  ASSERT_LE(pos + 8, b.size());
  uint32_t len;
  std::memcpy(&len, &b[pos + 4], 4);
  ASSERT_EQ(len / 2, pcm.size());
  for (size_t i = 0; i < pcm.size(); ++i) {
    int16_t s;
    std::memcpy(&s, &b[pos + 8 + 2 * i], 2);
    ASSERT_EQ(pcm[i], float(s) / 32768.0f) << i;
  }
}

TEST_F(AudioDecode, Refusals) {
  const std::vector<uint8_t> wav = test::read_bytes(tmp("s44k.wav"));
  try {
    decode_audio(wav.data(), wav.size(), "speech.wav", 1.0);
    ADD_FAILURE() << "accepted over-long audio";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("audio 'speech.wav'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(decode_audio(wav.data(), 0, "empty.wav"), Error);
  EXPECT_THROW(load_audio_file(tmp("does_not_exist.wav")), Error);
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'};
  try {
    decode_audio(text.data(), text.size(), "notes.txt");
    ADD_FAILURE() << "accepted text";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a supported audio file"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ug
