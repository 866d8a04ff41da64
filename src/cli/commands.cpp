#include "cli/commands.h"

namespace ug::cli {

void register_all(CLI::App& app) {
  register_info(app);
}

}  // namespace ug::cli
