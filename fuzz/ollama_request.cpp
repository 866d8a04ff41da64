// Ollama request bodies (/api/chat, /api/generate options) at the JSON level, without HTTP.
#include "fuzz_util.h"
#include "server/server_state.h"
#include "text/chat_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ug::server;
  static const ServerOptions options;
  try {
    const json body = parse_json_body(ug::fuzz::as_text(data, size));
    ug::fuzz::refusals_allowed([&] {
      parse_ollama_options(body, ug::SamplingParams{}, options);
      const ChatInput in = parse_ollama_messages(body);
      json(ug::render_chat(in.messages, in.options))
          .dump(-1, ' ', false, json::error_handler_t::replace);
    });
  } catch (const ApiError&) {
  }
  return 0;
}
