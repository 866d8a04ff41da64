// `unigemma bench`: llama-bench-style speed report (pp/tg tokens per second, decode at depth,
// time to first token for an image and audio, peak RSS, bandwidth roofline).
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "runtime/bench_runner.h"

namespace ug::cli {

namespace {

struct BenchArgs {
  std::string model, mmproj, quantize, assistant, json_schema;
  std::vector<int> parallel;
  int draft_n = 4;
  std::vector<int> prompt{512};
  int gen = 128, threads = 0, reps = 5, image_tokens = 0, ubatch = 512;
  std::vector<int64_t> depths;
  std::vector<int> sequences;
  bool synthetic_depth = false;
  double audio_seconds = 0, live_audio = 0, live_chunk = 0.5;
  int64_t bandwidth_mb = 0;
  bool json = false;
};

void run(const BenchArgs& a) {
  BenchOptions o;
  const hub::ModelSource src = resolve_model_arg(a.model, a.mmproj.empty(), false);
  o.model = src.model;
  // --mmproj / --assistant may name hf:// or Ollama sources too (their model file is taken).
  o.mmproj = a.mmproj.empty() ? src.mmproj : resolve_model_arg(a.mmproj, false, false).model;
  o.prompt_sizes = a.prompt;
  if (o.prompt_sizes.size() == 1 && o.prompt_sizes[0] == 0) o.prompt_sizes.clear();
  o.gen_tokens = a.gen;
  o.depths = a.depths;
  o.sequences = a.sequences;
  o.synthetic_depth = a.synthetic_depth;
  o.image_tokens = a.image_tokens;
  o.audio_seconds = a.audio_seconds;
  o.threads = a.threads;
  o.reps = a.reps;
  o.ubatch = a.ubatch;
  o.bandwidth = a.bandwidth_mb >= 0;
  o.bandwidth_bytes = a.bandwidth_mb > 0 ? static_cast<uint64_t>(a.bandwidth_mb) << 20 : 0;
  if (!a.assistant.empty()) o.assistant = resolve_model_arg(a.assistant, false, false).model;
  o.draft_max = a.draft_n;
  o.parallel = a.parallel;
  o.live_audio_seconds = a.live_audio;
  o.live_chunk_seconds = a.live_chunk;
  o.json_schema = a.json_schema;
  if (!a.quantize.empty()) {
    auto t = dtype_from_name(a.quantize);
    if (!t) fail("bench: --quantize: unknown type '", a.quantize, "'");
    o.quantize = *t;
  }
  BenchReport r =
      run_bench(o, [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); });
  if (a.json)
    std::printf("%s\n", bench_to_json(r).dump(2).c_str());
  else
    std::printf("%s", bench_to_table(r).c_str());
}

}  // namespace

void register_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "bench", "measure prefill/decode speed, time to first token, memory and bandwidth use");
  static BenchArgs a;
  cmd->add_option("-m,--model", a.model,
                  "GGUF file, Hugging Face folder, hf://ORG/NAME[:QUANT] or an Ollama model")
      ->required();
  cmd->add_option("--mmproj", a.mmproj, "GGUF vision/audio projector (for --image-tokens, ...)");
  cmd->add_option("-p,--n-prompt", a.prompt, "prompt sizes, comma-separated (0: none)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", a.gen, "tokens to decode (0: none)")->capture_default_str();
  cmd->add_flag("--synthetic-depth", a.synthetic_depth,
                "reach -d by marking the cache filled (same decode cost) instead of prefilling");
  cmd->add_option("-d,--depth", a.depths,
                  "also decode at these context depths, comma-separated (e.g. 512,32768)")
      ->delimiter(',');
  cmd->add_option("--sequences", a.sequences,
                  "also decode N sequences at once, one row each per step (e.g. 1,2,4,8)")
      ->delimiter(',');
  cmd->add_option("-t,--threads", a.threads, "threads (0: one per hardware thread)");
  cmd->add_option("-r,--repetitions", a.reps, "repetitions of each test")->capture_default_str();
  cmd->add_option("--image-tokens", a.image_tokens,
                  "time to first token for one image of this token budget (70 ... 1120)");
  cmd->add_option("--audio-seconds", a.audio_seconds, "time to first token for this much audio");
  cmd->add_option("--live-audio", a.live_audio,
                  "stream this many seconds of audio in real time through an open request: time "
                  "from its end to the first token, against the clip sent whole");
  cmd->add_option("--live-chunk", a.live_chunk, "with --live-audio: seconds of audio per append")
      ->check(CLI::Range(0.04, 10.0))
      ->capture_default_str();
  cmd->add_option("--quantize", a.quantize, "quantize weights on load (q4_0, q8_0, ...)");
  cmd->add_option("--ubatch", a.ubatch, "prefill chunk size")->capture_default_str();
  cmd->add_option("--bandwidth-mb", a.bandwidth_mb,
                  "bandwidth measure: 0 reads the largest weight matrix (no extra memory), N > 0 a "
                  "fresh N MiB buffer, -1 skips it")
      ->capture_default_str();
  cmd->add_option("--assistant", a.assistant,
                  "MTP assistant: decode with and without drafting, acceptance, verification cost");
  cmd->add_option("--draft-n", a.draft_n, "with --assistant: largest draft length measured")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  cmd->add_option("--parallel", a.parallel,
                  "concurrent requests through the engine, comma-separated (e.g. 4,8): aggregate "
                  "decode speed and time to first token while they stream")
      ->delimiter(',');
  cmd->add_option("--json-schema", a.json_schema,
                  "JSON Schema file: decode with and without it as the constraint, alternating "
                  "(overhead per token), and the first compile's time");
  cmd->add_flag("--json", a.json, "one JSON document on stdout instead of the table");
  cmd->callback([] { run(a); });
}

}  // namespace ug::cli
