// The generation flags shared by `run` and `chat` (and what they turn into): both front ends are
// clients of the one engine, so every flag means the same in each.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "cli/media_args.h"
#include "cli/model_options.h"
#include "cli/sampling_options.h"
#include "runtime/engine.h"
#include "runtime/model_loader.h"

namespace ug::cli {

struct GenerationArgs {
  ModelOptions model;
  SamplingOptions sampling;
  MediaArgs media;
  std::string system;
  bool raw = false, think = false, json = false, escape = false;
  int n_predict = 256, top_logprobs = 5, draft_n = 4;
  std::vector<std::string> stops;
  // Structured output (llama.cpp's flags): a GBNF grammar inline or from a file, a JSON Schema
  // inline or from a file.
  std::string grammar, grammar_file, json_schema, json_schema_file;

  void add_to(CLI::App* cmd, int default_n_predict);
  // Once the flags are parsed: with -e, processes the escapes in --system and --stop; refuses
  // combinations that make no sense (--raw with --system or --think).
  void finish();
  // Text the user typed (the prompt, a chat line), with -e's escapes processed when asked.
  std::string user_text(const std::string& typed) const;

  // The engine for one conversation: one slot, the context asked for, the assistant as drafter.
  // rollback: how far the slot can cut back to reuse a re-rendered prefix.
  std::unique_ptr<Engine> make_engine(const LoadedModel& m, int64_t rollback) const;
  // A request for `prompt` with these flags (thinking: the answer follows a free thought).
  EngineRequest request(const LoadedModel& m, Prompt prompt, bool thinking) const;
};

// Text to stdout as it comes (not with --json).
bool print_token(const EngineToken& t);
// The --json document: ids, text split into content / reasoning / tool calls, per-step
// log-probabilities, stop reason, timings and speculative decoding counts.
std::string result_json(const std::vector<int32_t>& prompt_ids, const EngineResult& r);
// The timing line on stderr.
void print_timings(const EngineResult& r, bool speculative);

}  // namespace ug::cli
