// Inputs the fuzzers (fuzz/) found to crash or leak, rebuilt from files made by third-party tools
// so the test carries no binary blobs. Under the sanitizer build (scripts/test-sanitizers.sh)
// these also catch a return of the memory error or leak itself.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "base/error.h"
#include "media/audio.h"
#include "media/image.h"
#include "media_test_util.h"

namespace ug {
namespace {

using test::sh;
using test::tmp;
using Bytes = std::vector<uint8_t>;

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// stb_image 2.27 writes a JPEG Huffman table's code lengths into a 257-entry array without
// checking that the 16 code counts add up to at most 256: 16 x 255 overran it by 3.8 KB.
TEST(FuzzRegressions, JpegHuffmanTableWithTooManyCodes) {
  ASSERT_EQ(sh("convert -size 24x16 gradient:red-blue -quality 90 dht.jpg"), 0);
  Bytes jpg = test::read_bytes(tmp("dht.jpg"));
  ASSERT_EQ(error_of([&] { decode_image(jpg.data(), jpg.size(), "dht.jpg"); }), "");
  size_t dht = 0;
  for (size_t i = 2; i + 21 < jpg.size() && !dht; ++i)
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC4) dht = i;
  ASSERT_NE(dht, 0u) << "no DHT segment";
  for (size_t k = 0; k < 16; ++k) jpg[dht + 5 + k] = 0xFF;  // after marker, length, class/id
  const std::string e = error_of([&] { decode_image(jpg.data(), jpg.size(), "dht.jpg"); });
  EXPECT_NE(e.find("image 'dht.jpg': corrupt JPEG: a Huffman table"), std::string::npos) << e;
  EXPECT_NE(e.find("4080 codes"), std::string::npos) << e;
}

// A PNG header claiming 0xF1F1F1F1 x 0xF1F1F1F1 pixels: the pixel-limit check multiplied the
// two in int64_t, which overflows (undefined behaviour) before the comparison.
TEST(FuzzRegressions, PngSizeWhoseProductOverflows) {
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  for (int i = 0; i < 8; ++i) png.push_back(0xF1);
  for (uint8_t v : {8, 2, 0, 0, 0, 0, 0, 0, 0}) png.push_back(v);  // depth, colour, ..., CRC
  const std::string e = error_of([&] { decode_image(png.data(), png.size(), "wide.png"); });
  EXPECT_NE(e.find("4059165169x4059165169 = 16476821869222798561 pixels is over the limit"),
            std::string::npos)
      << e;
}

// libsndfile 1.2.0 leaked its Vorbis state (5.8 KB) when an Ogg stream's Vorbis setup header is
// corrupt; Ogg now goes through FFmpeg, which refuses it cleanly.
TEST(FuzzRegressions, OggWithCorruptVorbisSetupHeader) {
  ASSERT_EQ(sh("sox -n -r 22050 setup.ogg synth 0.2 sine 440"), 0);
  Bytes ogg = test::read_bytes(tmp("setup.ogg"));
  ASSERT_GT(decode_audio(ogg.data(), ogg.size(), "setup.ogg").size(), 3000u);
  const char kSetup[] = "\x05vorbis";
  size_t at = 0;
  for (size_t i = 0; i + 7 < ogg.size() && !at; ++i)
    if (std::memcmp(&ogg[i], kSetup, 7) == 0) at = i;
  ASSERT_NE(at, 0u) << "no Vorbis setup header";
  // The first codebook's sync pattern "BCV" follows the codebook count.
  for (size_t i = at + 8; i < at + 12 && i < ogg.size(); ++i) ogg[i] ^= 0x5A;
  const std::string e = error_of([&] { decode_audio(ogg.data(), ogg.size(), "setup.ogg"); });
  EXPECT_EQ(e.rfind("audio 'setup.ogg': ", 0), 0u) << e;
}

}  // namespace
}  // namespace ug
