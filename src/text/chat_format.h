// Renders a conversation into the Gemma 4 prompt text, byte-for-byte as the canonical chat
// template embedded in the model file (GGUF tokenizer.chat_template) does under Python Jinja.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ug {

struct ContentPart {
  enum Kind { Text, Image, Audio, Video };
  Kind kind = Text;
  std::string text;  // Text parts only
};

struct ToolCall {
  std::string id, name;
  // An object is rendered key-sorted in the DSL; a string is inserted verbatim between the braces
  // (the template's behaviour: callers should parse OpenAI's JSON-string arguments first).
  nlohmann::json arguments;
};

struct ChatMessage {
  std::string role;  // system, developer, user, assistant (rendered "model"), tool
  std::vector<ContentPart> parts;
  std::string reasoning;  // assistant thoughts (OpenAI reasoning_content)
  std::vector<ToolCall> tool_calls;
  std::string tool_name;     // role tool: the function that answered
  std::string tool_call_id;  // role tool: matched against ToolCall::id to find the function name
};

struct ChatOptions {
  bool add_generation_prompt = true;
  bool enable_thinking = false;
  nlohmann::json tools;  // OpenAI-style array of tools, or null
  // Extension (not in the canonical template): replay `reasoning` of every assistant message.
  // Off, reasoning is replayed only for tool-call turns after the last user message.
  bool preserve_thinking = false;
  // 12B/26B/31B template: the generation prompt with thinking off ends in an empty thought.
  bool big_family = true;
};

std::string render_chat(const std::vector<ChatMessage>& messages, const ChatOptions& options);

// The canonical Gemma 4 chat template (big family: 12B/26B/31B), byte for byte as model files
// carry it in tokenizer.chat_template / chat_template.jinja: the template render_chat() renders
// (tests/text checks the two agree under Jinja). A file with another template gets a note.
const std::string& gemma4_chat_template();

// The template's strip_thinking: drops every `<|channel>...<channel|>` span, then trims.
std::string strip_thinking(std::string_view text);

// Prompt placeholder of one media part: <|image|>, <|audio|> or <|video|> ("" for text).
std::string_view media_placeholder(ContentPart::Kind kind);

}  // namespace ug
