#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <set>

#include "base/error.h"

namespace ug {
namespace {

SamplingParams plain(std::uint64_t seed = 1) {
  SamplingParams p;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.seed = seed;
  return p;
}

std::vector<float> logits_of_probs(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

std::vector<int> histogram(Sampler& s, const std::vector<float>& logits, int draws) {
  std::vector<int> h(logits.size(), 0);
  for (int i = 0; i < draws; ++i) {
    std::vector<float> l = logits;
    ++h[s.sample(l.data(), {})];
  }
  return h;
}

TEST(Sampler, GreedyTakesArgmaxLowestIdOnTies) {
  SamplingParams p = plain();
  p.temperature = 0.0f;
  Sampler s(p, 6);
  std::vector<float> l = {0.1f, 3.0f, -1.0f, 3.0f, 2.9f, 0.0f};
  EXPECT_EQ(s.sample(l.data(), {}), 1);
  l = {-5.0f, -4.0f, -4.0f, -6.0f, -4.5f, -7.0f};
  EXPECT_EQ(s.sample(l.data(), {}), 1);
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedDifferent) {
  std::vector<float> l(1000, 0.0f);
  auto run = [&](std::uint64_t seed) {
    Sampler s(plain(seed), 1000);
    std::vector<std::int32_t> out;
    for (int i = 0; i < 100; ++i) {
      std::vector<float> c = l;
      out.push_back(s.sample(c.data(), out));
    }
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(Sampler, TopKOneEqualsGreedy) {
  std::vector<float> l = {0.5f, 1.0f, 2.0f, 1.99f, -1.0f, 0.0f, 1.5f};
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    SamplingParams p = plain(seed);
    p.top_k = 1;
    p.temperature = 5.0f;
    Sampler s(p, 7);
    std::vector<float> c = l;
    EXPECT_EQ(s.sample(c.data(), {}), 2);
  }
}

TEST(Sampler, TopKKeepsOnlyKBest) {
  SamplingParams p = plain(3);
  p.top_k = 3;
  p.temperature = 10.0f;  // near-uniform over the survivors
  Sampler s(p, 8);
  const std::vector<float> l = {0.f, 5.f, 1.f, 4.f, 2.f, 3.f, -1.f, 4.5f};
  const auto h = histogram(s, l, 3000);
  for (int id : {0, 2, 4, 5, 6}) EXPECT_EQ(h[id], 0) << id;
  for (int id : {1, 3, 7}) EXPECT_GT(h[id], 700) << id;
}

TEST(Sampler, TopPEdgeCases) {
  const std::vector<float> l = logits_of_probs({0.4, 0.3, 0.2, 0.1});
  {
    SamplingParams p = plain(5);
    p.top_p = 0.5f;  // 0.4 < 0.5 <= 0.7: two tokens survive
    Sampler s(p, 4);
    const auto h = histogram(s, l, 5000);
    EXPECT_EQ(h[2] + h[3], 0);
    EXPECT_NEAR(h[0] / 5000.0, 0.4 / 0.7, 0.03);
  }
  {
    SamplingParams p = plain(5);
    p.top_p = 0.0f;  // always keeps at least the best token
    Sampler s(p, 4);
    EXPECT_EQ(histogram(s, l, 500)[0], 500);
  }
  {
    SamplingParams p = plain(5);
    p.top_p = 0.5f;  // exactly reaching p with the first token keeps only it
    Sampler s(p, 3);
    EXPECT_EQ(histogram(s, logits_of_probs({0.5, 0.25, 0.25}), 500)[0], 500);
  }
  {
    SamplingParams p = plain(5);
    p.top_p = 1.0f;  // off: every token reachable
    Sampler s(p, 4);
    for (int c : histogram(s, l, 5000)) EXPECT_GT(c, 300);
  }
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  SamplingParams p = plain(9);
  p.min_p = 0.2f;  // threshold 0.2 * 0.5 = 0.1
  Sampler s(p, 4);
  const auto h = histogram(s, logits_of_probs({0.5, 0.3, 0.15, 0.05}), 10000);
  EXPECT_EQ(h[3], 0);
  EXPECT_GT(h[2], 1000);
  EXPECT_NEAR(h[0] / 10000.0, 0.5 / 0.95, 0.02);
}

TEST(Sampler, RepeatPenaltyFollowsLlamaCpp) {
  SamplingParams p = plain();
  p.temperature = 0.0f;
  p.repeat_penalty = 2.0f;
  p.repeat_last_n = 2;
  Sampler s(p, 4);
  std::vector<float> l = {3.0f, 2.0f, -1.0f, 0.5f};
  // History: 0 is outside the 2-token window; 2 and 1 are inside.
  EXPECT_EQ(s.sample(l.data(), {0, 2, 1}), 0);
  EXPECT_FLOAT_EQ(l[0], 3.0f);
  EXPECT_FLOAT_EQ(l[1], 1.0f);   // positive: divided
  EXPECT_FLOAT_EQ(l[2], -2.0f);  // negative: multiplied
  EXPECT_FLOAT_EQ(l[3], 0.5f);
  // The repeated best token loses its lead.
  std::vector<float> l2 = {3.0f, 2.0f, -1.0f, 0.5f};
  EXPECT_EQ(s.sample(l2.data(), {7 % 4, 0}), 1);
}

TEST(Sampler, FrequencyAndPresencePenalties) {
  SamplingParams p = plain();
  p.temperature = 0.0f;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  p.repeat_last_n = -1;
  Sampler s(p, 3);
  std::vector<float> l = {1.0f, 1.0f, 1.0f};
  s.sample(l.data(), {0, 0, 0, 1});
  EXPECT_FLOAT_EQ(l[0], 1.0f - 3 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(l[1], 1.0f - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(l[2], 1.0f);
  // Counts are reset between calls.
  std::vector<float> l2 = {1.0f, 1.0f, 1.0f};
  s.sample(l2.data(), {1});
  EXPECT_FLOAT_EQ(l2[0], 1.0f);
}

TEST(Sampler, SuppressedTokensNeverSampled) {
  SamplingParams p = plain(11);
  p.suppress = {2, 5};
  Sampler s(p, 8);
  std::vector<float> l = {0.f, 0.f, 30.f, 0.f, 0.f, 30.f, 0.f, 0.f};
  const auto h = histogram(s, l, 100000);
  EXPECT_EQ(h[2], 0);
  EXPECT_EQ(h[5], 0);
  for (int id : {0, 1, 3, 4, 6, 7}) EXPECT_GT(h[id], 15000);
  SamplingParams g = p;
  g.temperature = 0.0f;
  Sampler greedy(g, 8);
  std::vector<float> c = l;
  EXPECT_EQ(greedy.sample(c.data(), {}), 0);
}

TEST(Sampler, AllSuppressedIsAnError) {
  SamplingParams p = plain();
  p.suppress = {0, 1};
  Sampler s(p, 2);
  std::vector<float> l = {1.0f, 2.0f};
  EXPECT_THROW(s.sample(l.data(), {}), Error);
  p.suppress = {5};
  EXPECT_THROW(Sampler(p, 2), Error);
}

TEST(Sampler, DistributionMatchesSoftmaxChiSquare) {
  const std::vector<float> l = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f};
  SamplingParams p = plain(2024);
  p.temperature = 0.7f;
  Sampler s(p, 5);
  const int draws = 20000;
  const auto h = histogram(s, l, draws);
  double z = 0;
  for (float x : l) z += std::exp(x / 0.7);
  double chi2 = 0;
  for (std::size_t i = 0; i < l.size(); ++i) {
    const double expected = draws * std::exp(l[i] / 0.7) / z;
    chi2 += (h[i] - expected) * (h[i] - expected) / expected;
  }
  EXPECT_LT(chi2, 18.47);  // 4 degrees of freedom, p = 0.001
  // A wrong temperature is detected by the same statistic.
  double chi2_wrong = 0;
  double z1 = 0;
  for (float x : l) z1 += std::exp(x);
  for (std::size_t i = 0; i < l.size(); ++i) {
    const double expected = draws * std::exp(l[i]) / z1;
    chi2_wrong += (h[i] - expected) * (h[i] - expected) / expected;
  }
  EXPECT_GT(chi2_wrong, 100.0);
}

TEST(Sampler, DefaultsRunOnFullVocabQuickly) {
  const int vocab = 262144;
  std::vector<float> base(vocab);
  std::mt19937 gen(7);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  for (float& x : base) x = nd(gen);
  SamplingParams p;  // temperature 1, top-k 64, top-p 0.95
  p.seed = 3;
  p.suppress = {258882, 258883};
  Sampler s(p, vocab);
  std::vector<std::int32_t> hist;
  std::vector<float> l;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    l = base;
    hist.push_back(s.sample(l.data(), hist));
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 50;
  // Every draw is among the 64 best logits.
  std::vector<float> sorted = base;
  std::nth_element(sorted.begin(), sorted.begin() + 63, sorted.end(), std::greater<float>());
  for (std::int32_t t : hist) EXPECT_GE(base[t], sorted[63]);
  RecordProperty("ms_per_sample", std::to_string(ms));
  EXPECT_LT(ms, 50.0);
  std::printf("sample() on 262144 logits: %.3f ms\n", ms);
}

TEST(TopLogprobs, MatchesLogSoftmaxSortedWithTies) {
  const std::vector<float> l = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f, -3.0f};
  const auto top = top_logprobs(l.data(), 6, 3);
  ASSERT_EQ(top.size(), 3u);
  double z = 0;
  for (float x : l) z += std::exp(x);
  EXPECT_EQ(top[0].first, 1);
  EXPECT_EQ(top[1].first, 3);
  EXPECT_EQ(top[2].first, 4);
  for (const auto& [id, lp] : top) EXPECT_NEAR(lp, l[id] - std::log(z), 1e-5);
  EXPECT_EQ(top_logprobs(l.data(), 6, 10).size(), 6u);
  // Large logits stay finite (max-subtracted).
  const std::vector<float> big = {1000.0f, 999.0f};
  const auto tb = top_logprobs(big.data(), 2, 2);
  EXPECT_NEAR(tb[0].second, -std::log1p(std::exp(-1.0)), 1e-5);
}

}  // namespace
}  // namespace ug
