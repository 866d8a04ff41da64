// `unigemma chat -m MODEL`: interactive multi-turn chat in the terminal, a client of the engine
// like `run` and the server. The conversation is re-rendered every turn; the engine's prefix
// cache keeps the common prefix, so only the new part is computed.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/generation_args.h"
#include "cli/run_live.h"
#include "runtime/multimodal.h"
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

struct ChatCli {
  GenerationArgs gen;
  const CLI::App* cmd = nullptr;
};

const char* kHelp =
    "commands: /image PATH, /audio PATH, /video PATH (attach to your next message), /think on|off,"
    " /clear (new conversation), /exit; Ctrl-C stops an answer, Ctrl-D leaves\n";

// The conversation so far and what the next message carries.
struct Conversation {
  std::vector<ChatMessage> messages;
  std::string raw;                   // --raw: the transcript as typed and answered
  std::vector<MediaInput> media;     // every medium of the conversation, in prompt order
  std::vector<MediaInput> attached;  // waiting for the next message
};

// Handles a /command; false when the line is a message.
bool command(const std::string& line, Conversation& conv, bool& think) {
  if (line == "/help") {
    std::printf("%s", kHelp);
    return true;
  }
  if (line == "/clear") {
    conv = Conversation{};
    std::printf("(new conversation)\n");
    return true;
  }
  if (line.rfind("/think", 0) == 0) {
    std::string arg = line.size() > 7 ? line.substr(7) : "";
    if (arg == "on" || arg == "off") {
      think = arg == "on";
      std::printf("(thinking %s)\n", think ? "on" : "off");
    } else {
      std::printf("usage: /think on|off\n");
    }
    return true;
  }
  const std::pair<const char*, MediaInput::Kind> kinds[] = {{"/image ", MediaInput::Image},
                                                            {"/audio ", MediaInput::Audio},
                                                            {"/video ", MediaInput::Video}};
  for (const auto& [cmd, kind] : kinds)
    if (line.rfind(cmd, 0) == 0) {
      try {
        conv.attached.push_back(read_media_file(line.substr(std::strlen(cmd)), kind));
        std::printf("(attached %s)\n", conv.attached.back().name.c_str());
      } catch (const Error& e) {
        std::printf("error: %s\n", e.what());
      }
      return true;
    }
  if (line[0] == '/') {
    std::printf("unknown command %s\n%s", line.c_str(), kHelp);
    return true;
  }
  return false;
}

void chat_loop(const ChatCli& o) {
  const GenerationArgs& g = o.gen;
  LoadedModel m = g.model.load();
  const Tokenizer& tok = *m.tokenizer;
  std::unique_ptr<Engine> engine = g.make_engine(m, 1024);
  ThreadPool media_pool(g.model.threads);
  Conversation conv;
  conv.attached = g.media.read_in_order(o.cmd);  // --image/--audio/--video: the first message
  if (live_audio_index(conv.attached) >= 0)
    fail("--audio - (audio from standard input) is for `run`; chat reads its lines from there");
  bool think = g.think;
  std::signal(SIGINT, on_sigint);
  std::fprintf(stderr, "%s", kHelp);

  std::string line;
  for (;;) {
    std::printf("> ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/exit" || line == "/quit") break;
    if (command(line, conv, think)) continue;
    line = g.user_text(line);  // -e applies to every message typed, as in llama.cpp

    std::string text;
    ChatMessage user{"user", {}, "", {}, "", ""};
    if (g.raw) {
      // The transcript as typed: special tokens parsed, media placeholders taken in order.
      text = conv.raw + line;
      const std::string& bos = tok.piece(tok.bos_id());
      if (tok.add_bos() && text.compare(0, bos.size(), bos) != 0) text = bos + text;
    } else {
      std::vector<ChatMessage> msgs;
      if (!g.system.empty())
        msgs.push_back({"system", {{ContentPart::Text, g.system}}, "", {}, "", ""});
      msgs.insert(msgs.end(), conv.messages.begin(), conv.messages.end());
      for (const auto& in : conv.attached) user.parts.push_back(media_part(in.kind));
      user.parts.push_back({ContentPart::Text, line});
      msgs.push_back(user);
      ChatOptions co;
      co.enable_thinking = think;
      text = render_chat(msgs, co);
    }
    std::vector<MediaInput> media = conv.media;
    media.insert(media.end(), conv.attached.begin(), conv.attached.end());
    EngineResult r;
    std::vector<int32_t> prompt_ids;
    try {
      Prompt p = build_multimodal_prompt(m, media_pool, text, media, g.media.options());
      prompt_ids = p.tokens;
      g_interrupt = false;
      g_generating = true;
      r = generate(*engine, g.request(m, std::move(p), think && !g.raw),
                   g.json ? nullptr : print_token, &g_interrupt);
      g_generating = false;
    } catch (const Error& e) {
      g_generating = false;
      std::printf("error: %s\n", e.what());
      if (!g.raw) conv.attached.clear();
      continue;
    }
    if (g.json)
      std::printf("%s\n", result_json(prompt_ids, r).c_str());
    else
      std::printf(r.stop_reason == StopReason::kCancelled ? " [stopped]\n" : "\n");
    if (r.stop_reason == StopReason::kError) {
      std::printf("error: %s\n", r.error.c_str());
      continue;
    }
    conv.media.insert(conv.media.end(), conv.attached.begin(), conv.attached.end());
    conv.attached.clear();
    if (g.raw) {
      conv.raw += line + r.text;
      continue;
    }
    ParsedOutput parsed = parse_output(r.text);
    conv.messages.push_back(std::move(user));
    ChatMessage answer{"assistant", {{ContentPart::Text, parsed.content}}, parsed.reasoning, {}, "",
                       ""};
    answer.tool_calls = parsed.tool_calls;
    conv.messages.push_back(std::move(answer));
  }
}

}  // namespace

void register_chat(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "interactive chat in the terminal");
  static ChatCli o;
  o.gen.add_to(cmd, 1024);
  o.cmd = cmd;
  cmd->callback([] {
    o.gen.finish();
    chat_loop(o);
  });
}

}  // namespace ug::cli
