#include "cli/commands.h"

namespace ug::cli {

void register_all(CLI::App& app) {
  register_run(app);
  register_chat(app);
  register_tokenize(app);
  register_serve(app);
  register_info(app);
  register_quantize(app);
  register_bench(app);
  register_make_test_model(app);
  register_grammar_check(app);
  register_pull(app);
}

}  // namespace ug::cli
