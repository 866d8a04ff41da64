// Prometheus counters of the server; engine figures (tokens, speeds, slots, KV cache) are read
// from the Engine when scraped.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "runtime/engine.h"

namespace ug::server {

class Metrics {
 public:
  void count_request(const std::string& route, int status);
  void observe_ttft(double seconds);
  // Prometheus text exposition format 0.0.4; `engine` may be null before the model is loaded.
  std::string render(const Engine* engine) const;

  static constexpr std::array<double, 10> kTtftBuckets{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::array<uint64_t, kTtftBuckets.size()> ttft_buckets_{};
  uint64_t ttft_count_ = 0;
  double ttft_sum_ = 0;
};

}  // namespace ug::server
