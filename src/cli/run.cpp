// `unigemma run -m MODEL -p PROMPT`: one generation, streamed to stdout (or one JSON document).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/escapes.h"
#include "cli/media_args.h"
#include "cli/model_options.h"
#include "cli/sampling_options.h"
#include "runtime/generator.h"
#include "runtime/multimodal.h"
#include "runtime/speculative.h"
#include "text/chat_format.h"
#include "text/output_parser.h"

namespace ug::cli {

namespace {

struct RunOptions {
  ModelOptions model;
  SamplingOptions sampling;
  MediaArgs media;
  const CLI::App* cmd = nullptr;
  std::string prompt, system;
  bool raw = false, think = false, json = false, escape = false;
  int n_predict = 256, top_logprobs = 5, draft_n = 3;
  std::vector<std::string> stops;
};

// The user turn holds the media in the order given, then the text; with --raw each placeholder
// in the text takes the next input of its kind.
Prompt build_prompt(const RunOptions& o, const LoadedModel& m, ThreadPool& pool) {
  const Tokenizer& tok = *m.tokenizer;
  std::vector<MediaInput> media = o.media.read_in_order(o.cmd);
  std::string text;
  if (o.raw) {
    text = o.prompt;
    const std::string& bos = tok.piece(tok.bos_id());
    if (tok.add_bos() && text.compare(0, bos.size(), bos) != 0) text = bos + text;
  } else {
    std::vector<ChatMessage> msgs;
    if (!o.system.empty()) msgs.push_back({"system", {{ContentPart::Text, o.system}}, "", {}, "", ""});
    ChatMessage user{"user", {}, "", {}, "", ""};
    for (const auto& in : media) user.parts.push_back(media_part(in.kind));
    user.parts.push_back({ContentPart::Text, o.prompt});
    msgs.push_back(std::move(user));
    ChatOptions co;
    co.enable_thinking = o.think;
    text = render_chat(msgs, co);
  }
  return build_multimodal_prompt(m, pool, text, media, o.media.options());
}

void run(const RunOptions& o) {
  LoadedModel m = o.model.load();
  const Gemma4Config& c = m.weights->config;
  Decoder decoder(m.weights, o.model.threads);
  KvCache cache(c, std::min<int64_t>(o.model.ctx_size, c.context_length));
  Prompt prompt = build_prompt(o, m, decoder.pool());
  GenerateOptions g;
  g.max_tokens = o.n_predict;
  g.sampling = o.sampling.resolve(c);
  g.stop_ids = c.stop_ids;
  g.stop_strings = o.stops;
  g.top_logprobs = o.json ? o.top_logprobs : 0;
  auto stream = [&](const std::string& s) {
    if (!o.json) {
      std::fwrite(s.data(), 1, s.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  };
  GenerateResult r;
  if (m.assistant) {
    SpeculativeStats st;
    r = generate_speculative(decoder, cache, *m.assistant, *m.tokenizer, prompt, g, o.draft_n,
                             stream, nullptr, &st);
    std::fprintf(stderr, "speculative decoding: %lld of %lld drafted tokens accepted (%.1f%%) in "
                 "%lld verification passes\n", static_cast<long long>(st.accepted),
                 static_cast<long long>(st.drafted), 100.0 * st.acceptance(),
                 static_cast<long long>(st.verify_passes));
  } else {
    r = generate(decoder, cache, *m.tokenizer, prompt, g, stream);
  }
  if (o.json) {
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
    nlohmann::json doc = {{"prompt_ids", prompt.tokens},
                          {"generated_ids", r.generated},
                          {"text", r.text},
                          {"content", parsed.content},
                          {"reasoning", parsed.reasoning},
                          {"tool_calls", calls},
                          {"stop_reason", r.stop_reason},
                          {"steps", steps},
                          {"timings",
                           {{"prompt_tokens", r.prompt_tokens},
                            {"prompt_seconds", r.prompt_seconds},
                            {"generated_tokens", r.generated.size()},
                            {"generation_seconds", r.generation_seconds}}}};
    std::printf("%s\n", doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
  }
  std::fflush(stdout);  // the timing line on stderr comes after the answer
  const double pp = r.prompt_seconds > 0 ? r.prompt_tokens / r.prompt_seconds : 0;
  const double tg = r.generation_seconds > 0 ? r.generated.size() / r.generation_seconds : 0;
  std::fprintf(stderr, "prompt: %lld tokens in %.2f s (%.2f tok/s) | generation: %zu tokens in "
               "%.2f s (%.2f tok/s) | stop: %s\n",
               static_cast<long long>(r.prompt_tokens), r.prompt_seconds, pp, r.generated.size(),
               r.generation_seconds, tg, r.stop_reason.c_str());
}

}  // namespace

void register_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "generate text for one prompt");
  static RunOptions o;
  o.model.add_to(cmd);
  o.sampling.add_to(cmd);
  o.media.add_to(cmd);
  o.cmd = cmd;
  cmd->add_option("-p,--prompt", o.prompt, "the prompt (the user message, or raw text with --raw)")
      ->required();
  cmd->add_option("--system", o.system, "system prompt");
  cmd->add_flag("--raw", o.raw, "no chat template: tokenize the prompt as is (special tokens parsed)");
  cmd->add_flag("--think", o.think, "enable thinking mode");
  cmd->add_flag("-e,--escape", o.escape,
                "process escapes (\\n \\t \\\\ \\\" \\' \\xNN) in the prompt, --system and --stop");
  cmd->add_option("-n,--n-predict", o.n_predict, "maximum tokens to generate")->capture_default_str();
  cmd->add_option("--stop", o.stops, "stop string (repeatable)");
  cmd->add_option("--draft-n", o.draft_n, "tokens the assistant drafts per step (with --assistant)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cmd->add_flag("--json", o.json, "print one JSON document with ids, text and log-probabilities");
  cmd->add_option("--top-logprobs", o.top_logprobs, "candidates per step in --json output")
      ->capture_default_str();
  cmd->callback([] {
    if (o.escape) {
      o.prompt = process_escapes(o.prompt);
      o.system = process_escapes(o.system);
      for (auto& s : o.stops) s = process_escapes(s);
    }
    if (o.raw && (!o.system.empty() || o.think))
      fail("--raw applies no chat template, so --system and --think cannot be used with it");
    run(o);
  });
}

}  // namespace ug::cli
