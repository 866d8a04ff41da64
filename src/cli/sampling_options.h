// Sampling flags shared by run, chat and bench; defaults come from the model file.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

#include "model/config.h"
#include "runtime/sampler.h"

namespace ug::cli {

struct SamplingOptions {
  std::optional<float> temperature, top_p;
  std::optional<int> top_k;
  float min_p = 0.0f, repeat_penalty = 1.0f, frequency_penalty = 0.0f, presence_penalty = 0.0f;
  int repeat_last_n = 64;
  uint64_t seed = 0;
  bool seed_set = false;

  void add_to(CLI::App* cmd);
  SamplingParams resolve(const Gemma4Config& c) const;
};

}  // namespace ug::cli
