// The read-bandwidth measure behind the bench's roofline: over a fresh buffer, and over memory
// that is already there (the bench reads a weight matrix, so the measure costs no memory).
#include "kernels/bandwidth.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/error.h"

namespace ug {
namespace {

TEST(Bandwidth, MeasuresAFreshBufferAndExistingMemory) {
  ThreadPool pool(2);
  EXPECT_GT(measure_read_bandwidth_gbps(pool, size_t{4} << 20), 0.0);
  std::vector<uint8_t> mem((size_t{4} << 20) + 7, 1);
  // Any alignment: the measure starts at the first whole 64-byte line.
  EXPECT_GT(measure_read_bandwidth_gbps(pool, mem.data() + 3, mem.size() - 3), 0.0);
  EXPECT_THROW(measure_read_bandwidth_gbps(pool, mem.data(), 1000), Error);
  EXPECT_THROW(measure_read_bandwidth_gbps(pool, size_t{1000}), Error);
}

}  // namespace
}  // namespace ug
