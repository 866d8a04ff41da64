#include "runtime/bench_util.h"

#include <algorithm>
#include <cmath>

namespace ug {

double since(BenchClock::time_point t0) {
  return std::chrono::duration<double>(BenchClock::now() - t0).count();
}

std::pair<double, double> mean_sd(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  m /= v.size();
  if (v.size() < 2) return {m, 0.0};
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return {m, std::sqrt(s / (v.size() - 1))};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

BenchResult summarize(std::string name, int64_t tokens, const std::vector<double>& seconds,
                      bool latency) {
  BenchResult r;
  r.test = std::move(name);
  r.tokens = tokens;
  r.latency = latency;
  r.reps = static_cast<int>(seconds.size());
  std::tie(r.seconds, r.seconds_sd) = mean_sd(seconds);
  std::vector<double> rates;
  for (double s : seconds) rates.push_back(tokens / s);
  std::tie(r.tokens_per_second, r.sd) = mean_sd(rates);
  return r;
}

std::vector<int32_t> random_tokens(int64_t n, const Gemma4Config& c, uint64_t& state) {
  std::vector<int32_t> t;
  t.reserve(n);
  t.push_back(c.bos_id);
  const int64_t lo = std::min<int64_t>(1000, c.vocab_size / 2),
                span = std::min<int64_t>(c.vocab_size - lo, 250000);
  while (static_cast<int64_t>(t.size()) < n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    t.push_back(static_cast<int32_t>(lo + static_cast<int64_t>((state >> 33) % span)));
  }
  return t;
}

}  // namespace ug
