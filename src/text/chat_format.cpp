#include "text/chat_format.h"

#include "base/error.h"
#include "text/chat_tools.h"
#include "text/tool_syntax.h"

namespace ug {
namespace {

using nlohmann::json;

// What the template remembers about the last thing it wrote (ns.prev_message_type).
enum class Prev { None, Think, Tool, ToolCall, ToolResponse, Media };

bool is_model_role(const std::string& role) { return role == "assistant" || role == "model"; }

// Jinja truthiness of `message.get('content')`: a message whose parts are only empty texts
// counts as empty, as the "" or null content an OpenAI client sends for it would.
bool has_content(const ChatMessage& m) {
  for (const auto& p : m.parts)
    if (p.kind != ContentPart::Text || !p.text.empty()) return true;
  return false;
}

std::string joined_text(const ChatMessage& m) {
  std::string s;
  for (const auto& p : m.parts)
    if (p.kind == ContentPart::Text) s += p.text;
  return s;
}

std::string tool_response_block(const std::string& name, const std::string& body) {
  return "<|tool_response>response:" + name + "{value:" + json_to_gemma_dsl(json(body)) +
         "}<tool_response|>";
}

std::string tool_call_text(const ToolCall& call) {
  std::string out = "<|tool_call>call:" + call.name + "{";
  if (call.arguments.is_object()) {
    bool first = true;
    for (const auto& [key, value] : dictsort(call.arguments)) {
      if (!first) out += ',';
      first = false;
      out += key + ":" + json_to_gemma_dsl(*value);
    }
  } else if (call.arguments.is_string()) {
    out += call.arguments.get<std::string>();
  }
  return out + "}<tool_call|>";
}

}  // namespace

std::string_view media_placeholder(ContentPart::Kind kind) {
  switch (kind) {
    case ContentPart::Image:
      return "<|image|>";
    case ContentPart::Audio:
      return "<|audio|>";
    case ContentPart::Video:
      return "<|video|>";
    default:
      return "";
  }
}

std::string strip_thinking(std::string_view text) {
  std::string result;
  std::size_t start = 0;
  for (;;) {
    const std::size_t close = text.find("<channel|>", start);
    const std::string_view part = text.substr(
        start, close == std::string_view::npos ? std::string_view::npos : close - start);
    result += part.substr(0, part.find("<|channel>"));
    if (close == std::string_view::npos) break;
    start = close + std::string_view("<channel|>").size();
  }
  return python_strip(result);
}

std::string render_chat(const std::vector<ChatMessage>& messages, const ChatOptions& options) {
  if (!options.tools.is_null() && !options.tools.is_array())
    fail("chat template: tools must be an array of tool objects, found ",
         options.tools.type_name());
  const bool has_tools = options.tools.is_array() && !options.tools.empty();
  const bool leading_system =
      !messages.empty() && (messages[0].role == "system" || messages[0].role == "developer");

  std::string out = "<bos>";
  Prev prev = Prev::None;
  std::size_t first = 0;
  if (options.enable_thinking || has_tools || leading_system) {
    out += "<|turn>system\n";
    if (options.enable_thinking) {
      out += "<|think|>\n";
      prev = Prev::Think;
    }
    if (leading_system) {
      out += python_strip(joined_text(messages[0]));
      first = 1;
    }
    if (has_tools) {
      for (const auto& tool : options.tools)
        out += "<|tool>" + python_strip(format_tool_declaration(tool)) + "<tool|>";
      prev = Prev::Tool;
    }
    out += "<turn|>\n";
  }

  std::ptrdiff_t last_user = -1;
  for (std::size_t i = first; i < messages.size(); ++i)
    if (messages[i].role == "user") last_user = static_cast<std::ptrdiff_t>(i);

  for (std::size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "tool") continue;  // written inside the model turn that made the calls
    prev = Prev::None;
    const std::string role = m.role == "assistant" ? "model" : m.role;

    // A model message right after an assistant message (tool messages between them do not
    // count) continues the same model turn.
    const ChatMessage* prev_non_tool = nullptr;
    for (std::size_t j = i; j-- > first;) {
      if (messages[j].role != "tool") {
        prev_non_tool = &messages[j];
        break;
      }
    }
    const bool continues =
        role == "model" && prev_non_tool != nullptr && prev_non_tool->role == "assistant";
    if (!continues) out += "<|turn>" + role + "\n";

    const bool replay_thoughts =
        options.preserve_thinking
            ? is_model_role(m.role)
            : (static_cast<std::ptrdiff_t>(i) > last_user && !m.tool_calls.empty());
    if (!m.reasoning.empty() && replay_thoughts)
      out += "<|channel>thought\n" + m.reasoning + "\n<channel|>";

    for (const auto& call : m.tool_calls) out += tool_call_text(call);
    if (!m.tool_calls.empty()) prev = Prev::ToolCall;

    bool wrote_responses = false;
    if (!m.tool_calls.empty()) {
      for (std::size_t k = i + 1; k < messages.size() && messages[k].role == "tool"; ++k) {
        const ChatMessage& result = messages[k];
        std::string name = result.tool_name.empty() ? "unknown" : result.tool_name;
        // As in the template, a call without id matches a result without id.
        for (const auto& call : m.tool_calls)
          if (call.id == result.tool_call_id) name = call.name;
        out += tool_response_block(name, joined_text(result));
        wrote_responses = true;
        prev = Prev::ToolResponse;
      }
    }

    for (const auto& part : m.parts) {
      if (part.kind == ContentPart::Text) {
        out += role == "model" ? strip_thinking(part.text) : python_strip(part.text);
      } else {
        out += media_placeholder(part.kind);
        prev = Prev::Media;
      }
    }

    if (prev == Prev::ToolCall && !wrote_responses) {
      out += "<|tool_response>";  // the turn ends where the model stopped to wait for results
    } else if (!(wrote_responses && !has_content(m))) {
      out += "<turn|>\n";
    }
  }

  if (options.add_generation_prompt && prev != Prev::ToolResponse && prev != Prev::ToolCall) {
    out += "<|turn>model\n";
    if (!options.enable_thinking && options.big_family) out += "<|channel>thought\n<channel|>";
  }
  return out;
}

}  // namespace ug
