// Input spec §1.5: raster patch order, HWC vs CHW inside a patch, u8 / 255 values; §2.2 audio
// framing and the 30 s split.
#include "media/patches.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "media/audio.h"

namespace ug {
namespace {

// Pixel value that encodes its own coordinates, so a misplaced element is caught.
uint8_t code(int y, int x, int ch) { return uint8_t((y * 7 + x * 13 + ch * 101) % 251); }

TEST(Patches, RasterOrderHwcAndChw) {
  Image img;
  img.width = 48 * 3;
  img.height = 48 * 2;
  img.rgb.resize(size_t(img.width) * img.height * 3);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      for (int ch = 0; ch < 3; ++ch) img.rgb[(size_t(y) * img.width + x) * 3 + ch] = code(y, x, ch);

  int rows = 0, cols = 0;
  const std::vector<float> hwc = image_to_patches(img, 48, false, rows, cols);
  ASSERT_EQ(rows, 2);
  ASSERT_EQ(cols, 3);
  ASSERT_EQ(hwc.size(), size_t(6) * 6912);
  int rows2 = 0, cols2 = 0;
  const std::vector<float> chw = image_to_patches(img, 48, true, rows2, cols2);
  ASSERT_EQ(chw.size(), hwc.size());
  for (int gy = 0; gy < rows; ++gy) {
    for (int gx = 0; gx < cols; ++gx) {
      const size_t p = size_t(gy) * cols + gx;  // soft-token index
      for (int r = 0; r < 48; ++r) {
        for (int c = 0; c < 48; ++c) {
          for (int ch = 0; ch < 3; ++ch) {
            const float want = float(code(48 * gy + r, 48 * gx + c, ch)) / 255.0f;
            ASSERT_NEAR(hwc[p * 6912 + (r * 48 + c) * 3 + ch], want, 1e-7f);
            ASSERT_NEAR(chw[p * 6912 + ch * 2304 + r * 48 + c], want, 1e-7f);
          }
        }
      }
    }
  }
}

TEST(Patches, RefusesSizesNotMultipleOfPatch) {
  Image img;
  img.width = 50;
  img.height = 48;
  img.rgb.resize(50 * 48 * 3);
  int r = 0, c = 0;
  EXPECT_THROW(image_to_patches(img, 48, false, r, c), Error);
  img.rgb.resize(10);  // inconsistent buffer
  img.width = 48;
  EXPECT_THROW(image_to_patches(img, 48, false, r, c), Error);
}

TEST(AudioFraming, TokenCountFramesAndSplit) {
  EXPECT_EQ(audio_token_count(0), 0);
  EXPECT_EQ(audio_token_count(1), 1);
  EXPECT_EQ(audio_token_count(640), 1);
  EXPECT_EQ(audio_token_count(641), 2);
  EXPECT_EQ(audio_token_count(16480), 26);    // 1.03 s
  EXPECT_EQ(audio_token_count(160000), 250);  // 10 s
  EXPECT_EQ(audio_token_count(480000), 750);  // 30 s

  std::vector<float> pcm(1000);
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = float(i) / 1000.0f;
  const std::vector<float> fr = audio_frames(pcm);
  ASSERT_EQ(fr.size(), 2u * 640);
  for (size_t i = 0; i < pcm.size(); ++i) EXPECT_EQ(fr[i], pcm[i]);
  for (size_t i = pcm.size(); i < fr.size(); ++i) EXPECT_EQ(fr[i], 0.0f);
  EXPECT_TRUE(audio_frames({}).empty());

  const auto parts = split_audio(16000 * 70 + 5);  // 70 s + 5 samples
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], std::make_pair(size_t(0), size_t(480000)));
  EXPECT_EQ(parts[1], std::make_pair(size_t(480000), size_t(960000)));
  EXPECT_EQ(parts[2], std::make_pair(size_t(960000), size_t(1120005)));
  EXPECT_TRUE(split_audio(0).empty());
  // 1.02 s pieces round down to whole 640-sample frames (16320 = 25.5 frames -> 25 frames).
  const auto odd = split_audio(40000, 1.02);
  ASSERT_EQ(odd.size(), 3u);
  EXPECT_EQ(odd[0].second, 16000u);
  EXPECT_EQ(odd[2].second, 40000u);
  EXPECT_THROW(split_audio(100, 0.01), Error);
}

}  // namespace
}  // namespace ug
