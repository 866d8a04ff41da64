// Input spec §1.2: the target-resolution table, every cell, and the error cases.
#include <gtest/gtest.h>

#include "base/error.h"
#include "media/image_resize.h"

namespace ug {
namespace {

struct Cell {
  int w, h, budget;    // input W x H, max_soft_tokens
  int th, tw, tokens;  // expected target H x W and soft tokens
};

// The worked examples of input spec §1.2, transcribed cell by cell (W x H in, H x W out).
const Cell kTable[] = {
    {1024, 768, 70, 336, 432, 63},       {1024, 768, 280, 672, 912, 266},
    {1024, 768, 1120, 1344, 1824, 1064}, {1920, 1080, 70, 288, 528, 66},
    {1920, 1080, 280, 576, 1056, 264},   {1920, 1080, 1120, 1200, 2112, 1100},
    {512, 512, 70, 384, 384, 64},        {512, 512, 280, 768, 768, 256},
    {512, 512, 1120, 1584, 1584, 1089},  {224, 224, 70, 384, 384, 64},
    {224, 224, 280, 768, 768, 256},      {224, 224, 1120, 1584, 1584, 1089},
    {100, 100, 70, 384, 384, 64},        {100, 100, 280, 768, 768, 256},
    {100, 100, 1120, 1584, 1584, 1089},  {3000, 2000, 70, 288, 480, 60},
    {3000, 2000, 280, 624, 960, 260},    {3000, 2000, 1120, 1296, 1920, 1080},
    {4000, 100, 70, 48, 2496, 52},       {4000, 100, 280, 96, 5040, 210},
    {4000, 100, 1120, 240, 10128, 1055},
};

TEST(TargetSize, SpecTable) {
  for (const Cell& c : kTable) {
    const auto [th, tw] = target_size(c.h, c.w, c.budget);
    EXPECT_EQ(th, c.th) << c.w << "x" << c.h << " budget " << c.budget;
    EXPECT_EQ(tw, c.tw) << c.w << "x" << c.h << " budget " << c.budget;
    EXPECT_EQ((th / 48) * (tw / 48), c.tokens) << c.w << "x" << c.h << " budget " << c.budget;
  }
}

TEST(TargetSize, VideoFrameExample) {
  // Input spec §3: a 1280x720 frame at the video budget of 70 gives 288x528 = 66 tokens.
  EXPECT_EQ(target_size(720, 1280, 70), std::make_pair(288, 528));
}

TEST(TargetSize, ThinStripUsesOneRowAtMostBudgetWide) {
  // W/H > B: the height floors to 0, so it becomes one 48-px row and the width is capped at
  // B*48 (the largest position index used is then B-1).
  EXPECT_EQ(target_size(20, 3000, 70), std::make_pair(48, 70 * 48));
  EXPECT_EQ(target_size(1, 100000, 280), std::make_pair(48, 280 * 48));
  EXPECT_EQ(target_size(100000, 1, 1120), std::make_pair(1120 * 48, 48));
}

TEST(TargetSize, EveryBudgetStaysWithinTokensAndMultiplesOf48) {
  for (int b : {70, 140, 280, 560, 1120}) {
    for (int h = 1; h <= 4001; h += 97) {
      for (int w = 1; w <= 4001; w += 89) {
        const auto [th, tw] = target_size(h, w, b);
        ASSERT_EQ(th % 48, 0);
        ASSERT_EQ(tw % 48, 0);
        ASSERT_GT(th, 0);
        ASSERT_GT(tw, 0);
        ASSERT_LE((th / 48) * (tw / 48), b) << w << "x" << h << " budget " << b;
      }
    }
  }
}

TEST(TargetSize, Errors) {
  for (int bad : {0, 1, 69, 71, 256, 279, 281, 1121, -280}) {
    EXPECT_THROW(target_size(768, 1024, bad), Error) << bad;
  }
  try {
    target_size(768, 1024, 300);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("70, 140, 280, 560 or 1120"), std::string::npos);
  }
  EXPECT_THROW(target_size(0, 100, 280), Error);
  EXPECT_THROW(target_size(100, 0, 280), Error);
  EXPECT_THROW(target_size(-5, 100, 280), Error);
  EXPECT_THROW(target_size(100, 100, 280, 0, 3), Error);
}

}  // namespace
}  // namespace ug
