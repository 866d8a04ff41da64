// Attention for one token against n cached keys, per KV head group (the decoder's unit of work):
// scores, softmax exponentials and the weighted sum over f16 K/V rows. Arguments: {heads sharing
// the KV head, head dim, keys, isa}. The 12B model's decode step runs 8 global units (16 × 512)
// over the whole context and 320 sliding units (2 × 256) over ≤ 1024 keys. Variants: 0 scalar,
// 1 AVX2 f32 loops, 2 AVX-512 f32 loops, 3 AVX-512 with AVX512_BF16 dot products (forced for any
// group size, to measure where bf16 pays off), 4 NEON (isa 3). Single-threaded kernel numbers.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "kernels/attention.h"
#include "kernels/isa.h"
#include "tensor/half.h"

namespace {

void bm_attention(benchmark::State& state) {
  const int heads = static_cast<int>(state.range(0)), hd = static_cast<int>(state.range(1));
  const int64_t n = state.range(2);
  const bool bf16 = state.range(3) == 3;
  const auto isa = bf16                  ? ug::Isa::Avx512
                   : state.range(3) == 4 ? ug::Isa::Neon
                                         : static_cast<ug::Isa>(state.range(3));
  if (!ug::isa_supported(isa) || (bf16 && !ug::isa_has_avx512_bf16())) {
    state.SkipWithError("variant not supported on this CPU");
    return;
  }
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> q(static_cast<size_t>(heads * hd)), acc(q.size());
  std::vector<uint16_t> k(static_cast<size_t>(n * hd)), v(k.size());
  for (float& x : q) x = dist(rng);
  for (size_t i = 0; i < k.size(); ++i) {
    k[i] = ug::f32_to_f16(dist(rng));
    v[i] = ug::f32_to_f16(dist(rng));
  }
  std::vector<float> s(static_cast<size_t>(heads * n));
  const ug::Isa saved = ug::active_isa();
  const ug::AttnBf16 saved_bf16 = ug::attn_bf16();
  ug::set_active_isa(isa);
  ug::set_attn_bf16(bf16 ? ug::AttnBf16::Always : ug::AttnBf16::Off);
  for (auto _ : state) {
    ug::attn_scores(q.data(), heads, hd, ug::KvRows{k.data(), hd, true}, n, s.data(), n);
    for (int g = 0; g < heads; ++g) {
      float* sg = s.data() + g * n;
      ug::attn_exp(sg, n, *std::max_element(sg, sg + n));
    }
    std::fill(acc.begin(), acc.end(), 0.f);
    ug::attn_weighted_sum(s.data(), n, heads, hd, ug::KvRows{v.data(), hd, true}, n, acc.data());
    benchmark::DoNotOptimize(acc.data());
  }
  ug::set_active_isa(saved);
  ug::set_attn_bf16(saved_bf16);
  state.SetLabel(bf16 ? "avx512+bf16" : ug::isa_name(isa));
  using C = benchmark::Counter;
  state.counters["KV_GB/s"] = C(4e-9 * static_cast<double>(n * hd), C::kIsIterationInvariantRate);
  // Multiply-adds of the scores and of the weighted sum, 2 FLOP each.
  state.counters["GFLOP/s"] =
      C(4e-9 * static_cast<double>(heads) * hd * n, C::kIsIterationInvariantRate);
}

BENCHMARK(bm_attention)
    ->Args({16, 512, 512, 2})
    ->Args({16, 512, 32768, 2})
    ->Args({2, 256, 1024, 2})
    ->Args({16, 512, 512, 3})
    ->Args({16, 512, 32768, 3})
    ->Args({2, 256, 1024, 3})
    ->Args({4, 256, 1024, 2})
    ->Args({4, 256, 1024, 3})
    ->Args({16, 512, 512, 1})
    ->Args({16, 512, 32768, 1})
    ->Args({2, 256, 1024, 1})
    ->Args({16, 512, 512, 4})
    ->Args({16, 512, 32768, 4})
    ->Args({2, 256, 1024, 4})
    ->Args({16, 512, 32768, 0})
    ->Args({2, 256, 1024, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
