#include "cli/generation_args.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "base/error.h"
#include "runtime/output_constraint.h"
#include "cli/escapes.h"
#include "text/output_parser.h"

namespace ug::cli {

void GenerationArgs::add_to(CLI::App* cmd, int default_n_predict) {
  n_predict = default_n_predict;
  model.add_to(cmd);
  sampling.add_to(cmd);
  media.add_to(cmd);
  cmd->add_option("--system", system, "system prompt");
  cmd->add_flag("--raw", raw,
                "no chat template: the text is tokenized as is (special tokens parsed)");
  cmd->add_flag("--think", think, "thinking mode");
  cmd->add_flag("-e,--escape", escape,
                "process escapes (\\n \\t \\\\ \\\" \\' \\xNN) in the prompt or typed lines, "
                "--system and --stop");
  cmd->add_option("-n,--n-predict", n_predict, "maximum tokens per answer")
      ->capture_default_str();
  cmd->add_option("--stop", stops, "stop string (repeatable)");
  cmd->add_option("--draft-n", draft_n,
                  "with --assistant: draft tokens per step at most (adapted to the acceptance; "
                  "0: no speculative decoding)")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
  cmd->add_option("--grammar", grammar, "constrain the output with this GBNF grammar");
  cmd->add_option("--grammar-file", grammar_file, "constrain the output with a GBNF grammar file");
  cmd->add_option("-j,--json-schema", json_schema,
                  "constrain the output to JSON that validates against this JSON Schema");
  cmd->add_option("--json-schema-file", json_schema_file,
                  "constrain the output with a JSON Schema file");
  cmd->add_flag("--json", json,
                "print a JSON document per answer with ids, text and log-probabilities");
  cmd->add_option("--top-logprobs", top_logprobs, "candidates per step in --json output")
      ->check(CLI::Range(0, 20))
      ->capture_default_str();
}

void GenerationArgs::finish() {
  if (escape) {
    system = process_escapes(system);
    for (auto& s : stops) s = process_escapes(s);
  }
  if (raw && (!system.empty() || think))
    fail("--raw applies no chat template, so --system and --think cannot be used with it");
  const int constraints = !grammar.empty() + !grammar_file.empty() + !json_schema.empty() +
                          !json_schema_file.empty();
  if (constraints > 1)
    fail("give one of --grammar, --grammar-file, --json-schema and --json-schema-file");
}

namespace {

std::string read_text_file(const std::string& path, const char* flag) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(flag, ": cannot read ", path);
  std::ostringstream s;
  s << f.rdbuf();
  if (s.str().size() > (16u << 20)) fail(flag, ": ", path, " is larger than 16 MiB");
  return s.str();
}

OutputSpec output_spec(const GenerationArgs& g, bool thinking) {
  OutputSpec spec;
  spec.thinking = thinking;
  if (!g.grammar.empty() || !g.grammar_file.empty()) {
    spec.kind = OutputSpec::Kind::kGbnf;
    spec.gbnf = g.grammar.empty() ? read_text_file(g.grammar_file, "--grammar-file") : g.grammar;
  } else if (!g.json_schema.empty() || !g.json_schema_file.empty()) {
    const std::string text = g.json_schema.empty()
                                 ? read_text_file(g.json_schema_file, "--json-schema-file")
                                 : g.json_schema;
    spec.kind = OutputSpec::Kind::kJsonSchema;
    try {
      spec.schema = nlohmann::ordered_json::parse(text);
    } catch (const std::exception& e) {
      fail("--json-schema: not valid JSON: ", e.what());
    }
  }
  return spec;
}

}  // namespace

std::string GenerationArgs::user_text(const std::string& typed) const {
  return escape ? process_escapes(typed) : typed;
}

std::unique_ptr<Engine> GenerationArgs::make_engine(const LoadedModel& m, int64_t rollback) const {
  EngineOptions eo;
  eo.parallel = 1;
  eo.max_queue = 1;
  eo.n_ctx = model.ctx_size;
  eo.threads = model.threads;
  eo.rollback = rollback;
  eo.draft_max = draft_n;
  return std::make_unique<Engine>(m.weights, m.tokenizer, eo, assistant_drafter(m.assistant));
}

EngineRequest GenerationArgs::request(const LoadedModel& m, Prompt prompt, bool thinking) const {
  const Gemma4Config& c = m.weights->config;
  EngineRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = n_predict;
  r.sampling = sampling.resolve(c);
  r.stop_ids = c.stop_ids;
  r.stop_strings = stops;
  r.logprobs = json;
  r.top_logprobs = json ? top_logprobs : 0;
  r.draft = draft_n;
  r.constraint = make_constraint(output_spec(*this, thinking), m.tokenizer);
  return r;
}

bool print_token(const EngineToken& t) {
  std::fwrite(t.text.data(), 1, t.text.size(), stdout);
  std::fflush(stdout);
  return true;
}

std::string result_json(const std::vector<int32_t>& prompt_ids, const EngineResult& r) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : r.steps) {
    nlohmann::json top = nlohmann::json::array();
    for (const auto& [id, lp] : s.top) top.push_back({id, lp});
    steps.push_back({{"id", s.id}, {"logprob", s.logprob}, {"top", top}});
  }
  ParsedOutput parsed = parse_output(r.text);
  nlohmann::json calls = nlohmann::json::array();
  for (const auto& tc : parsed.tool_calls)
    calls.push_back({{"id", tc.id}, {"name", tc.name}, {"arguments", tc.arguments}});
  nlohmann::json doc = {{"prompt_ids", prompt_ids},
                        {"generated_ids", r.generated},
                        {"text", r.text},
                        {"content", parsed.content},
                        {"reasoning", parsed.reasoning},
                        {"tool_calls", calls},
                        {"stop_reason", stop_reason_name(r.stop_reason)},
                        {"steps", steps},
                        {"timings",
                         {{"prompt_tokens", r.prompt_tokens},
                          {"cached_tokens", r.cached_tokens},
                          {"prompt_seconds", r.prompt_seconds},
                          {"generated_tokens", r.generated.size()},
                          {"generation_seconds", r.generation_seconds},
                          {"drafted_tokens", r.drafted},
                          {"accepted_tokens", r.accepted}}}};
  if (r.stop_reason == StopReason::kError) doc["error"] = r.error;
  return doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void print_timings(const EngineResult& r, bool speculative) {
  std::fflush(stdout);  // the timing line on stderr comes after the answer
  const double pp = r.prompt_seconds > 0 ? (r.prompt_tokens - r.cached_tokens) / r.prompt_seconds
                                         : 0;
  const double tg = r.generation_seconds > 0 ? r.generated.size() / r.generation_seconds : 0;
  std::fprintf(stderr,
               "prompt: %lld tokens (%lld cached) in %.2f s (%.2f tok/s) | generation: %zu tokens "
               "in %.2f s (%.2f tok/s) | stop: %s\n",
               static_cast<long long>(r.prompt_tokens), static_cast<long long>(r.cached_tokens),
               r.prompt_seconds, pp, r.generated.size(), r.generation_seconds, tg,
               stop_reason_name(r.stop_reason));
  if (speculative)
    std::fprintf(stderr, "speculative decoding: %lld of %lld drafted tokens accepted (%.1f%%)\n",
                 static_cast<long long>(r.accepted), static_cast<long long>(r.drafted),
                 r.drafted ? 100.0 * r.accepted / r.drafted : 0.0);
}

}  // namespace ug::cli
