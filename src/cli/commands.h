// Each subcommand registers itself on the app; its callback does the work and throws ug::Error.
#pragma once

#include <CLI/CLI.hpp>

namespace ug::cli {

void register_all(CLI::App& app);

void register_info(CLI::App& app);

}  // namespace ug::cli
