// `unigemma grammar-check` (hidden): compiles JSON Schemas / GBNF / tool sets against a real
// vocabulary, generates under the constraint from random logits, and reports compile and mask
// times. tests/grammar/check_corpus.py validates its output with python3-jsonschema.
//
// Random logits: see grammar/random_walk.h.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/error.h"
#include "cli/commands.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "grammar/grammar.h"
#include "grammar/random_walk.h"
#include "grammar/tool_call_grammar.h"
#include "text/output_parser.h"
#include "text/tokenizer.h"
#include "text/vocab_gemma4.h"
#include "text/vocab_gguf.h"
#include "text/vocab_hf.h"

namespace ug::cli {
namespace {

using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string model, npm_vocab, gbnf, tools, tool_choice = "required", out;
  std::vector<std::string> schemas;
  bool json_object = false, thought = false, print_grammar = false;
  int samples = 1, max_tokens = 1024;
  uint64_t seed = 1;
};

double cpu_ms() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double since_ms(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::shared_ptr<const TokenVocab> load_vocab(const Options& o, std::unique_ptr<Tokenizer>& tok) {
  TokenizerData data;
  if (!o.npm_vocab.empty()) {
    data = gemma4_vocab_from_npm(o.npm_vocab);
  } else if (is_hf_folder(o.model)) {
    HfFolder hf = load_hf_folder(o.model);
    if (hf.tokenizer.is_null()) fail(o.model, ": tokenizer.json is missing");
    data = vocab_from_hf_json(hf.tokenizer);
  } else if (!o.model.empty()) {
    data = vocab_from_gguf(GgufFile(o.model));
  } else {
    fail("grammar-check: give -m MODEL or --npm-vocab tokenizer.json");
  }
  tok = std::make_unique<Tokenizer>(std::move(data));
  return TokenVocab::from_tokenizer(*tok);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// One output; mask times (wall and thread CPU, microseconds) are appended.
RandomWalk generate(const std::shared_ptr<const CompiledGrammar>& g, std::mt19937_64& rng,
                    int max_tokens, std::vector<double>& wall_us, std::vector<double>& cpu_us) {
  return random_walk(g, rng, max_tokens, [&](const std::function<void()>& fill) {
    const double c0 = cpu_ms();
    const auto t0 = Clock::now();
    fill();
    wall_us.push_back(since_ms(t0) * 1e3);
    cpu_us.push_back((cpu_ms() - c0) * 1e3);
  });
}

void run(const Options& o) {
  std::unique_ptr<Tokenizer> tok;
  const auto vocab = load_vocab(o, tok);
  std::vector<std::pair<std::string, std::function<std::string()>>> jobs;  // (name, gbnf maker)
  ConstraintOptions copt;
  copt.allow_thought = o.thought;
  for (const std::string& path : o.schemas) {
    jobs.push_back({path, [path] {
                      std::ifstream in(path);
                      if (!in) fail(path, ": cannot open");
                      return json_schema_to_gbnf(ojson::parse(in));
                    }});
  }
  if (o.json_object) jobs.push_back({"json_object", [] { return json_object_gbnf(); }});
  if (!o.gbnf.empty()) {
    jobs.push_back({o.gbnf, [&] {
                      std::ifstream in(o.gbnf);
                      if (!in) fail(o.gbnf, ": cannot open");
                      return std::string(std::istreambuf_iterator<char>(in), {});
                    }});
  }
  ojson choice;
  if (!o.tools.empty()) {
    choice = o.tool_choice.starts_with("{") ? ojson::parse(o.tool_choice) : ojson(o.tool_choice);
    jobs.push_back({o.tools, [&] {
                      std::ifstream in(o.tools);
                      if (!in) fail(o.tools, ": cannot open");
                      return tool_call_gbnf(ojson::parse(in), choice, o.thought);
                    }});
  }
  std::FILE* out = o.out.empty() ? stdout : std::fopen(o.out.c_str(), "w");
  if (!out) fail(o.out, ": cannot write");
  std::mt19937_64 rng(o.seed);
  std::vector<double> compile_wall, compile_cpu, mask_wall, mask_cpu;
  int accepted = 0, refused = 0, finished = 0, total = 0;
  for (const auto& [name, make] : jobs) {
    ojson rec = {{"file", name}};
    std::string gbnf;
    std::shared_ptr<const CompiledGrammar> g;
    const double c0 = cpu_ms();
    const auto t0 = Clock::now();
    try {
      gbnf = make();
      g = compile_gbnf(gbnf, vocab, copt);
    } catch (const std::exception& e) {
      rec["ok"] = false;
      rec["error"] = e.what();
      ++refused;
      std::fprintf(out, "%s\n", rec.dump(-1, ' ', false, ojson::error_handler_t::replace).c_str());
      continue;
    }
    rec["compile_ms"] = since_ms(t0);
    rec["compile_cpu_ms"] = cpu_ms() - c0;
    compile_wall.push_back(rec["compile_ms"]);
    compile_cpu.push_back(rec["compile_cpu_ms"]);
    const CompileStats& st = g->stats();
    rec["states"] = st.states;
    rec["entries"] = st.classes;
    rec["cached_entries"] = st.cached_classes;
    rec["ok"] = true;
    ++accepted;
    if (o.print_grammar) rec["gbnf"] = gbnf;
    ojson samples = ojson::array();
    const size_t first_step = mask_cpu.size();
    for (int k = 0; k < o.samples; ++k) {
      RandomWalk s = generate(g, rng, o.max_tokens, mask_wall, mask_cpu);
      ojson js = {{"text", s.text}, {"finished", s.finished}, {"tokens", s.tokens}};
      if (!o.tools.empty()) {
        const ParsedOutput p = parse_output(s.text);
        ojson calls = ojson::array();
        for (const ToolCall& c : p.tool_calls)
          calls.push_back({{"name", c.name}, {"arguments", ojson::parse(c.arguments.dump())}});
        js["tool_calls"] = calls;
        js["content"] = p.content;
      }
      samples.push_back(js);
      ++total;
      finished += s.finished;
    }
    rec["samples"] = samples;
    const std::vector<double> mine(mask_cpu.begin() + static_cast<long>(first_step),
                                   mask_cpu.end());
    rec["mask_cpu_us_p50"] = percentile(mine, 0.5);
    rec["mask_cpu_us_max"] = mine.empty() ? 0.0 : *std::max_element(mine.begin(), mine.end());
    std::fprintf(out, "%s\n", rec.dump(-1, ' ', false, ojson::error_handler_t::replace).c_str());
    std::fflush(out);
  }
  const ojson summary = {
      {"summary", true},
      {"grammars", jobs.size()},
      {"compiled", accepted},
      {"refused", refused},
      {"samples", total},
      {"finished", finished},
      {"compile_ms_p50", percentile(compile_wall, 0.5)},
      {"compile_ms_p99", percentile(compile_wall, 0.99)},
      {"compile_cpu_ms_p50", percentile(compile_cpu, 0.5)},
      {"compile_cpu_ms_p99", percentile(compile_cpu, 0.99)},
      {"mask_steps", mask_wall.size()},
      {"mask_us_p50", percentile(mask_wall, 0.5)},
      {"mask_us_p99", percentile(mask_wall, 0.99)},
      {"mask_cpu_us_p50", percentile(mask_cpu, 0.5)},
      {"mask_cpu_us_p99", percentile(mask_cpu, 0.99)},
  };
  std::fprintf(out, "%s\n", summary.dump().c_str());
  if (out != stdout) std::fclose(out);
  std::fprintf(stderr, "%s\n", summary.dump().c_str());
}

}  // namespace

void register_grammar_check(CLI::App& app) {
  auto* cmd = app.add_subcommand("grammar-check",
                                 "compile grammars/schemas on a real vocabulary, generate from "
                                 "random logits under them, time masks");
  cmd->group("");  // a developer tool: not listed in --help
  static Options o;
  cmd->add_option("-m,--model", o.model, "GGUF file or HF folder (for its vocabulary)");
  cmd->add_option("--npm-vocab", o.npm_vocab,
                  "the npm Gemma 3 tokenizer.json (Gemma 4 vocabulary)");
  cmd->add_option("--schema", o.schemas, "JSON Schema file; repeatable");
  cmd->add_option("--gbnf", o.gbnf, "GBNF grammar file");
  cmd->add_flag("--json-object", o.json_object, "any JSON object");
  cmd->add_option("--tools", o.tools, "JSON file with an OpenAI tools array");
  cmd->add_option("--tool-choice", o.tool_choice, "auto, required, a name or a JSON object");
  cmd->add_flag("--thought", o.thought, "allow a free thought block first");
  cmd->add_option("--samples", o.samples, "outputs per grammar (default 1)");
  cmd->add_option("--max-tokens", o.max_tokens, "token budget per output (default 1024)");
  cmd->add_option("--seed", o.seed, "random seed");
  cmd->add_flag("--print-grammar", o.print_grammar, "include the GBNF in the output");
  cmd->add_option("-o,--out", o.out, "JSON lines output (default stdout)");
  cmd->callback([] { run(o); });
}

}  // namespace ug::cli
