// `unigemma run -m MODEL -p PROMPT`: one generation through the engine, streamed to stdout (or
// one JSON document).
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/generation_args.h"
#include "cli/run_live.h"
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
std::string prompt_text(const RunOptions& o, const LoadedModel& m,
                        const std::vector<MediaInput>& media) {
  const Tokenizer& tok = *m.tokenizer;
  if (o.gen.raw) {
    std::string text = o.prompt;
    const std::string& bos = tok.piece(tok.bos_id());
    if (tok.add_bos() && text.compare(0, bos.size(), bos) != 0) text = bos + text;
    return text;
  }
  std::vector<ChatMessage> msgs;
  if (!o.gen.system.empty())
    msgs.push_back({"system", {{ContentPart::Text, o.gen.system}}, "", {}, "", ""});
  ChatMessage user{"user", {}, "", {}, "", ""};
  for (const auto& in : media) user.parts.push_back(media_part(in.kind));
  user.parts.push_back({ContentPart::Text, o.prompt});
  msgs.push_back(std::move(user));
  ChatOptions co;
  co.enable_thinking = o.gen.think;
  return render_chat(msgs, co);
}

void run(const RunOptions& o) {
  LoadedModel m = o.gen.model.load();
  std::vector<MediaInput> media = o.gen.media.read_in_order(o.cmd);
  const std::string text = prompt_text(o, m, media);
  ThreadPool pool(media.empty() ? 1 : o.gen.model.threads);  // the vision/audio projections
  std::unique_ptr<Engine> engine = o.gen.make_engine(m, 256);
  const int live = live_audio_index(media);
  EngineResult r;
  std::vector<int32_t> prompt_ids;
  auto on_token = o.gen.json ? nullptr : print_token;
  if (live >= 0) {
    // --audio -: prefilled while standard input delivers it.
    size_t audio_before = 0;
    for (int i = 0; i < live; ++i) audio_before += media[i].kind == MediaInput::Audio ? 1 : 0;
    media.erase(media.begin() + live);
    LivePromptParts parts =
        split_live_prompt(m, pool, text, media, audio_before, o.gen.media.options());
    r = run_live_audio(*engine, m, pool, o.gen.request(m, Prompt{}, o.gen.think), parts,
                       o.gen.media.options(), 0.5, on_token, &prompt_ids);
  } else {
    Prompt prompt = build_multimodal_prompt(m, pool, text, media, o.gen.media.options());
    prompt_ids = prompt.tokens;
    r = generate(*engine, o.gen.request(m, std::move(prompt), o.gen.think), on_token);
  }
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
