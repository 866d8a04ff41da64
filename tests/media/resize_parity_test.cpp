// Input spec §1.3: resize_bicubic_aa against Pillow's Image.resize(..., Image.BICUBIC) on
// images made by ImageMagick (gradients, noise, plasma), tiny, extreme-aspect, exact-multiple
// and up-scaled inputs, at the sizes target_size gives and at a few arbitrary ones.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "media/image.h"
#include "media/image_resize.h"
#include "media_test_util.h"

namespace ug {
namespace {

using test::sh;
using test::tmp;

struct Source {
  const char* file;
  const char* make;  // ImageMagick command writing `file`
};

const Source kSources[] = {
    {"grad.png",
     "convert -size 640x480 gradient:red-blue \\( -size 480x640 gradient:black-lime -rotate 90 "
     "\\) -compose screen -composite grad.png"},
    {"noise.png",
     "convert -seed 1 -size 640x480 xc:gray +noise Random -depth 8 -type TrueColor noise.png"},
    {"plasma.png", "convert -seed 1 -size 640x480 plasma: plasma.png"},
    {"one.png", "convert -size 1x1 xc:'#3080c0' one.png"},
    {"tiny.png",
     "convert -seed 2 -size 3x2 xc:gray +noise Random -depth 8 -type TrueColor tiny.png"},
    {"wide.png", "convert -seed 3 -size 4000x100 plasma: wide.png"},
    {"mult48.png", "convert -seed 4 -size 480x288 plasma: mult48.png"},
    {"small.png", "convert -seed 5 -size 100x100 plasma: small.png"},
    {"tall.png", "convert -seed 6 -size 37x1500 plasma: tall.png"},
};

struct Case {
  std::string src;
  int out_w, out_h;
};

TEST(ResizeParity, MatchesPillowBicubic) {
  std::vector<Case> cases;
  for (const Source& s : kSources) {
    ASSERT_EQ(sh(s.make), 0) << s.make;
    const Image img = load_image_file(tmp(s.file));
    for (int budget : {70, 280, 1120}) {
      const auto [h, w] = target_size(img.height, img.width, budget);
      cases.push_back({s.file, w, h});
    }
  }
  // Arbitrary sizes: non-integer factors, one axis only, up in one axis and down in the other.
  cases.push_back({"plasma.png", 333, 197});
  cases.push_back({"plasma.png", 640, 300});
  cases.push_back({"plasma.png", 200, 480});
  cases.push_back({"noise.png", 1000, 50});
  cases.push_back({"tiny.png", 7, 1});
  cases.push_back({"wide.png", 4000, 100});  // same size: no resize at all

  std::ofstream manifest(tmp("resize.txt"));
  for (size_t i = 0; i < cases.size(); ++i) {
    manifest << tmp(cases[i].src) << " " << cases[i].out_w << " " << cases[i].out_h << " "
             << tmp("pil_" + std::to_string(i) + ".ppm") << "\n";
  }
  manifest.close();
  ASSERT_EQ(sh(test::py() + " resize " + tmp("resize.txt")), 0);

  int worst = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const Image src = load_image_file(tmp(c.src));
    const Image ours = resize_bicubic_aa(src, c.out_h, c.out_w);
    const Image pil = test::read_ppm(tmp("pil_" + std::to_string(i) + ".ppm"));
    ASSERT_EQ(pil.width, c.out_w);
    ASSERT_EQ(pil.height, c.out_h);
    ASSERT_EQ(ours.width, c.out_w);
    ASSERT_EQ(ours.height, c.out_h);
    const test::PixelDiff d = test::compare(ours, pil);
    std::printf("  resize %-11s %4dx%-4d -> %5dx%-5d  max |diff| %d, differing %.6f%%\n",
                c.src.c_str(), src.width, src.height, c.out_w, c.out_h, d.max,
                100.0 * d.frac_differing);
    EXPECT_EQ(d.max, 0) << c.src << " -> " << c.out_w << "x" << c.out_h;
    worst = std::max(worst, d.max);
  }
  std::printf("  worst max |diff| over %zu cases: %d\n", cases.size(), worst);
}

TEST(ResizeParity, KnownValuesWithoutPillow) {
  // A constant image stays constant at any size (weights are normalised per output sample).
  Image flat;
  flat.width = 5;
  flat.height = 3;
  flat.rgb.assign(5 * 3 * 3, 77);
  for (auto [h, w] : {std::pair{1, 1}, {48, 48}, {2, 9}, {300, 7}}) {
    const Image r = resize_bicubic_aa(flat, h, w);
    ASSERT_EQ(r.rgb.size(), size_t(h) * w * 3);
    for (uint8_t v : r.rgb) ASSERT_EQ(v, 77);
  }
  // A 2x box-aligned downscale of a 1-pixel checkerboard column pattern averages to mid-grey
  // up to the fixed-point rounding.
  Image stripes;
  stripes.width = 64;
  stripes.height = 4;
  stripes.rgb.resize(64 * 4 * 3);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) stripes.rgb[(y * 64 + x) * 3 + c] = (x % 2) ? 255 : 0;
  const Image half = resize_bicubic_aa(stripes, 4, 8);
  for (int x = 2; x < 6; ++x) EXPECT_NEAR(half.rgb[x * 3], 128, 1);
}

}  // namespace
}  // namespace ug
