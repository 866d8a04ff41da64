// matmul throughput per weight type at Gemma 4 12B shapes: decode (1 token, weight GB/s; compare
// with bench_bandwidth) and prefill (128 tokens, GFLOP/s and tokens/s), per kernel variant.
// Arguments: {in, out, n_tokens, threads, isa (0 scalar, 1 avx2, 2 avx512)}.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "base/large_buffer.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "tensor/lanes.h"
#include "tensor/quant.h"

namespace {

using ug::DType;

struct Matrix {
  std::vector<uint8_t> bytes;
  std::shared_ptr<uint8_t> repacked;  // Q4_0_LANES / Q8_0_LANES: the load-time layout
  ug::TensorView view;
};

// 64 distinct quantized rows repeated: realistic codes without quantizing 59M values per type.
const Matrix& matrix(DType type, int64_t in, int64_t out) {
  // One matrix alive at a time: F32 at 15360×3840 is 236 MB.
  static std::tuple<DType, int64_t, int64_t> key;
  static std::unique_ptr<Matrix> m;
  if (m && key == std::tuple{type, in, out}) return *m;
  key = {type, in, out};
  m.reset();
  m = std::make_unique<Matrix>();
  const DType stored = ug::stored_dtype(type);
  type = stored;
  const uint64_t rb = ug::row_bytes(type, in);
  constexpr int64_t kDistinct = 64;
  std::vector<uint8_t> seed(rb * kDistinct);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.f, 0.02f);
  std::vector<float> row(static_cast<size_t>(in));
  for (int64_t o = 0; o < kDistinct; ++o) {
    for (float& v : row) v = dist(rng);
    ug::quantize_row(type, row.data(), seed.data() + rb * o, in);
  }
  m->bytes.resize(rb * static_cast<uint64_t>(out));
  for (int64_t o = 0; o < out; ++o)
    std::copy_n(seed.data() + rb * (o % kDistinct), rb, m->bytes.data() + rb * o);
  m->view.name = "bench";
  m->view.type = type;
  m->view.ne = {in, out};
  m->view.data = m->bytes.data();
  m->view.nbytes = m->bytes.size();
  if (ug::is_lanes(std::get<0>(key))) {  // as load repacks it (model/repack.h)
    const ug::LanesShape s = ug::lanes_shape(type, in, out);
    m->repacked = ug::allocate_large(s.bytes, "bench");
    ug::repack_lanes(m->view, m->repacked.get(), 0, s.pairs);
    m->view.type = std::get<0>(key);
    m->view.data = m->repacked.get();
    m->view.nbytes = s.bytes;
    m->bytes.clear();
    m->bytes.shrink_to_fit();
  }
  return *m;
}

void bm_matmul(benchmark::State& state, DType type) {
  const int64_t in = state.range(0), out = state.range(1), n = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const auto isa = static_cast<ug::Isa>(state.range(4));
  if (!ug::isa_supported(isa)) {
    state.SkipWithError("variant not supported on this CPU");
    return;
  }
  const Matrix& w = matrix(type, in, out);
  std::vector<float> x(static_cast<size_t>(n * in)), y(static_cast<size_t>(n * out));
  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0.f, 1.f);
  for (float& v : x) v = dist(rng);
  ug::ThreadPool pool(threads);
  const ug::Isa saved = ug::active_isa();
  ug::set_active_isa(isa);
  ug::matmul(w.view, x.data(), n, y.data(), pool);  // warm-up: grows per-thread buffers
  for (auto _ : state) {
    ug::matmul(w.view, x.data(), n, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  ug::set_active_isa(saved);
  state.SetLabel(ug::isa_name(isa));
  using C = benchmark::Counter;
  const double stored_bytes =
      static_cast<double>(ug::row_bytes(ug::stored_dtype(type), in)) * static_cast<double>(out);
  state.counters["weight_GB/s"] = C(stored_bytes / 1e9, C::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      C(2e-9 * static_cast<double>(in * out * n), C::kIsIterationInvariantRate);
  state.counters["tokens/s"] = C(static_cast<double>(n), C::kIsIterationInvariantRate);
}

// Decode shapes of the 12B model: FFN gate/up (3840 -> 15360) and down (15360 -> 3840); and
// 3840 -> 256, whose weights stay in a 1-2 MB L2 (Zen 4, Sapphire Rapids), and 3840 -> 64 (one
// thread), which fits a 512 KB L2 (Zen 3), for the kernels' speed without the memory limit.
void decode_args(benchmark::internal::Benchmark* b) {
  for (int isa : {2, 1, 0}) b->Args({3840, 64, 1, 1, isa});
  for (int isa : {2, 1, 0})
    for (int threads : {1, 2}) {
      b->Args({3840, 256, 1, threads, isa});
      b->Args({3840, 15360, 1, threads, isa});
      b->Args({15360, 3840, 1, threads, isa});
    }
}

// The repacked layouts have AVX-512 and AVX2 kernels.
void decode_args_lanes(benchmark::internal::Benchmark* b) {
  for (int isa : {2, 1}) b->Args({3840, 64, 1, 1, isa});
  for (int isa : {2, 1})
    for (int threads : {1, 2}) {
      b->Args({3840, 256, 1, threads, isa});
      b->Args({3840, 15360, 1, threads, isa});
      b->Args({15360, 3840, 1, threads, isa});
    }
}

void prefill_args_lanes(benchmark::internal::Benchmark* b) {
  for (int isa : {2, 1}) {
    for (int threads : {1, 2}) b->Args({3840, 15360, 128, threads, isa});
    for (int n : {2, 3, 4, 8}) b->Args({3840, 15360, n, 1, isa});
  }
}

void prefill_args(benchmark::internal::Benchmark* b) {
  for (int isa : {2, 1, 0})
    for (int threads : {1, 2}) b->Args({3840, 15360, 128, threads, isa});
  // Short batches (speculative drafts, small prompts): where the packed kernel starts to pay.
  for (int n : {2, 3, 4, 6, 8, 16, 32}) b->Args({3840, 15360, n, 1, 2});
}

#define UG_MATMUL_BENCH(T)                            \
  BENCHMARK_CAPTURE(bm_matmul, decode_##T, DType::T)  \
      ->Apply(decode_args)                            \
      ->UseRealTime()                                 \
      ->Unit(benchmark::kMillisecond);                \
  BENCHMARK_CAPTURE(bm_matmul, prefill_##T, DType::T) \
      ->Apply(prefill_args)                           \
      ->UseRealTime()                                 \
      ->Unit(benchmark::kMillisecond)

// Q4_0 and Q8_0 as load repacks them for the AVX-512 and AVX2 kernels.
BENCHMARK_CAPTURE(bm_matmul, decode_Q4_0_repacked, DType::Q4_0_LANES)
    ->Apply(decode_args_lanes)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_matmul, prefill_Q4_0_repacked, DType::Q4_0_LANES)
    ->Apply(prefill_args_lanes)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_matmul, decode_Q8_0_repacked, DType::Q8_0_LANES)
    ->Apply(decode_args_lanes)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_matmul, prefill_Q8_0_repacked, DType::Q8_0_LANES)
    ->Apply(prefill_args_lanes)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

UG_MATMUL_BENCH(Q4_0);
UG_MATMUL_BENCH(Q8_0);
UG_MATMUL_BENCH(Q4_K);
UG_MATMUL_BENCH(Q6_K);
UG_MATMUL_BENCH(BF16);
UG_MATMUL_BENCH(F16);
UG_MATMUL_BENCH(F32);

}  // namespace
