#include "cli/sampling_options.h"

#include <random>

namespace ug::cli {

void SamplingOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--temp,--temperature", temperature, "temperature (0 = greedy; default: model's)");
  cmd->add_option("--top-k", top_k, "top-k (0 = off; default: model's)");
  cmd->add_option("--top-p", top_p, "top-p (1 = off; default: model's)");
  cmd->add_option("--min-p", min_p, "min-p (0 = off)");
  cmd->add_option("--repeat-penalty", repeat_penalty, "repetition penalty (1 = off)");
  cmd->add_option("--repeat-last-n", repeat_last_n, "tokens the penalties look back on");
  cmd->add_option("--frequency-penalty", frequency_penalty, "frequency penalty");
  cmd->add_option("--presence-penalty", presence_penalty, "presence penalty");
  cmd->add_option("-s,--seed", seed, "random seed (default: random)")
      ->each([this](const std::string&) { seed_set = true; });
}

SamplingParams SamplingOptions::resolve(const Gemma4Config& c) const {
  SamplingParams p;
  p.temperature = temperature.value_or(c.temperature);
  p.top_k = top_k.value_or(c.top_k);
  p.top_p = top_p.value_or(c.top_p);
  p.min_p = min_p;
  p.repeat_penalty = repeat_penalty;
  p.repeat_last_n = repeat_last_n;
  p.frequency_penalty = frequency_penalty;
  p.presence_penalty = presence_penalty;
  p.seed = seed_set ? seed : std::random_device{}();
  p.suppress = c.suppress_tokens;
  return p;
}

}  // namespace ug::cli
