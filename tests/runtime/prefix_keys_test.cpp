#include <gtest/gtest.h>

#include "runtime/prefix_cache.h"

namespace ug {
namespace {

Prompt with_image(float value) {
  Prompt p;
  p.tokens = {2, 105, 255999, 258880, 258880, 258882, 9259};
  p.soft.resize(p.tokens.size());
  p.soft[3] = std::vector<float>(8, value);
  p.soft[4] = std::vector<float>(8, value + 1);
  p.bidirectional = {{3, 5}};
  return p;
}

TEST(PrefixKeys, SameImageMatchesDifferentImageDoesNot) {
  auto a = prompt_prefix_keys(with_image(0.5f)), b = prompt_prefix_keys(with_image(0.5f));
  auto c = prompt_prefix_keys(with_image(0.25f));
  EXPECT_EQ(a, b);
  EXPECT_EQ(common_prefix(a, c), 3);  // diverges at the first soft row
  for (int i : {3, 4}) {
    EXPECT_GE(a[i], 1 << 30);  // never a token id
    EXPECT_NE(a[i], 258880);
  }
  EXPECT_EQ(a[0], 2);
  EXPECT_EQ(a[6], 9259);
}

TEST(PrefixKeys, KeptPrefixNeverEndsInsideAnImageBlock) {
  Prompt p = with_image(1.0f);
  EXPECT_EQ(keep_outside_blocks(4, p), 3);
  EXPECT_EQ(keep_outside_blocks(3, p), 3);
  EXPECT_EQ(keep_outside_blocks(5, p), 5);
  EXPECT_EQ(keep_outside_blocks(2, p), 2);
}

}  // namespace
}  // namespace ug
