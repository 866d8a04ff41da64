// Options shared by the commands that load a model (run, chat, tokenize, bench, serve).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "hub/model_source.h"
#include "model/weights.h"
#include "runtime/model_loader.h"

namespace ug::cli {

struct ModelOptions {
  // model: a path, hf://ORG/NAME[:QUANT], ollama://NAME[:TAG] or an Ollama name
  // (hub/model_source.h)
  std::string model, mmproj, assistant, quantize;
  bool no_mmproj = false, no_assistant = false;
  int threads = 0;
  int64_t ctx_size = 4096;

  void add_to(CLI::App* cmd, bool with_runtime = true);
  // Local paths of the model and of its mmproj and assistant (given, or picked from the same
  // hf:// or Ollama source); downloads what an hf:// source is missing. Says on stderr what an
  // hf:// or Ollama name resolved to.
  hub::ModelSource resolve() const;
  LoadedModel load() const;  // prints load progress and time on stderr
};

// A model argument of a command without ModelOptions (info, quantize, bench), with the source's
// mmproj and assistant when asked for.
hub::ModelSource resolve_model_arg(const std::string& spec, bool mmproj, bool assistant);

}  // namespace ug::cli
