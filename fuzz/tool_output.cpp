// Generated text: thinking blocks, tool calls in the Gemma DSL, stop markers; the streaming parser
// fed in two pieces must agree with the one-shot parser.
#include "fuzz_util.h"
#include "text/output_parser.h"
#include "text/tool_syntax.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = ug::fuzz::as_text(data, size);
  const ug::ParsedOutput whole = ug::parse_output(text);
  ug::StreamingOutputParser stream;
  const size_t cut = size ? data[0] % (size + 1) : 0;
  std::string content, reasoning;
  size_t calls = 0;
  for (const auto& d :
       {stream.push(text.substr(0, cut)), stream.push(text.substr(cut)), stream.finish()}) {
    content += d.content, reasoning += d.reasoning, calls += d.tool_calls.size();
  }
  if (content != whole.content || reasoning != whole.reasoning || calls != whole.tool_calls.size())
    __builtin_trap();
  ug::fuzz::refusals_allowed([&] { ug::gemma_dsl_to_json(text); });
  return 0;
}
