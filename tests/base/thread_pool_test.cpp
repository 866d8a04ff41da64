#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <chrono>
#include <thread>
#include <vector>

namespace ug {

TEST(ThreadPool, CoversEveryIndexOnceForManySizes) {
  ThreadPool pool(3);
  for (int64_t n : {1, 2, 3, 7, 100, 1001}) {
    std::vector<std::atomic<int>> hits(n);
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(ThreadPool, RespectsGrain) {
  ThreadPool pool(4);
  std::atomic<int> calls{0};
  pool.parallel_for(
      10, [&](int64_t, int64_t, int) { calls++; }, 10);
  EXPECT_EQ(calls.load(), 1);
}

// Idle threads poll for a while before sleeping; back-to-back regions (polled) and regions after
// a long gap (slept) must each run every part exactly once, with any poll budget.
TEST(ThreadPool, BackToBackAndAfterSleepingForEveryPollBudget) {
  for (int64_t us : {0, 20}) {
    set_pool_spin_us(us);
    ThreadPool pool(3);
    int64_t total = 0;
    for (int round = 0; round < 2000; ++round) {
      std::atomic<int64_t> sum{0};
      pool.parallel_for(round % 7 + 3, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) sum += i + 1;
      });
      const int64_t n = round % 7 + 3;
      ASSERT_EQ(sum.load(), n * (n + 1) / 2) << "poll " << us << " us, round " << round;
      total += sum.load();
      if (round % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(12));
    }
    EXPECT_GT(total, 0);
  }
  set_pool_spin_us(20);
}

}  // namespace ug

TEST(ThreadPool, AnExceptionInAnyPartReachesTheCallerAndThePoolKeepsWorking) {
  ug::ThreadPool pool(3);
  for (int thrower = 0; thrower < 3; ++thrower) {
    std::atomic<int> done{0};
    EXPECT_THROW(pool.parallel_for(3,
                                   [&](int64_t b, int64_t, int) {
                                     if (b == thrower) throw std::runtime_error("part failed");
                                     done.fetch_add(1);
                                   }),
                 std::runtime_error);
    EXPECT_EQ(done.load(), 2) << "the other parts run to their end";
  }
  std::atomic<int64_t> sum{0};
  pool.parallel_for(100, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) sum.fetch_add(i);
  });
  EXPECT_EQ(sum.load(), 4950);
}
