// `unigemma run -m MODEL -p PROMPT`: one generation through the engine, streamed to stdout (or
// one JSON document).
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/generation_args.h"
#include "runtime/multimodal.h"
#include "text/chat_format.h"

namespace ug::cli {

namespace {

struct RunOptions {
  GenerationArgs gen;
  const CLI::App* cmd = nullptr;
  std::string prompt;
};

// The user turn holds the media in the order given, then the text; with --raw each placeholder
// in the text takes the next input of its kind.
Prompt build_prompt(const RunOptions& o, const LoadedModel& m) {
  const Tokenizer& tok = *m.tokenizer;
  std::vector<MediaInput> media = o.gen.media.read_in_order(o.cmd);
  std::string text;
  if (o.gen.raw) {
    text = o.prompt;
    const std::string& bos = tok.piece(tok.bos_id());
    if (tok.add_bos() && text.compare(0, bos.size(), bos) != 0) text = bos + text;
  } else {
    std::vector<ChatMessage> msgs;
    if (!o.gen.system.empty())
      msgs.push_back({"system", {{ContentPart::Text, o.gen.system}}, "", {}, "", ""});
    ChatMessage user{"user", {}, "", {}, "", ""};
    for (const auto& in : media) user.parts.push_back(media_part(in.kind));
    user.parts.push_back({ContentPart::Text, o.prompt});
    msgs.push_back(std::move(user));
    ChatOptions co;
    co.enable_thinking = o.gen.think;
    text = render_chat(msgs, co);
  }
  ThreadPool pool(media.empty() ? 1 : o.gen.model.threads);  // the vision/audio projections
  return build_multimodal_prompt(m, pool, text, media, o.gen.media.options());
}

void run(const RunOptions& o) {
  LoadedModel m = o.gen.model.load();
  Prompt prompt = build_prompt(o, m);
  std::unique_ptr<Engine> engine = o.gen.make_engine(m, 256);
  const std::vector<int32_t> prompt_ids = prompt.tokens;
  EngineResult r = generate(*engine, o.gen.request(m, std::move(prompt), o.gen.think),
                            o.gen.json ? nullptr : print_token);
  if (o.gen.json)
    std::printf("%s\n", result_json(prompt_ids, r).c_str());
  else
    std::printf("\n");
  print_timings(r, engine->has_drafter());
  if (r.stop_reason == StopReason::kError) fail("generation failed: ", r.error);
}

}  // namespace

void register_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "generate text for one prompt");
  static RunOptions o;
  o.gen.add_to(cmd, 256);
  o.cmd = cmd;
  cmd->add_option("-p,--prompt", o.prompt, "the prompt (the user message, or raw text with --raw)")
      ->required();
  cmd->callback([] {
    o.gen.finish();
    o.prompt = o.gen.user_text(o.prompt);
    run(o);
  });
}

}  // namespace ug::cli
