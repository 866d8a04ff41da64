// The NEON matmul, row-operation and attention kernels against a double-precision reference, run
// under qemu-aarch64 (there is no arm64 GoogleTest here, so this is a standalone checker). Exit
// status: 0 all checks passed, 1 a check failed, 2 an unexpected exception.
//
//   neon_check               the full check (CPU with dotprod, e.g. qemu's default "max" model)
//   neon_check --no-dotprod  only that a CPU without dotprod is refused the NEON variant
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../kernels/float_ops_checks.h"
#include "../kernels/matmul_test_weights.h"
#include "base/error.h"
#include "base/thread_pool.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "kernels/matmul_shared.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ug {
namespace {

using test::make_weights;
using test::random_x;
using test::reference;
using test::tolerance;
using test::Weights;

int64_t g_checks = 0, g_failures = 0;

// Records one check; prints the first few failures of a run in full.
bool expect(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    if (++g_failures <= 20) std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  }
  return ok;
}

template <class... Parts>
std::string str(const Parts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  return s.str();
}

template <class Fn>
bool throws_error(Fn&& fn) {
  try {
    fn();
  } catch (const Error&) {
    return true;
  }
  return false;
}

// The types whose NEON kernel rounds activations to 8 bits.
bool takes_q8_acts(DType t) { return t == DType::Q4_0 || t == DType::Q8_0; }

const DType kTypes[] = {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q6_K, DType::BF16,
                        DType::F16,  DType::F32,  DType::Q4_1, DType::Q5_0, DType::Q5_1,
                        DType::Q5_K, DType::Q2_K, DType::Q3_K};

void check_isa_selection() {
  expect(isa_supported(Isa::Neon), "isa_supported(Isa::Neon) is false on a CPU with dotprod");
  expect(!isa_supported(Isa::Avx2) && !isa_supported(Isa::Avx512),
         "an x86 variant claims support on aarch64");
  expect(isa_from_name("neon") == Isa::Neon, "isa_from_name(\"neon\")");
  expect(active_isa() == Isa::Neon,
         str("default variant is ", isa_name(active_isa()), ", expected neon"));
  expect(throws_error([] { set_active_isa(Isa::Avx2); }), "set_active_isa(Avx2) did not throw");
  expect(active_isa() == Isa::Neon, "a refused set_active_isa changed the variant");
  set_active_isa(Isa::Scalar);
  expect(active_isa() == Isa::Scalar, "set_active_isa(Scalar)");
  set_active_isa(Isa::Neon);
  expect(active_isa() == Isa::Neon, "set_active_isa(Neon)");
}

// Every type, shapes with partial token tiles (1..9, 37), row counts that leave a partial row
// block (16) and tile, lone and odd block counts: the result against the double reference,
// 1 and 2 threads bit for bit, and each token bit for bit its result when computed alone.
void check_every_type(ThreadPool& one, ThreadPool& two) {
  std::mt19937 rng(7);
  const int64_t kMaxN = 37;
  for (DType t : kTypes) {
    const int64_t block = dtype_info(t).block;
    std::vector<int64_t> ins;
    if (block == 256)
      ins = {256, 768};
    else if (block == 32)
      ins = {32, 96, 224, 256};  // 1, 3, 7 and 8 blocks
    else
      ins = {5, 37, 224};  // f32 tails of 5, 5 and 0 after 16-wide steps
    const int64_t before = g_failures;
    for (int64_t in : ins)
      for (int64_t out : {1, 3, 17, 37}) {
        const Weights w = make_weights(t, in, out, rng);
        const std::vector<float> x = random_x(kMaxN, in, rng);
        std::vector<float> alone(static_cast<size_t>(kMaxN * out));
        for (int64_t tk = 0; tk < kMaxN; ++tk)
          matmul(w.view, x.data() + tk * in, 1, alone.data() + tk * out, one);
        for (int64_t n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 37}) {
          const std::string where = str(dtype_name(t), " in=", in, " out=", out, " tokens=", n);
          // Windows that start on and off a tile boundary.
          const int64_t t0 = n == kMaxN ? 0 : n % 3;
          const float* xs = x.data() + t0 * in;
          std::vector<float> y1(static_cast<size_t>(n * out), NAN), y2(y1.size(), NAN);
          matmul(w.view, xs, n, y1.data(), one);
          matmul(w.view, xs, n, y2.data(), two);
          expect(std::memcmp(y1.data(), y2.data(), y1.size() * 4) == 0,
                 where + ": 1 and 2 threads differ");
          expect(std::memcmp(y1.data(), alone.data() + t0 * out, y1.size() * 4) == 0,
                 where + ": tokens differ from the same tokens computed one at a time");
          // One check per shape, reporting the first output outside its tolerance.
          std::string bad;
          for (int64_t tk = 0; tk < n && bad.empty(); ++tk)
            for (int64_t o = 0; o < out && bad.empty(); ++o) {
              const double ref = reference(w, xs + tk * in, in, o);
              const double tol = tolerance(takes_q8_acts(t), w, xs + tk * in, in, o);
              const double got = y1[tk * out + o];
              if (!(std::fabs(got - ref) <= tol))
                bad = str(" token ", tk, " row ", o, ": got ", got, ", reference ", ref,
                          ", tolerance ", tol);
            }
          expect(bad.empty(), where + bad);
        }
      }
    std::printf("  %-5s %s\n", dtype_name(t), g_failures == before ? "ok" : "FAILED");
  }
}

// The x86 suite's batch test: 37 tokens over 37 blocks (an odd count: a lone last block), each
// window of 1..9 tokens bit for bit the same tokens inside the batch.
void check_batch_invariance(ThreadPool& pool) {
  std::mt19937 rng(17);
  const int64_t n = 37;
  for (DType t : kTypes) {
    const int64_t in = dtype_info(t).block == 256 ? 512 : 1184, out = 45;
    const Weights w = make_weights(t, in, out, rng);
    const std::vector<float> x = random_x(n, in, rng);
    std::vector<float> all(static_cast<size_t>(n * out));
    matmul(w.view, x.data(), n, all.data(), pool);
    for (int64_t m : {1, 2, 3, 4, 5, 9}) {
      std::vector<float> part(static_cast<size_t>(m * out));
      for (int64_t t0 = 0; t0 + m <= n; t0 += 7) {
        matmul(w.view, x.data() + t0 * in, m, part.data(), pool);
        expect(std::memcmp(part.data(), all.data() + t0 * out, part.size() * 4) == 0,
               str(dtype_name(t), ": tokens ", t0, "..", t0 + m - 1,
                   " alone differ from the same tokens in a batch of ", n));
      }
    }
  }
}

void check_shared_input(ThreadPool& pool) {
  std::mt19937 rng(19);
  const int64_t in = 256;
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::F32}) {
    const Weights a = make_weights(t, in, 70, rng), b = make_weights(t, in, 33, rng);
    const Weights c = make_weights(DType::Q8_0, in, 20, rng);  // another type: runs on its own
    for (int64_t n : {1, 6}) {
      const std::vector<float> x = random_x(n, in, rng);
      std::vector<float> ya(n * 70), yb(n * 33), yc(n * 20), ra(ya.size()), rb(yb.size()),
          rc(yc.size());
      matmul(a.view, x.data(), n, ra.data(), pool);
      matmul(b.view, x.data(), n, rb.data(), pool);
      matmul(c.view, x.data(), n, rc.data(), pool);
      matmul_shared_input({{&a.view, ya.data()}, {&b.view, yb.data()}}, x.data(), n, pool);
      const std::string where = str(dtype_name(t), " tokens=", n, ": shared-input ");
      expect(std::memcmp(ya.data(), ra.data(), ya.size() * 4) == 0, where + "a differs");
      expect(std::memcmp(yb.data(), rb.data(), yb.size() * 4) == 0, where + "b differs");
      matmul_shared_input({{&a.view, ya.data()}, {&c.view, yc.data()}}, x.data(), n, pool);
      expect(std::memcmp(ya.data(), ra.data(), ya.size() * 4) == 0, where + "a (with c) differs");
      expect(std::memcmp(yc.data(), rc.data(), yc.size() * 4) == 0, where + "c differs");
    }
  }
}

// Stored Q8_0 codes may be -128 (no quantizer here writes it); sdot must treat it as -128.
void check_q8_0_minus_128(ThreadPool& pool) {
  std::mt19937 rng(11);
  const int64_t in = 96, out = 5;
  Weights w;
  w.bytes.resize(static_cast<size_t>(row_bytes(DType::Q8_0, in) * out));
  std::uniform_int_distribution<int> code(-128, 127);
  for (size_t b = 0; b < w.bytes.size(); b += 34) {
    const uint16_t d = f32_to_f16(0.01f);
    std::memcpy(&w.bytes[b], &d, 2);
    for (size_t j = 0; j < 32; ++j)
      w.bytes[b + 2 + j] = static_cast<uint8_t>(j % 3 ? code(rng) : -128);
  }
  w.view = TensorView{"w", DType::Q8_0, {in, out}, w.bytes.data(), w.bytes.size()};
  w.f32.resize(static_cast<size_t>(in * out));
  for (int64_t o = 0; o < out; ++o)
    dequantize_row(DType::Q8_0, w.view.row(o), w.f32.data() + o * in, in);
  const std::vector<float> x = random_x(1, in, rng);
  std::vector<float> y(out);
  matmul(w.view, x.data(), 1, y.data(), pool);
  for (int64_t o = 0; o < out; ++o) {
    const double ref = reference(w, x.data(), in, o), tol = tolerance(true, w, x.data(), in, o);
    expect(std::fabs(y[o] - ref) <= tol,
           str("Q8_0 with -128 codes row ", o, ": got ", y[o], ", reference ", ref));
  }
}

void check_undecodable_type_throws(ThreadPool& pool) {
  std::vector<uint8_t> bytes(292 * 4);
  TensorView w{"w", DType::Q8_K, {256, 4}, bytes.data(), bytes.size()};
  std::vector<float> x(256), y(4);
  expect(throws_error([&] { matmul(w, x.data(), 1, y.data(), pool); }),
         "a Q8_K matmul did not throw ug::Error under the NEON variant");
}

// The f32 row operations, activations and attention loops of the NEON variant against double
// formulas (the checks the x86 tests run, tests/kernels/float_ops_checks.h).
void check_float_ops() {
  const std::pair<const char*, std::string (*)()> checks[] = {
      {"rms_norm", test::check_rms_norm},
      {"residual adds", test::check_residual_adds},
      {"rope", test::check_rope},
      {"activations", test::check_activations},
      {"elementwise split", test::check_elementwise_split},
      {"attention loops", test::check_attention_loops},
      {"attention runs", test::check_attention_runs},
      {"exp and f16", test::check_exp_and_f16}};
  for (const auto& [name, check] : checks) {
    const std::string what = check();
    expect(what.empty(), str(name, ": ", what));
    std::printf("  %-18s %s\n", name, what.empty() ? "ok" : "FAILED");
  }
}

int run_full() {
  std::printf("isa selection\n");
  check_isa_selection();
  if (g_failures > 0 || active_isa() != Isa::Neon) return 1;
  ThreadPool one(1), two(2);
  std::printf("every type vs double reference, 1..9 and 37 tokens\n");
  check_every_type(one, two);
  std::printf("batch invariance\n");
  check_batch_invariance(two);
  std::printf("shared input, Q8_0 -128 codes, undecodable type\n");
  check_shared_input(two);
  check_q8_0_minus_128(one);
  check_undecodable_type_throws(two);
  std::printf("row ops, activations, attention f32 loops vs double reference\n");
  check_float_ops();
  return g_failures == 0 ? 0 : 1;
}

// On a CPU without dotprod (qemu -cpu cortex-a53) the variant must be refused and the default
// must fall back to the scalar kernels.
int run_no_dotprod() {
  expect(!isa_supported(Isa::Neon), "isa_supported(Isa::Neon) is true on a CPU without dotprod");
  expect(active_isa() == Isa::Scalar,
         str("default variant is ", isa_name(active_isa()), ", expected scalar"));
  expect(throws_error([] { set_active_isa(Isa::Neon); }), "set_active_isa(Neon) did not throw");
  return g_failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace ug

int main(int argc, char** argv) {
  // The default variant is part of what is checked, so the environment must not choose it.
  unsetenv("UG_KERNELS");
  const bool no_dotprod = argc > 1 && std::strcmp(argv[1], "--no-dotprod") == 0;
  if (argc > 2 || (argc == 2 && !no_dotprod)) {
    std::fprintf(stderr, "usage: %s [--no-dotprod]\n", argv[0]);
    return 2;
  }
  int rc;
  try {
    rc = no_dotprod ? ug::run_no_dotprod() : ug::run_full();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neon_check: unexpected exception: %s\n", e.what());
    return 2;
  }
  std::printf("neon_check%s: %lld checks, %lld failures\n", no_dotprod ? " --no-dotprod" : "",
              static_cast<long long>(ug::g_checks), static_cast<long long>(ug::g_failures));
  return rc;
}
