// Small pieces the benchmark files share: timing, summaries, random prompts.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/config.h"
#include "runtime/bench_runner.h"

namespace ug {

using BenchClock = std::chrono::steady_clock;

double since(BenchClock::time_point t0);
// Mean and sample standard deviation (0 for one value).
std::pair<double, double> mean_sd(const std::vector<double>& v);
double median(std::vector<double> v);
BenchResult summarize(std::string name, int64_t tokens, const std::vector<double>& seconds,
                      bool latency);
// Random prompt tokens (BOS first), as llama-bench uses, avoiding the special-token range.
std::vector<int32_t> random_tokens(int64_t n, const Gemma4Config& c, uint64_t& state);

}  // namespace ug
