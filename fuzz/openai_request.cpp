// OpenAI request bodies (/v1/chat/completions, /v1/completions) at the JSON level, without HTTP:
// the body, messages, sampling parameters, then the chat template rendered from them.
#include "fuzz_util.h"
#include "server/server_state.h"
#include "text/chat_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ug::server;
  static const ServerOptions options;  // remote media off: nothing leaves the process
  try {
    const json body = parse_json_body(ug::fuzz::as_text(data, size));
    ug::fuzz::refusals_allowed([&] {
      parse_openai_params(body, ug::SamplingParams{}, options);
      const ChatInput in = parse_openai_messages(body, options);
      json(ug::render_chat(in.messages, in.options))
          .dump(-1, ' ', false, json::error_handler_t::replace);
    });
  } catch (const ApiError&) {
  }
  return 0;
}
