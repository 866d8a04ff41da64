// Options shared by the commands that load a model (run, chat, tokenize, bench, serve).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "model/weights.h"
#include "runtime/model_loader.h"

namespace ug::cli {

struct ModelOptions {
  std::string model, mmproj, assistant, quantize;
  int threads = 0;
  int64_t ctx_size = 4096;

  void add_to(CLI::App* cmd, bool with_runtime = true);
  LoadedModel load() const;  // prints load progress and time on stderr
};

}  // namespace ug::cli
