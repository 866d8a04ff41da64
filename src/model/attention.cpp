#include "model/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>

#include "kernels/attention.h"

namespace ug {

namespace {

template <class T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

void Attention::run(const AttentionJob& job, ThreadPool& pool) {
  const KvCache& cache = *job.cache;
  const int layer = job.layer;
  const bool sliding = cache.sliding(layer);
  const int hd = job.head_dim, nkv = job.n_kv_head, group = job.n_head / nkv;
  const int64_t qw = job.row_stride, kw = cache.kv_width(layer), n = job.rows, p0 = job.p0;
  const bool f32 = cache.is_f32();

  const int64_t units = n * nkv;
  int64_t longest = 0;
  for (int64_t i = 0; i < n; ++i) longest = std::max(longest, job.hi[i] - job.lo[i] + 1);
  const int64_t threads = pool.size();
  int64_t parts = 1;
  if (units < 2 * threads)
    parts = std::clamp<int64_t>((4 * threads + units - 1) / units, 1,
                                std::max<int64_t>(1, longest / 256));
  const int64_t gh = static_cast<int64_t>(group) * hd;
  if (parts > 1) {
    grow(part_acc_, static_cast<size_t>(units * parts * gh));
    grow(part_max_, static_cast<size_t>(units * parts * group));
    grow(part_sum_, static_cast<size_t>(units * parts * group));
  }
  if (static_cast<int64_t>(scores_.size()) < threads) scores_.resize(threads);

  // Calls fn(k_rows, v_rows, offset, count) for the contiguous runs of key positions [a, b]:
  // cache slots (a sliding layer's ring wraps once at most) then this batch's rows. span: the
  // keys of the query row's whole range (the kernels' precision choice depends on it, never on
  // how the range is cut).
  auto runs = [&](int64_t a, int64_t b, int64_t span, int kvh, auto&& fn) {
    const int64_t cache_end = std::min(b, p0 - 1);
    for (int64_t j = a; j <= cache_end;) {
      const int64_t slot = cache.slot(layer, j);
      int64_t cnt = cache_end - j + 1;
      if (sliding) cnt = std::min(cnt, cache.capacity(layer) - slot);
      const int64_t off = static_cast<int64_t>(kvh) * hd;
      const void* kp =
          f32 ? static_cast<const void*>(static_cast<const float*>(cache.k(layer, slot)) + off)
              : static_cast<const void*>(static_cast<const uint16_t*>(cache.k(layer, slot)) + off);
      const void* vp =
          f32 ? static_cast<const void*>(static_cast<const float*>(cache.v(layer, slot)) + off)
              : static_cast<const void*>(static_cast<const uint16_t*>(cache.v(layer, slot)) + off);
      fn(KvRows{kp, kw, !f32, false, span}, KvRows{vp, kw, !f32, false, span}, j - a, cnt);
      j += cnt;
    }
    if (b >= p0) {
      const int64_t j0 = std::max(a, p0);
      const int64_t off = (j0 - p0) * kw + static_cast<int64_t>(kvh) * hd;
      // With an f16 cache these rows hold f16 values and run through the same (bf16) loops as
      // the cache's rows, so a key scores alike before and after it is cached.
      fn(KvRows{job.k_new + off, kw, false, !f32, span},
         KvRows{job.v_new + off, kw, false, !f32, span}, j0 - a, b - j0 + 1);
    }
  };

  std::atomic<int64_t> next{0};
  const int64_t jobs = units * parts;
  auto body = [&](int64_t, int64_t, int t) {
    for (int64_t unit_part; (unit_part = next.fetch_add(1, std::memory_order_relaxed)) < jobs;) {
      const int64_t u = unit_part / parts, part = unit_part % parts;
      const int64_t i = u / nkv;
      const int kvh = static_cast<int>(u % nkv);
      const int64_t lo = job.lo[i], len = job.hi[i] - lo + 1;
      const int64_t a = lo + len * part / parts, b = lo + len * (part + 1) / parts - 1;
      const float* q = job.q + i * qw + kvh * gh;  // the group's heads: [group, hd]
      float* acc = parts == 1 ? job.out + i * qw + kvh * gh : &part_acc_[unit_part * gh];
      std::fill(acc, acc + gh, 0.f);
      const int64_t m = b - a + 1;
      if (m <= 0) {
        if (parts > 1)
          for (int g = 0; g < group; ++g) {
            part_max_[unit_part * group + g] = -std::numeric_limits<float>::infinity();
            part_sum_[unit_part * group + g] = 0.f;
          }
        continue;
      }
      std::vector<float>& sc = scores_[t];  // [group][m] probabilities, then [group] sums
      grow(sc, static_cast<size_t>(group * (m + 1)));
      float* sums = sc.data() + group * m;
      runs(a, b, len, kvh, [&](const KvRows& k, const KvRows&, int64_t off, int64_t cnt) {
        attn_scores(q, group, hd, k, cnt, sc.data() + off, m);
      });
      for (int g = 0; g < group; ++g) {
        float* sg = sc.data() + g * m;
        const float mx = *std::max_element(sg, sg + m);
        sums[g] = attn_exp(sg, m, mx);
        if (parts > 1) {
          part_max_[unit_part * group + g] = mx;
          part_sum_[unit_part * group + g] = sums[g];
        }
      }
      runs(a, b, len, kvh, [&](const KvRows&, const KvRows& v, int64_t off, int64_t cnt) {
        attn_weighted_sum(sc.data() + off, m, group, hd, v, cnt, acc);
      });
      if (parts == 1)
        for (int g = 0; g < group; ++g) {
          const float inv = 1.f / sums[g];
          for (int e = 0; e < hd; ++e) acc[g * hd + e] *= inv;
        }
    }
  };
  pool.parallel_for(std::min<int64_t>(threads, jobs), std::ref(body), 1);

  // Merges the parts: o = Σ_p e^(m_p − M) acc_p / Σ_p e^(m_p − M) l_p.
  if (parts > 1)
    for (int64_t u = 0; u < units; ++u) {
      const int64_t i = u / nkv, kvh = u % nkv;
      float* o = job.out + i * qw + kvh * gh;
      for (int g = 0; g < group; ++g) {
        float M = -std::numeric_limits<float>::infinity();
        for (int64_t p = 0; p < parts; ++p) M = std::max(M, part_max_[(u * parts + p) * group + g]);
        float L = 0;
        float* og = o + g * hd;
        std::fill(og, og + hd, 0.f);
        for (int64_t p = 0; p < parts; ++p) {
          const int64_t unit_part = u * parts + p;
          if (part_sum_[unit_part * group + g] == 0.f) continue;
          const float f = std::exp(part_max_[unit_part * group + g] - M);
          L += f * part_sum_[unit_part * group + g];
          const float* ap = &part_acc_[unit_part * gh + g * hd];
          for (int e = 0; e < hd; ++e) og[e] += f * ap[e];
        }
        const float inv = 1.f / L;
        for (int e = 0; e < hd; ++e) og[e] *= inv;
      }
    }
}

}  // namespace ug
