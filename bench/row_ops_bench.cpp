// The decoder's f32 row operations (kernels/row_ops.h, kernels/activation.h) per variant, and all
// of them for one decode step of the 12B shape, before and after they were vectorised.
//
// bm_row_op {op, isa}: op 0 RMSNorm of 3840, 1 RoPE of 16 heads × 256 (128 pairs), 2 softcap of
// 262144 logits, 3 GeGLU of 15360, 4 residual add of 3840; isa 0 scalar, 1 avx2, 2 avx512, 3 neon.
//
// bm_decode_step_row_ops {variant, threads}: every row op of one 12B decode step (48 layers: 4
// RMSNorms of 3840, per-head norms of q [16×hd], k and v [nkv×hd], RoPE of q and k, 2 residual
// adds, GeGLU of 15360; final norm, softcap of 262144). variant 0: as before this change (scalar
// loops, cos/sin per pair at every call, one thread); 1: now (the CPU's variant, RoPE tables, the
// pool's threads for GeGLU and softcap). The difference is the time saved per token.
#include <benchmark/benchmark.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/activation.h"
#include "kernels/isa.h"
#include "kernels/row_ops.h"
#include "model/config.h"
#include "model/layer_ops.h"
#include "model/rope.h"

namespace {

std::vector<float> random_values(int64_t n, float sd) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.f, sd);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// Restores the variant a benchmark chose.
struct IsaScope {
  ug::Isa saved = ug::active_isa();
  explicit IsaScope(ug::Isa isa) { ug::set_active_isa(isa); }
  ~IsaScope() { ug::set_active_isa(saved); }
};

void bm_row_op(benchmark::State& state) {
  const int op = static_cast<int>(state.range(0));
  const auto isa = static_cast<ug::Isa>(state.range(1));
  if (!ug::isa_supported(isa)) {
    state.SkipWithError("variant not supported on this CPU");
    return;
  }
  IsaScope scope(isa);
  const int64_t n = op == 2 ? 262144 : op == 3 ? 15360 : op == 1 ? 16 * 256 : 3840;
  std::vector<float> x = random_values(n, 2.f), y = random_values(n, 1.f), out(n);
  std::vector<float> cs(128), sn(128);
  for (int d = 0; d < 128; ++d) {
    cs[d] = std::cos(0.1f * d);
    sn[d] = std::sin(0.1f * d);
  }
  for (auto _ : state) {
    switch (op) {
      case 0:
        ug::rms_norm_f32(x.data(), y.data(), n, 1e-6f, out.data());
        break;
      case 1:
        ug::rope_neox_f32(x.data(), 16, 256, 128, cs.data(), sn.data());
        break;
      case 2:
        ug::softcap_f32(x.data(), n, 30.f);  // saturates towards ±30 after a few rounds: fine
        break;
      case 3:
        out = x;
        ug::geglu_tanh_f32(out.data(), y.data(), n);
        break;
      default:
        ug::add_f32(x.data(), y.data(), n);
    }
    benchmark::DoNotOptimize(x.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(ug::isa_name(isa));
  state.counters["values/s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(bm_row_op)->ArgsProduct({{0, 1, 2, 3, 4}, {0, 1, 2, 3}})->Unit(benchmark::kMicrosecond);

// RoPE as it was computed before the tables: cos/sin of every pair at every call.
void rope_with_trig(float* x, int heads, int64_t hd, int64_t pos, const float* inv_freq) {
  const int64_t half = hd / 2;
  for (int64_t d = 0; d < half; ++d) {
    if (inv_freq[d] == 0.0f) continue;
    const double a = double(pos) * inv_freq[d];
    const float c = static_cast<float>(std::cos(a)), s = static_cast<float>(std::sin(a));
    for (int h = 0; h < heads; ++h) {
      float* v = x + h * hd;
      const float x0 = v[d], x1 = v[d + half];
      v[d] = x0 * c - x1 * s;
      v[d + half] = x1 * c + x0 * s;
    }
  }
}

void bm_decode_step_row_ops(benchmark::State& state) {
  const bool now = state.range(0) == 1;
  const int threads = static_cast<int>(state.range(1));
  const ug::Gemma4Config c = ug::Gemma4Config::preset_12b();
  IsaScope scope(now ? ug::active_isa() : ug::Isa::Scalar);
  ug::ThreadPool pool(now ? threads : 1);
  const int64_t d = c.n_embd, pos = 3000;
  // The 12B's global layers rotate 64 of 256 pairs; the rest have ω = 0 here (the GGUF's 1e30
  // factors give ω ≈ 1e-30, which the old code rotated too: this favours the old code).
  std::vector<float> factors(c.head_dim_global / 2, 1.f);
  for (size_t i = c.rotated_pairs_global(); i < factors.size(); ++i)
    factors[i] = std::numeric_limits<float>::infinity();
  const std::vector<float> f_swa = ug::rope_inv_freq(c.rope_base_swa, c.head_dim_swa, {});
  const std::vector<float> f_glb =
      ug::rope_inv_freq(c.rope_base_global, c.head_dim_global, factors);
  ug::RopeTable t_swa(f_swa), t_glb(f_glb);
  t_swa.reserve(pos + 1);
  t_glb.reserve(pos + 1);
  std::vector<float> x = random_values(d, 1.f), a(d), w = random_values(d, 1.f);
  std::vector<float> q = random_values(c.n_head * 512, 1.f), k = random_values(8 * 256, 1.f);
  std::vector<float> v = k, hw = random_values(512, 1.f);
  // Each layer's GeGLU input is fresh, as in the decoder (and never a fixed point's denormals).
  const std::vector<float> g0 = random_values(c.n_layer * c.n_ff, 1.f);
  std::vector<float> g = g0, u = random_values(c.n_ff, 1.f);
  std::vector<float> logits = random_values(c.vocab_size, 10.f), l0 = logits;
  std::vector<float> cs_swa(128), sn_swa(128), cs_glb(128), sn_glb(128);
  for (auto _ : state) {
    if (now) {  // once per token and kind, as the decoder does
      t_swa.angles(pos, cs_swa.data(), sn_swa.data());
      t_glb.angles(pos, cs_glb.data(), sn_glb.data());
    }
    for (int l = 0; l < c.n_layer; ++l) {
      const int hd = c.head_dim(l), nkv = c.kv_heads(l);
      const bool sliding = c.is_sliding[l];
      ug::rms_norm_rows(pool, x.data(), w.data(), 1, d, 1e-6f, a.data());
      if (now) {
        const int64_t pairs = sliding ? t_swa.pairs() : t_glb.pairs();
        const float* cs = sliding ? cs_swa.data() : cs_glb.data();
        const float* sn = sliding ? sn_swa.data() : sn_glb.data();
        ug::norm_rope_heads(q.data(), c.n_head, hd, hw.data(), 1e-6f, cs, sn, pairs);
        ug::norm_rope_heads(k.data(), nkv, hd, hw.data(), 1e-6f, cs, sn, pairs);
      } else {
        const float* f = sliding ? f_swa.data() : f_glb.data();
        ug::norm_rope_heads(q.data(), c.n_head, hd, hw.data(), 1e-6f, nullptr, nullptr, 0);
        rope_with_trig(q.data(), c.n_head, hd, pos, f);
        ug::norm_rope_heads(k.data(), nkv, hd, hw.data(), 1e-6f, nullptr, nullptr, 0);
        rope_with_trig(k.data(), nkv, hd, pos, f);
      }
      ug::norm_rope_heads(v.data(), nkv, hd, nullptr, 1e-6f, nullptr, nullptr, 0);
      ug::rms_norm_rows(pool, a.data(), w.data(), 1, d, 1e-6f, a.data());
      ug::residual_add(pool, x.data(), a.data(), d);
      ug::rms_norm_rows(pool, x.data(), w.data(), 1, d, 1e-6f, a.data());
      ug::geglu(pool, &g[l * c.n_ff], u.data(), c.n_ff);
      ug::rms_norm_rows(pool, a.data(), w.data(), 1, d, 1e-6f, a.data());
      ug::residual_add_scaled(pool, x.data(), a.data(), 0.5f, d);
    }
    ug::rms_norm_rows(pool, x.data(), w.data(), 1, d, 1e-6f, a.data());
    ug::softcap(pool, logits.data(), c.vocab_size, c.final_softcap);
    state.PauseTiming();
    logits = l0;
    g = g0;
    state.ResumeTiming();
  }
  state.SetLabel(now ? std::string(ug::isa_name(ug::active_isa())) + " tables" : "scalar trig");
}

BENCHMARK(bm_decode_step_row_ops)
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({1, 2})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
