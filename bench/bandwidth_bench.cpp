// STREAM-like read-only bandwidth: the roofline the decode kernels are measured against.
#include <benchmark/benchmark.h>

#include "kernels/bandwidth.h"

namespace {

void bench_bandwidth(benchmark::State& state) {
  ug::ThreadPool pool(static_cast<int>(state.range(0)));
  double gbps = 0;
  for (auto _ : state) gbps = ug::measure_read_bandwidth_gbps(pool, size_t{1} << 30);
  state.counters["GB/s"] = gbps;
}

BENCHMARK(bench_bandwidth)->Arg(1)->Arg(2)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
