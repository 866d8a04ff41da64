// Input spec §1.1: PNG / JPEG / WebP / GIF / BMP written by ImageMagick decode to the same RGB
// bytes Pillow gives after exif_transpose + convert("RGB"); alpha is dropped, grey replicated,
// EXIF orientation applied.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "base/error.h"
#include "media/image.h"
#include "media_test_util.h"

namespace ug {
namespace {

using test::sh;
using test::tmp;

struct Made {
  const char* file;
  const char* make;
  int max_diff;  // allowed against Pillow: 0 unless the decoders legitimately differ
};

// stb_image and libjpeg-turbo (Pillow) use different IDCT and chroma upsampling, so JPEG pixels
// may differ by a few levels; every lossless format must match exactly.
const Made kFiles[] = {
    {"rgb.png", "cp src.png rgb.png", 0},
    {"rgba.png", "convert src.png -alpha set -channel A -fx '0.25+0.5*i/w' +channel rgba.png", 0},
    {"gray.png", "convert src.png -colorspace Gray -depth 8 gray.png", 0},
    {"graya.png",
     "convert src.png -colorspace Gray -depth 8 -alpha set -channel A -fx 'j/h' +channel graya.png",
     0},
    {"pal.png", "convert src.png -colors 50 png8:pal.png", 0},
    {"rgb16.png", "convert src.png -depth 16 png48:rgb16.png", 0},
    {"q90.jpg", "convert src.png -quality 90 q90.jpg", 3},
    {"gray.jpg", "convert src.png -colorspace Gray -quality 85 gray.jpg", 3},
    {"q444.jpg", "convert src.png -quality 95 -sampling-factor 1x1 q444.jpg", 3},
    {"lossless.webp", "convert src.png -define webp:lossless=true lossless.webp", 0},
    {"lossy.webp", "convert src.png -quality 80 lossy.webp", 0},
    {"alpha.webp", "convert rgba.png -define webp:lossless=true -define webp:exact=true alpha.webp",
     0},
    {"img.gif", "convert src.png img.gif", 0},
    {"anim.gif", "convert -delay 10 src.png \\( src.png -negate \\) anim.gif", 0},
    {"b24.bmp", "convert src.png bmp3:b24.bmp", 0},
    {"b32.bmp", "convert rgba.png -define bmp:format=bmp4 b32.bmp", 0},
};

class ImageDecode : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(sh("convert -seed 7 -size 160x120 plasma: -depth 8 src.png"), 0);
    for (const Made& m : kFiles) ASSERT_EQ(sh(m.make), 0) << m.make;
  }
};

TEST_F(ImageDecode, MatchesPillow) {
  std::string args;
  for (const Made& m : kFiles) args += std::string(" ") + m.file + " pil_" + m.file + ".ppm";
  ASSERT_EQ(sh(test::py() + " decode" + args), 0);
  for (const Made& m : kFiles) {
    SCOPED_TRACE(m.file);
    const Image ours = load_image_file(tmp(m.file));
    const Image pil = test::read_ppm(tmp(std::string("pil_") + m.file + ".ppm"));
    ASSERT_EQ(ours.width, 160);
    ASSERT_EQ(ours.height, 120);
    ASSERT_EQ(pil.width, 160);
    const test::PixelDiff d = test::compare(ours, pil);
    std::printf("  decode %-14s vs Pillow: max |diff| %d, differing %.4f%%\n", m.file, d.max,
                100.0 * d.frac_differing);
    EXPECT_LE(d.max, m.max_diff);
  }
}

TEST_F(ImageDecode, AlphaDroppedNotComposited) {
  // rgba.png holds src.png's colours under partial alpha: dropping alpha gives them back.
  const Image src = load_image_file(tmp("src.png"));
  EXPECT_EQ(test::compare(load_image_file(tmp("rgba.png")), src).max, 0);
  EXPECT_EQ(test::compare(load_image_file(tmp("alpha.webp")), src).max, 0);
  EXPECT_EQ(test::compare(load_image_file(tmp("b24.bmp")), src).max, 0);
}

TEST_F(ImageDecode, GreyIsReplicated) {
  const Image g = load_image_file(tmp("gray.png"));
  for (size_t i = 0; i < g.rgb.size(); i += 3) {
    ASSERT_EQ(g.rgb[i], g.rgb[i + 1]);
    ASSERT_EQ(g.rgb[i], g.rgb[i + 2]);
  }
}

TEST_F(ImageDecode, ExifOrientationApplied) {
  // A 64x32 image, red with a blue 16x16 block top-left, saved as JPEG with EXIF orientation
  // o by Pillow (ImageMagick cannot write the tag). Viewed upright the block moves.
  ASSERT_EQ(sh("convert -size 64x32 xc:red -fill blue -draw 'rectangle 0,0 15,15' marker.png"), 0);
  struct Want {
    int o, w, h, bx, by;  // orientation, upright size, a pixel inside the block
  };
  for (const Want& t : {Want{1, 64, 32, 4, 4}, Want{3, 64, 32, 59, 27}, Want{6, 32, 64, 27, 4},
                        Want{8, 32, 64, 4, 59}, Want{2, 64, 32, 59, 4}, Want{5, 32, 64, 4, 4}}) {
    SCOPED_TRACE(t.o);
    const std::string f = "o" + std::to_string(t.o) + ".jpg";
    ASSERT_EQ(sh(test::py() + " exif marker.png " + std::to_string(t.o) + " " + f + " && " +
                 test::py() + " decode " + f + " pil_" + f + ".ppm"),
              0);
    const Image img = load_image_file(tmp(f));
    ASSERT_EQ(img.width, t.w);
    ASSERT_EQ(img.height, t.h);
    const uint8_t* p = &img.rgb[(size_t(t.by) * img.width + t.bx) * 3];
    EXPECT_LT(p[0], 60);  // blue block, not red
    EXPECT_GT(p[2], 190);
    EXPECT_LE(test::compare(img, test::read_ppm(tmp("pil_" + f + ".ppm"))).max, 3);
  }
}

TEST_F(ImageDecode, AnimatedWebpFirstFrame) {
  ASSERT_EQ(
      sh("/usr/bin/python3 -c \"from PIL import Image; a = Image.new('RGB', (40, 30), "
         "(200, 10, 10)); b = Image.new('RGB', (40, 30), (10, 10, 200)); "
         "a.save('anim.webp', save_all=True, append_images=[b], lossless=True, duration=100)\""),
      0);
  const Image img = load_image_file(tmp("anim.webp"));
  ASSERT_EQ(img.width, 40);
  ASSERT_EQ(img.height, 30);
  EXPECT_EQ(img.rgb[0], 200);
  EXPECT_EQ(img.rgb[2], 10);
  // The animated GIF's first frame is the un-negated image (up to GIF's 256-colour palette).
  const Image gif = load_image_file(tmp("anim.gif"));
  const Image src = load_image_file(tmp("src.png"));
  ASSERT_EQ(gif.rgb.size(), src.rgb.size());
  double sum = 0;
  for (size_t i = 0; i < gif.rgb.size(); ++i) sum += std::abs(int(gif.rgb[i]) - int(src.rgb[i]));
  EXPECT_LT(sum / double(gif.rgb.size()), 8.0);
}

TEST_F(ImageDecode, FormatChosenByContentNotName) {
  ASSERT_EQ(sh("cp q90.jpg looks_like.png"), 0);
  const Image a = load_image_file(tmp("looks_like.png"));
  const Image b = load_image_file(tmp("q90.jpg"));
  EXPECT_EQ(test::compare(a, b).max, 0);
}

TEST_F(ImageDecode, PixelLimitFromHeader) {
  // 160x120 = 19200 pixels: refused at 19199 for every format, accepted at 19200.
  for (const Made& m : kFiles) {
    SCOPED_TRACE(m.file);
    const std::vector<uint8_t> b = test::read_bytes(tmp(m.file));
    try {
      decode_image(b.data(), b.size(), m.file, 19199);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("over the limit"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(m.file), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(decode_image(b.data(), b.size(), m.file, 19200));
  }
}

}  // namespace
}  // namespace ug
