// `unigemma chat -m MODEL`: interactive multi-turn chat in the terminal. The conversation is
// re-rendered with the chat template every turn; the KV cache keeps the common prefix, so only
// the new part is computed.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <iostream>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/media_args.h"
#include "cli/model_options.h"
#include "cli/sampling_options.h"
#include "runtime/generator.h"
#include "runtime/multimodal.h"
#include "runtime/prefix_cache.h"
#include "text/chat_format.h"
#include "text/output_parser.h"

namespace ug::cli {

namespace {

std::atomic<bool> g_interrupt{false};
std::atomic<bool> g_generating{false};

void on_sigint(int) {
  if (g_generating.load()) {
    g_interrupt = true;  // stop this answer, stay in the chat
  } else {
    const char msg[] = "\n";
    (void)!::write(STDOUT_FILENO, msg, 1);
    std::_Exit(130);
  }
}

struct ChatOptionsCli {
  ModelOptions model;
  SamplingOptions sampling;
  MediaArgs media;
  std::string system;
  bool think = false;
  int n_predict = 1024;
};

const char* kHelp =
    "commands: /image PATH, /audio PATH, /video PATH (attach to your next message), /think on|off,"
    " /clear (new conversation), /exit; Ctrl-C stops an answer, Ctrl-D leaves\n";

void chat_loop(const ChatOptionsCli& o) {
  LoadedModel m = o.model.load();
  const Gemma4Config& c = m.weights->config;
  Decoder decoder(m.weights, o.model.threads);
  KvCache cache(c, std::min<int64_t>(o.model.ctx_size, c.context_length), 1024);
  std::vector<int32_t> cached;  // the tokens whose K/V the cache holds, in order
  std::vector<ChatMessage> history;
  std::vector<MediaInput> history_media;  // every medium of the conversation, in prompt order
  std::vector<MediaInput> attached;       // waiting for the next message
  bool think = o.think;
  std::signal(SIGINT, on_sigint);
  std::fprintf(stderr, "%s", kHelp);

  std::string line;
  for (;;) {
    std::printf("> ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/help") {
      std::printf("%s", kHelp);
      continue;
    }
    if (line == "/clear") {
      history.clear();
      history_media.clear();
      attached.clear();
      std::printf("(new conversation)\n");
      continue;
    }
    if (line.rfind("/think", 0) == 0) {
      std::string arg = line.size() > 7 ? line.substr(7) : "";
      if (arg == "on" || arg == "off") {
        think = arg == "on";
        std::printf("(thinking %s)\n", think ? "on" : "off");
      } else {
        std::printf("usage: /think on|off\n");
      }
      continue;
    }
    {
      const std::pair<const char*, MediaInput::Kind> kinds[] = {
          {"/image ", MediaInput::Image}, {"/audio ", MediaInput::Audio}, {"/video ", MediaInput::Video}};
      bool handled = false;
      for (const auto& [cmd, kind] : kinds)
        if (line.rfind(cmd, 0) == 0) {
          handled = true;
          try {
            attached.push_back(read_media_file(line.substr(std::strlen(cmd)), kind));
            std::printf("(attached %s)\n", attached.back().name.c_str());
          } catch (const Error& e) {
            std::printf("error: %s\n", e.what());
          }
        }
      if (handled) continue;
    }
    if (line[0] == '/') {
      std::printf("unknown command %s\n%s", line.c_str(), kHelp);
      continue;
    }

    std::vector<ChatMessage> msgs;
    if (!o.system.empty()) msgs.push_back({"system", {{ContentPart::Text, o.system}}, "", {}, "", ""});
    msgs.insert(msgs.end(), history.begin(), history.end());
    ChatMessage user{"user", {}, "", {}, "", ""};
    for (const auto& in : attached) user.parts.push_back(media_part(in.kind));
    user.parts.push_back({ContentPart::Text, line});
    msgs.push_back(user);
    ChatOptions co;
    co.enable_thinking = think;
    std::vector<MediaInput> media = history_media;
    media.insert(media.end(), attached.begin(), attached.end());
    Prompt full;
    try {
      full = build_multimodal_prompt(m, decoder.pool(), render_chat(msgs, co), media,
                                     o.media.options());
    } catch (const Error& e) {
      std::printf("error: %s\n", e.what());
      attached.clear();
      continue;
    }
    const std::vector<int32_t> all = prompt_prefix_keys(full);  // ids; soft rows by content

    // Keep the longest common prefix that the cache can still hold; compute the rest.
    size_t common = 0;
    while (common < cached.size() && common < all.size() && cached[common] == all[common]) ++common;
    if (common == all.size()) --common;  // at least one row must be computed for logits
    common = static_cast<size_t>(keep_outside_blocks(static_cast<int64_t>(common), full));
    if (cache.can_truncate(static_cast<int64_t>(common))) {
      cache.truncate(static_cast<int64_t>(common));
    } else {
      cache.clear();
      common = 0;
    }
    cached.assign(all.begin(), all.begin() + common);
    if (static_cast<int64_t>(all.size()) + 1 >= cache.n_ctx()) {
      std::printf("(the conversation no longer fits the context of %lld tokens; /clear to start "
                  "again)\n", static_cast<long long>(cache.n_ctx()));
      continue;
    }
    Prompt prompt;
    prompt.tokens.assign(full.tokens.begin() + common, full.tokens.end());
    if (!full.soft.empty()) prompt.soft.assign(full.soft.begin() + common, full.soft.end());
    for (const auto& [b, e] : full.bidirectional)
      if (b >= static_cast<int64_t>(common))
        prompt.bidirectional.emplace_back(b - common, e - common);
    GenerateOptions g;
    g.max_tokens = static_cast<int>(std::min<int64_t>(o.n_predict, cache.n_ctx() - all.size()));
    g.sampling = o.sampling.resolve(c);
    g.stop_ids = c.stop_ids;
    g_interrupt = false;
    g_generating = true;
    GenerateResult r;
    try {
      r = generate(decoder, cache, *m.tokenizer, prompt, g, [](const std::string& s) {
        std::fwrite(s.data(), 1, s.size(), stdout);
        std::fflush(stdout);
        return true;
      }, &g_interrupt);
    } catch (const Error& e) {
      g_generating = false;
      cache.clear();
      cached.clear();
      std::printf("\nerror: %s\n", e.what());
      continue;
    }
    g_generating = false;
    std::printf(r.stop_reason == "cancelled" ? " [stopped]\n" : "\n");
    cached.insert(cached.end(), all.begin() + cached.size(), all.end());
    cached.insert(cached.end(), r.generated.begin(), r.generated.end());
    cached.resize(static_cast<size_t>(cache.n_past()));
    ParsedOutput parsed = parse_output(r.text);
    history.push_back(std::move(user));
    history_media.insert(history_media.end(), attached.begin(), attached.end());
    attached.clear();
    ChatMessage answer{"assistant", {{ContentPart::Text, parsed.content}}, parsed.reasoning, {}, "", ""};
    answer.tool_calls = parsed.tool_calls;
    history.push_back(std::move(answer));
  }
}

}  // namespace

void register_chat(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "interactive chat in the terminal");
  static ChatOptionsCli o;
  o.model.add_to(cmd);
  o.sampling.add_to(cmd);
  o.media.add_to(cmd);
  cmd->add_option("--system", o.system, "system prompt");
  cmd->add_flag("--think", o.think, "start with thinking mode on");
  cmd->add_option("-n,--n-predict", o.n_predict, "maximum tokens per answer")->capture_default_str();
  cmd->callback([] { chat_loop(o); });
}

}  // namespace ug::cli
