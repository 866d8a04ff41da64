// Throughput of matmul per weight type, decode (1 token) and a short prefill (16 tokens).
// Not in CMake yet; build by hand against the libraries, e.g.
//   g++ -std=c++20 -O3 -Isrc bench/matmul_bench.cpp build/libug_kernels.a build/libug_tensor.a \
//       build/libug_base.a -lbenchmark -lpthread -o matmul_bench
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kernels/matmul.h"
#include "tensor/quant.h"

namespace {

using ug::DType;

void bm_matmul(benchmark::State& state, DType type) {
  const int64_t in = 2048, out = 2048, n_tokens = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> row(in);
  const uint64_t rb = ug::row_bytes(type, in);
  std::vector<uint8_t> bytes(rb * out);
  for (int64_t o = 0; o < out; ++o) {
    for (float& v : row) v = dist(rng);
    ug::quantize_row(type, row.data(), bytes.data() + rb * o, in);
  }
  ug::TensorView w;
  w.type = type;
  w.ne = {in, out};
  w.data = bytes.data();
  w.nbytes = bytes.size();
  std::vector<float> x(n_tokens * in), y(n_tokens * out);
  for (float& v : x) v = dist(rng);
  ug::ThreadPool pool(threads);
  for (auto _ : state) {
    ug::matmul(w, x.data(), n_tokens, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * in * out * n_tokens, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.counters["weight GB/s"] = benchmark::Counter(static_cast<double>(bytes.size()),
                                                     benchmark::Counter::kIsIterationInvariantRate,
                                                     benchmark::Counter::kIs1000);
}

#define UG_MATMUL_BENCH(T) \
  BENCHMARK_CAPTURE(bm_matmul, T, DType::T)->Args({1, 1})->Args({16, 1})->Args({1, 2})

UG_MATMUL_BENCH(F32);
UG_MATMUL_BENCH(F16);
UG_MATMUL_BENCH(BF16);
UG_MATMUL_BENCH(Q8_0);
UG_MATMUL_BENCH(Q4_0);
UG_MATMUL_BENCH(Q4_K);
UG_MATMUL_BENCH(Q6_K);

}  // namespace

BENCHMARK_MAIN();
