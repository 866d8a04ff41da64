// Splits generated Gemma 4 text into reasoning (<|channel>thought\n...<channel|>), answer content
// and tool calls (<|tool_call>call:NAME{...}<tool_call|>), in one go or while streaming.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "text/chat_format.h"

namespace ug {

struct ParsedOutput {
  std::string content, reasoning;
  std::vector<ToolCall> tool_calls;  // ids call_0, call_1, ...
};

// Never throws: a tool call whose syntax does not parse stays in the content as written; an
// unclosed channel makes the rest reasoning; stray <channel|> markers and empty channel blocks
// are dropped; text after <turn|> or <|tool_response> (stop tokens) is ignored. Reasoning is
// trimmed at both ends, content at its end; content keeps the whitespace it starts with unless
// a thought block or tool call came before it (as OpenAI and llama.cpp return it, so that it
// agrees with the tokens' logprobs).
ParsedOutput parse_output(std::string_view generated_text);

// Incremental form: feeding any split of a text and then finish() yields, concatenated, exactly
// parse_output of the whole text. Text that may be the start of a marker is held back until it is
// decided, so a partial marker never reaches content or reasoning.
class StreamingOutputParser {
 public:
  struct Delta {
    std::string content, reasoning;
    std::vector<ToolCall> tool_calls;
  };

  Delta push(std::string_view text_piece);
  Delta finish();

 private:
  enum class State { Content, ChannelHeader, Reasoning, ToolCall, Done };

  void run(Delta& out, bool final);
  void emit(Delta& out, std::string_view text);
  void close_tool_call(Delta& out, std::string_view body, bool closed);

  State state_ = State::Content;
  std::string buf_;            // undecided input
  bool header_named_ = false;  // ChannelHeader: "thought" already consumed
  bool content_started_ = false;
  bool after_marker_ = false;  // a marker was seen: content's leading whitespace is format
  std::string content_ws_;     // trailing content whitespace, written once more text follows
  bool reasoning_started_ = false;
  bool block_started_ = false;  // current channel block has produced reasoning text
  std::string reasoning_ws_;
  std::size_t next_call_id_ = 0;
};

}  // namespace ug
