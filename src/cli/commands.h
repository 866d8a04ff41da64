// Each subcommand registers itself on the app; its callback does the work and throws ug::Error.
#pragma once

#include <CLI/CLI.hpp>

namespace ug::cli {

void register_all(CLI::App& app);

void register_info(CLI::App& app);             // info.cpp
void register_make_test_model(CLI::App& app);  // make_test_model.cpp
void register_tokenize(CLI::App& app);         // tokenize.cpp
void register_run(CLI::App& app);              // run.cpp
void register_chat(CLI::App& app);             // chat.cpp
void register_serve(CLI::App& app);            // serve.cpp
void register_bench(CLI::App& app);            // bench.cpp
void register_quantize(CLI::App& app);         // quantize.cpp
void register_grammar_check(CLI::App& app);   // grammar_check.cpp (hidden)
void register_pull(CLI::App& app);             // pull.cpp

}  // namespace ug::cli
