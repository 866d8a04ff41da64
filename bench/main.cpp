// Entry point of ug_bench (all bench/*.cpp files register their benchmarks).
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
