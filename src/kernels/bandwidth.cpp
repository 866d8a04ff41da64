#include "kernels/bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "base/error.h"
#include "kernels/isa.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ug {

namespace {

using SumFn = uint64_t (*)(const uint64_t* p, size_t n);

uint64_t sum_plain(const uint64_t* p, size_t n) {
  uint64_t a[8] = {};
  for (size_t i = 0; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) a[k] += p[i + k];
  return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

#if defined(__x86_64__) && defined(__GNUC__)
constexpr int kPrefetchBytes = 2048;

// Full-width loads: with narrower ones a single core cannot issue enough of them to saturate
// the memory system, and the measure would understate the roofline.
__attribute__((target("avx512f"))) uint64_t sum_avx512(const uint64_t* p, size_t n) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 32 <= n; i += 32) {
    // As the decode kernels do: the hardware prefetchers stop at 4 KB page boundaries.
    for (int l = 0; l < 32; l += 8)
      _mm_prefetch(reinterpret_cast<const char*>(p + i + l) + kPrefetchBytes, _MM_HINT_T0);
    a0 = _mm512_add_epi64(a0, _mm512_load_si512(p + i));
    a1 = _mm512_add_epi64(a1, _mm512_load_si512(p + i + 8));
    a2 = _mm512_add_epi64(a2, _mm512_load_si512(p + i + 16));
    a3 = _mm512_add_epi64(a3, _mm512_load_si512(p + i + 24));
  }
  alignas(64) uint64_t o[8];
  _mm512_store_si512(o, _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
  return o[0] + o[1] + o[2] + o[3] + o[4] + o[5] + o[6] + o[7];
}

__attribute__((target("avx2"))) uint64_t sum_avx2(const uint64_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 16 <= n; i += 16) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  alignas(32) uint64_t o[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(o),
                     _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  return o[0] + o[1] + o[2] + o[3];
}
#endif

SumFn pick_sum() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (isa_supported(Isa::Avx512)) return sum_avx512;
  if (isa_supported(Isa::Avx2)) return sum_avx2;
#endif
  return sum_plain;
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace

double measure_read_bandwidth_gbps(ThreadPool& pool, const void* data, size_t bytes) {
  if (bytes < (size_t{1} << 20))
    fail("bandwidth measure: ", bytes, " bytes is too small to get past the caches (min 1 MiB)");
  // Each thread's part is a whole number of 256-byte line groups, from the first 64-byte line.
  const auto at = reinterpret_cast<uintptr_t>(data);
  const auto* p = reinterpret_cast<const uint64_t*>((at + 63) / 64 * 64);
  const int parts = pool.size();
  const size_t part_words =
      (bytes - (reinterpret_cast<uintptr_t>(p) - at)) / 8 / static_cast<size_t>(parts) / 32 * 32;
  const size_t words = part_words * static_cast<size_t>(parts);
  const SumFn sum = pick_sum();
  std::atomic<uint64_t> sink{0};  // keeps the sums alive
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(parts, [&](int64_t b, int64_t e, int) {
      uint64_t s = 0;
      for (int64_t k = b; k < e; ++k) s += sum(p + static_cast<size_t>(k) * part_words, part_words);
      sink.fetch_add(s, std::memory_order_relaxed);
    });
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(words * 8) / sec / 1e9);
  }
  return best;
}

double measure_read_bandwidth_gbps(ThreadPool& pool, size_t bytes) {
  if (bytes < (size_t{1} << 20))
    fail("bandwidth measure: ", bytes, " bytes is too small to get past the caches (min 1 MiB)");
  const int parts = pool.size();
  const size_t part_words = bytes / 8 / static_cast<size_t>(parts) / 32 * 32;
  const size_t words = part_words * static_cast<size_t>(parts);
  std::unique_ptr<uint64_t, FreeDeleter> buf(
      static_cast<uint64_t*>(std::aligned_alloc(64, words * 8)));
  if (!buf) fail("bandwidth measure: cannot allocate ", words * 8, " bytes");
  uint64_t* p = buf.get();
  // Written by the threads that read it, so pages sit where they will be read.
  pool.parallel_for(parts, [&](int64_t b, int64_t e, int) {
    for (int64_t k = b; k < e; ++k)
      for (size_t i = 0; i < part_words; ++i) p[static_cast<size_t>(k) * part_words + i] = i;
  });
  return measure_read_bandwidth_gbps(pool, p, words * 8);
}

}  // namespace ug
