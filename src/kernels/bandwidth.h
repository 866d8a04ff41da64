// Read bandwidth of this machine, measured the way the matvec kernels read weights (one
// sequential stream per thread), so decode throughput can be quoted as a fraction of it.
#pragma once

#include <cstddef>

#include "base/thread_pool.h"

namespace ug {

// Sums a freshly written buffer of `bytes` (split in one contiguous part per pool thread) a few
// times and returns the best rate in GB/s (1e9 bytes/s). Allocates `bytes` for the duration;
// use a size well above the last-level cache (e.g. 1 GiB). Throws ug::Error below 1 MiB.
double measure_read_bandwidth_gbps(ThreadPool& pool, size_t bytes);

// The same over `bytes` of memory that is already there (read only, nothing allocated): the bench
// reads the model's largest weight matrix, so the measure adds nothing to the peak memory.
double measure_read_bandwidth_gbps(ThreadPool& pool, const void* data, size_t bytes);

}  // namespace ug
