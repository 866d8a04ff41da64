// Hostile input: truncated and corrupted files of every kind, empty input, files given to the
// wrong decoder, and headers claiming huge sizes. Every call must either succeed with a
// consistent result or throw ug::Error; nothing else (no crash, no other exception type).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <functional>

#include "base/error.h"
#include "media/audio.h"
#include "media/image.h"
#include "media/video.h"
#include "media_test_util.h"

namespace ug {
namespace {

using test::sh;
using test::tmp;

using Bytes = std::vector<uint8_t>;

enum class Kind { kImage, kAudio, kVideo };

struct Sample {
  const char* file;
  const char* make;
  Kind kind;
};

const Sample kSamples[] = {
    {"h.png", "convert -seed 9 -size 40x30 plasma: -depth 8 h.png", Kind::kImage},
    {"h.jpg", "convert h.png -quality 80 h.jpg", Kind::kImage},
    {"h.gif", "convert h.png h.gif", Kind::kImage},
    {"h.bmp", "convert h.png bmp3:h.bmp", Kind::kImage},
    {"h.webp", "convert h.png -quality 70 h.webp", Kind::kImage},
    {"hl.webp", "convert h.png -define webp:lossless=true hl.webp", Kind::kImage},
    {"h.wav", "sox -n -r 22050 -c 2 h.wav synth 0.3 sine 300", Kind::kAudio},
    {"h.flac", "sox -n -r 44100 h.flac synth 0.3 sine 300", Kind::kAudio},
    {"h.ogg", "sox -n -r 44100 h.ogg synth 0.3 sine 300", Kind::kAudio},
    {"h.mp3", "ffmpeg -y -loglevel error -f lavfi -i sine=duration=0.3 -c:a libmp3lame h.mp3",
     Kind::kAudio},
    {"h.opus", "ffmpeg -y -loglevel error -f lavfi -i sine=duration=0.3 -c:a libopus h.opus",
     Kind::kAudio},
    {"h.mp4",
     "ffmpeg -y -loglevel error -f lavfi -i testsrc=duration=0.5:size=64x48:rate=10 -f lavfi -i "
     "sine=duration=0.5 -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest h.mp4",
     Kind::kVideo},
    {"h.webm",
     "ffmpeg -y -loglevel error -f lavfi -i testsrc=duration=0.5:size=64x48:rate=10 -f lavfi -i "
     "sine=duration=0.5 -c:v libvpx -deadline realtime -c:a libvorbis -shortest h.webm",
     Kind::kVideo},
};

// "ok", "error: ..." or a test failure for anything that is not ug::Error.
std::string probe(Kind kind, const Bytes& b, const std::string& name) {
  try {
    if (kind == Kind::kImage) {
      const Image img = decode_image(b.data(), b.size(), name);
      if (img.width <= 0 || img.height <= 0 ||
          img.rgb.size() != size_t(img.width) * img.height * 3) {
        ADD_FAILURE() << name << ": inconsistent image";
      }
    } else if (kind == Kind::kAudio) {
      const std::vector<float> pcm = decode_audio(b.data(), b.size(), name);
      if (pcm.empty()) ADD_FAILURE() << name << ": empty audio returned";
    } else {
      VideoOptions opt;
      opt.want_audio = true;
      const VideoFrames v = decode_video(b.data(), b.size(), name, opt);
      if (v.frames.empty() || v.frames.size() != v.timestamps.size()) {
        ADD_FAILURE() << name << ": inconsistent video";
      }
      for (const Image& f : v.frames) {
        if (f.rgb.size() != size_t(f.width) * f.height * 3) ADD_FAILURE() << name << ": bad frame";
      }
    }
    return "ok";
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.find(name) == std::string::npos) ADD_FAILURE() << "message lacks the name: " << msg;
    return "error: " + msg;
  } catch (const std::exception& e) {
    ADD_FAILURE() << name << ": unexpected exception type: " << e.what();
  } catch (...) {
    ADD_FAILURE() << name << ": unexpected non-std exception";
  }
  return "bad";
}

class Hostile : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const Sample& s : kSamples) ASSERT_EQ(sh(s.make), 0) << s.make;
  }
};

TEST_F(Hostile, TruncatedFilesOfEveryKind) {
  int errors = 0, oks = 0;
  for (const Sample& s : kSamples) {
    const Bytes full = test::read_bytes(tmp(s.file));
    ASSERT_GT(full.size(), 64u) << s.file;
    ASSERT_EQ(probe(s.kind, full, s.file), "ok") << s.file;
    const size_t n = full.size();
    for (size_t len : {size_t(1), size_t(2), size_t(4), size_t(8), size_t(12), size_t(16),
                       size_t(32), size_t(64), n / 8, n / 4, n / 2, 3 * n / 4, n - 16, n - 1}) {
      const Bytes cut(full.begin(), full.begin() + long(len));
      const std::string r =
          probe(s.kind, cut, std::string(s.file) + "[:" + std::to_string(len) + "]");
      (r == "ok" ? oks : errors)++;
    }
  }
  std::printf("  truncated: %d refused with ug::Error, %d decoded (partial data)\n", errors, oks);
  EXPECT_GT(errors, 0);
}

// stb reads zeros past the end of a BMP or of a GIF's first frame, so such a cut file decoded
// without an error (issue 12). No truncation that loses pixel data decodes now: only a cut inside
// the end marker (PNG's 12-byte IEND chunk, GIF's 1-byte trailer) may.
TEST_F(Hostile, TruncatedImagesAreRefused) {
  for (const char* file : {"h.bmp", "h.png", "h.jpg", "h.gif", "h.webp", "hl.webp"}) {
    const Bytes full = test::read_bytes(tmp(file));
    const std::string f = file;
    const size_t end = full.size() - (f == "h.gif" ? 1 : f == "h.png" ? 12 : 0);
    for (size_t len = 1; len < end; ++len) {
      const Bytes cut(full.begin(), full.begin() + long(len));
      const std::string name = std::string(file) + "[:" + std::to_string(len) + "]";
      EXPECT_NE(probe(Kind::kImage, cut, name), "ok") << name;
    }
  }
  // A BMP whose pixel offset points past the end.
  Bytes bmp = test::read_bytes(tmp("h.bmp"));
  bmp[10] = 0xFF, bmp[11] = 0xFF;
  EXPECT_NE(probe(Kind::kImage, bmp, "offset.bmp").find("truncated BMP"), std::string::npos);
}

TEST_F(Hostile, CorruptedFilesOfEveryKind) {
  uint32_t seed = 12345;
  auto rnd = [&] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  int errors = 0, oks = 0;
  for (const Sample& s : kSamples) {
    const Bytes full = test::read_bytes(tmp(s.file));
    const int variants = s.kind == Kind::kVideo ? 12 : 24;
    for (int v = 0; v < variants; ++v) {
      Bytes b = full;
      const int flips = 1 + int(rnd() % 16);
      for (int k = 0; k < flips; ++k) b[rnd() % b.size()] = uint8_t(rnd());
      const std::string r = probe(s.kind, b, std::string(s.file) + "#" + std::to_string(v));
      (r == "ok" ? oks : errors)++;
    }
  }
  std::printf("  corrupted: %d refused with ug::Error, %d decoded\n", errors, oks);
}

TEST_F(Hostile, EmptyAndWrongKind) {
  const Bytes empty;
  for (Kind k : {Kind::kImage, Kind::kAudio, Kind::kVideo}) {
    EXPECT_NE(probe(k, empty, "empty.bin").find("empty"), std::string::npos);
  }
  // Every file handed to the decoders of the other kinds: a clean error, never a crash.
  for (const Sample& s : kSamples) {
    const Bytes b = test::read_bytes(tmp(s.file));
    for (Kind k : {Kind::kImage, Kind::kAudio, Kind::kVideo}) {
      if (k == s.kind) continue;
      const std::string r = probe(k, b, std::string("as-other-") + s.file);
      // Containers FFmpeg understands may hold sound but never pictures, and vice versa; an
      // image decoder must never accept a sound file.
      if (k == Kind::kImage) {
        EXPECT_EQ(r.rfind("error", 0), 0u) << s.file << ": " << r;
      }
      if (k == Kind::kAudio && s.kind == Kind::kImage) {
        EXPECT_EQ(r.rfind("error", 0), 0u) << r;
      }
    }
  }
  const std::string text = "<html>not media</html>\n";
  const Bytes tb(text.begin(), text.end());
  EXPECT_NE(probe(Kind::kImage, tb, "page.png").find("not a supported image format"),
            std::string::npos);
}

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void put32be(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}

TEST_F(Hostile, HugeHeadersRefusedBeforeDecoding) {
  // A PNG whose IHDR (valid CRC) claims 100000 x 100000 RGB pixels, followed by a tiny IDAT.
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr = {'I', 'H', 'D', 'R'};
  put32be(ihdr, 100000);
  put32be(ihdr, 100000);
  for (uint8_t v : {8, 2, 0, 0, 0}) ihdr.push_back(v);
  put32be(png, 13);
  png.insert(png.end(), ihdr.begin(), ihdr.end());
  put32be(png, crc32(ihdr.data(), ihdr.size()));
  Bytes idat = {'I', 'D', 'A', 'T', 0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01};
  put32be(png, uint32_t(idat.size() - 4));
  png.insert(png.end(), idat.begin(), idat.end());
  put32be(png, crc32(idat.data(), idat.size()));
  const std::string r = probe(Kind::kImage, png, "huge.png");
  EXPECT_NE(r.find("100000x100000"), std::string::npos) << r;
  EXPECT_NE(r.find("over the limit"), std::string::npos) << r;

  // The same claim patched into real JPEG (SOF0), BMP and GIF headers.
  Bytes jpg = test::read_bytes(tmp("h.jpg"));
  bool patched = false;
  for (size_t i = 2; i + 9 < jpg.size(); ++i) {
    if (jpg[i] == 0xFF && (jpg[i + 1] == 0xC0 || jpg[i + 1] == 0xC2)) {
      jpg[i + 5] = 0xEA, jpg[i + 6] = 0x60;  // height 60000
      jpg[i + 7] = 0xEA, jpg[i + 8] = 0x60;  // width 60000
      patched = true;
      break;
    }
  }
  ASSERT_TRUE(patched);
  EXPECT_NE(probe(Kind::kImage, jpg, "huge.jpg").find("over the limit"), std::string::npos);

  Bytes bmp = test::read_bytes(tmp("h.bmp"));
  const uint32_t big = 100000;
  std::memcpy(&bmp[18], &big, 4);  // biWidth
  std::memcpy(&bmp[22], &big, 4);  // biHeight
  EXPECT_NE(probe(Kind::kImage, bmp, "huge.bmp").find("over the limit"), std::string::npos);

  Bytes gif = test::read_bytes(tmp("h.gif"));
  gif[6] = gif[7] = gif[8] = gif[9] = 0xFF;  // logical screen 65535 x 65535
  const std::string rg = probe(Kind::kImage, gif, "huge.gif");
  EXPECT_EQ(rg.rfind("error", 0), 0u) << rg;

  // A lossless WebP whose VP8L header claims 16384 x 16384.
  Bytes webp = test::read_bytes(tmp("hl.webp"));
  for (size_t i = 12; i + 9 < webp.size(); ++i) {
    if (std::memcmp(&webp[i], "VP8L", 4) == 0 && webp[i + 8] == 0x2f) {
      const uint32_t bits = (16383u) | (16383u << 14);  // width-1, height-1; alpha/version 0
      std::memcpy(&webp[i + 9], &bits, 4);
      break;
    }
  }
  const std::string rw = probe(Kind::kImage, webp, "huge.webp");
  EXPECT_NE(rw.find("over the limit"), std::string::npos) << rw;
}

}  // namespace
}  // namespace ug
