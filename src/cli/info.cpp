// `unigemma info FILE_OR_FOLDER`: what a model file is and what it needs.
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"

namespace ug::cli {

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "describe a model file or folder");
  static std::string path;
  cmd->add_option("model", path, "GGUF file or Hugging Face folder")->required();
  cmd->callback([] { fail(path, ": info is not implemented yet"); });
}

}  // namespace ug::cli
