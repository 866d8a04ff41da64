// `unigemma quantize IN OUT --type T`: a GGUF or HF folder to a GGUF of another type.
#include <chrono>
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "runtime/quantize_file.h"
#include "runtime/quantize_plan.h"

namespace ug::cli {

namespace {

struct QuantizeArgs {
  std::string in, out, type, mmproj_out;
  int threads = 0;
  bool pure = false, quiet = false;
};

void run(const QuantizeArgs& a) {
  QuantizeOptions o;
  o.type = a.type;
  o.mmproj_out = a.mmproj_out;
  o.threads = a.threads;
  o.pure = a.pure;
  if (!a.quiet)
    o.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  auto t0 = std::chrono::steady_clock::now();
  QuantizeSummary s = quantize_model(a.in, a.out, o);
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string types;
  for (const auto& [t, n] : s.type_counts)
    types += std::string(types.empty() ? "" : ", ") + dtype_name(t) + " ×" + std::to_string(n);
  std::printf("wrote %s%s%s: %d tensors (%s), %.1f MiB -> %.1f MiB in %.1f s\n", a.out.c_str(),
              a.mmproj_out.empty() ? "" : " and ", a.mmproj_out.c_str(), s.tensors, types.c_str(),
              s.bytes_in / 1048576.0, s.bytes_out / 1048576.0, sec);
}

}  // namespace

void register_quantize(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "quantize",
      "convert a GGUF (text, mmproj or assistant) or an HF folder to a GGUF of another type, as\n"
      "llama.cpp's converter and llama-quantize write it (one tensor at a time)");
  static QuantizeArgs a;
  cmd->add_option("IN", a.in, "input .gguf file or HF folder")->required();
  cmd->add_option("OUT", a.out, "output .gguf (for HF input: the text model)")->required();
  cmd->add_option("--type", a.type, std::string("target type: ") + quant_scheme_names())
      ->required();
  cmd->add_option("--mmproj-out", a.mmproj_out,
                  "HF input: also write the vision/audio front end (arch clip) here");
  cmd->add_option("--threads", a.threads, "worker threads (0: all)");
  cmd->add_flag("--pure", a.pure,
                "every matrix the base type (no Q6_K head, no Q4_K_M or Q5_K_M mix)");
  cmd->add_flag("--quiet", a.quiet, "no per-tensor progress on stderr");
  cmd->callback([] { run(a); });
}

}  // namespace ug::cli
