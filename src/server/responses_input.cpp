// /v1/responses request bodies → the chat-completions body the chat parsers already take (so
// media, tools, structured output and sampling mean the same on both routes). Input items:
// messages (input_text, input_image, input_audio parts), function_call and
// function_call_output, reasoning, and item_reference to an item this server still stores.
#include <map>

#include "server/server_state.h"

namespace ug::server {

namespace {

const json* present(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

std::string str_field(const json& o, const char* key, const std::string& param, bool required) {
  const json* v = present(o, key);
  if (!v) {
    if (required) bad_request(param + "." + key + " is missing", param + "." + key);
    return {};
  }
  if (!v->is_string())
    bad_request(param + "." + key + " must be a string, got " + v->type_name(), param + "." + key);
  return v->get<std::string>();
}

// One Responses content part as a chat content part.
json chat_part(const json& part, const std::string& pp) {
  if (!part.is_object()) bad_request(pp + " must be an object", pp);
  const std::string type = str_field(part, "type", pp, true);
  if (type == "input_text" || type == "output_text" || type == "text")
    return {{"type", "text"}, {"text", str_field(part, "text", pp, true)}};
  if (type == "refusal") return {{"type", "text"}, {"text", str_field(part, "refusal", pp, true)}};
  if (type == "input_image") {
    if (present(part, "file_id"))
      bad_request(pp + ": file ids are not supported; send image_url (a data: URL)", pp);
    const json* u = present(part, "image_url");
    if (!u) bad_request(pp + ".image_url is missing", pp + ".image_url");
    // The Responses API sends a string; accept chat's {url} too.
    const std::string url = u->is_object() ? str_field(*u, "url", pp + ".image_url", true)
                                           : str_field(part, "image_url", pp, true);
    return {{"type", "image_url"}, {"image_url", {{"url", url}}}};
  }
  if (type == "input_audio") {
    const json* a = present(part, "input_audio");
    if (!a || !a->is_object())
      bad_request(pp + ".input_audio must be an object {data, format}", pp + ".input_audio");
    return {{"type", "input_audio"}, {"input_audio", *a}};
  }
  if (type == "input_file")
    bad_request(pp + ": input_file is not supported (send images as input_image, audio as "
                     "input_audio)",
                pp + ".type");
  bad_request(pp + ".type: unsupported content part '" + type +
                  "' (expected input_text, input_image or input_audio)",
              pp + ".type");
}

// Items → chat messages. Consecutive function calls join one assistant message; a reasoning
// item's summary goes with the assistant message that follows it.
class MessageBuilder {
 public:
  void add(const json& item, const std::string& param) {
    if (!item.is_object()) bad_request(param + " must be an object", param);
    std::string type = str_field(item, "type", param, false);
    if (type.empty() && present(item, "role")) type = "message";
    if (type == "message") {
      message(item, param);
    } else if (type == "function_call") {
      const std::string call_id = str_field(item, "call_id", param, true);
      const std::string name = str_field(item, "name", param, true);
      std::string args = str_field(item, "arguments", param, false);
      names_[call_id] = name;
      json& m = assistant();
      m["tool_calls"].push_back(
          {{"id", call_id},
           {"type", "function"},
           {"function", {{"name", name}, {"arguments", args.empty() ? "{}" : args}}}});
    } else if (type == "function_call_output") {
      const std::string call_id = str_field(item, "call_id", param, true);
      const json* out = present(item, "output");
      if (!out) bad_request(param + ".output is missing", param + ".output");
      std::string text;
      if (out->is_string()) {
        text = out->get<std::string>();
      } else if (out->is_array()) {  // input_text parts
        for (size_t j = 0; j < out->size(); ++j)
          text += str_field((*out)[j], "text", param + ".output[" + std::to_string(j) + "]", true);
      } else {
        bad_request(param + ".output must be a string", param + ".output");
      }
      json m = {{"role", "tool"}, {"tool_call_id", call_id}, {"content", text}};
      if (auto it = names_.find(call_id); it != names_.end()) m["name"] = it->second;
      messages_.push_back(std::move(m));
    } else if (type == "reasoning") {
      std::string text;
      for (const char* key : {"summary", "content"})
        if (const json* parts = present(item, key)) {
          if (!parts->is_array()) bad_request(param + "." + key + " must be an array", param);
          for (size_t j = 0; j < parts->size(); ++j) {
            if (!text.empty()) text += "\n";
            text += str_field((*parts)[j], "text",
                              param + "." + key + "[" + std::to_string(j) + "]", true);
          }
        }
      pending_reasoning_ += text;
    } else {
      bad_request(param + ".type: unsupported input item '" + type +
                      "' (expected message, function_call, function_call_output, reasoning or "
                      "item_reference)",
                  param + ".type");
    }
  }
  json take() { return std::move(messages_); }

 private:
  void message(const json& item, const std::string& param) {
    const std::string role = str_field(item, "role", param, true);
    json m = {{"role", role}};
    const json* content = present(item, "content");
    if (!content) bad_request(param + ".content is missing", param + ".content");
    if (content->is_string()) {
      m["content"] = *content;
    } else if (content->is_array()) {
      json parts = json::array();
      for (size_t j = 0; j < content->size(); ++j)
        parts.push_back(chat_part((*content)[j], param + ".content[" + std::to_string(j) + "]"));
      m["content"] = std::move(parts);
    } else {
      bad_request(param + ".content must be a string or an array of parts", param + ".content");
    }
    if (role == "assistant" && !pending_reasoning_.empty()) {
      m["reasoning_content"] = pending_reasoning_;
      pending_reasoning_.clear();
    }
    messages_.push_back(std::move(m));
  }
  // The assistant message that function calls join: the last one if nothing came after it.
  json& assistant() {
    if (messages_.empty() || messages_.back()["role"] != "assistant") {
      json m = {{"role", "assistant"}, {"tool_calls", json::array()}};
      if (!pending_reasoning_.empty()) m["reasoning_content"] = pending_reasoning_;
      pending_reasoning_.clear();
      messages_.push_back(std::move(m));
    }
    json& m = messages_.back();
    if (!m.contains("tool_calls")) m["tool_calls"] = json::array();
    return m;
  }

  json messages_ = json::array();
  std::map<std::string, std::string> names_;  // call_id -> function name
  std::string pending_reasoning_;
};

// Flat Responses tools ({type, name, description, parameters}) → chat tools.
json chat_tools(const json& tools) {
  if (!tools.is_array()) bad_request("tools must be an array", "tools");
  json out = json::array();
  for (size_t k = 0; k < tools.size(); ++k) {
    const std::string tp = "tools[" + std::to_string(k) + "]";
    const json& t = tools[k];
    if (!t.is_object()) bad_request(tp + " must be an object", tp);
    const std::string type = str_field(t, "type", tp, true);
    if (type != "function")
      bad_request(tp + ".type: only function tools are supported here, got '" + type + "'",
                  tp + ".type");
    json fn = {{"name", str_field(t, "name", tp, true)}};
    if (const json* d = present(t, "description")) fn["description"] = *d;
    if (const json* p = present(t, "parameters")) fn["parameters"] = *p;
    if (const json* s = present(t, "strict")) fn["strict"] = *s;
    out.push_back({{"type", "function"}, {"function", std::move(fn)}});
  }
  return out;
}

json chat_tool_choice(const json& tc) {
  if (tc.is_string()) return tc;
  if (!tc.is_object()) bad_request("tool_choice must be a string or an object", "tool_choice");
  const std::string type = str_field(tc, "type", "tool_choice", true);
  if (type != "function")
    bad_request("tool_choice.type: only function is supported, got '" + type + "'", "tool_choice");
  return {{"type", "function"},
          {"function", {{"name", str_field(tc, "name", "tool_choice", true)}}}};
}

// text.format → response_format.
json chat_response_format(const json& text) {
  if (!text.is_object()) bad_request("text must be an object", "text");
  const json* f = present(text, "format");
  if (!f) return nullptr;
  if (!f->is_object()) bad_request("text.format must be an object", "text.format");
  const std::string type = str_field(*f, "type", "text.format", true);
  if (type == "text" || type == "json_object") return {{"type", type}};
  if (type != "json_schema")
    bad_request("text.format.type must be text, json_object or json_schema", "text.format.type");
  const json* schema = present(*f, "schema");
  if (!schema) bad_request("text.format.schema is missing", "text.format.schema");
  json js = {{"schema", *schema}, {"name", str_field(*f, "name", "text.format", false)}};
  if (const json* s = present(*f, "strict")) js["strict"] = *s;
  return {{"type", "json_schema"}, {"json_schema", std::move(js)}};
}

// Sampling and run fields that mean the same on both routes.
constexpr const char* kPassThrough[] = {"temperature",
                                        "top_p",
                                        "top_k",
                                        "min_p",
                                        "seed",
                                        "stop",
                                        "frequency_penalty",
                                        "presence_penalty",
                                        "repeat_penalty",
                                        "repeat_last_n",
                                        "draft_n",
                                        "speculative.n_max",
                                        "image_tokens",
                                        "video_audio",
                                        "audio_block_seconds",
                                        "chat_template_kwargs",
                                        "grammar",
                                        "json_schema"};

}  // namespace

ResponsesInput parse_responses_input(const json& body, ResponseStore& store) {
  ResponsesInput r;
  if (const json* prev = present(body, "previous_response_id")) {
    if (!prev->is_string())
      bad_request("previous_response_id must be a string", "previous_response_id");
    auto stored = store.get(prev->get<std::string>());
    if (!stored)
      throw ApiError(404,
                     "no stored response '" + prev->get<std::string>() +
                         "' (this server keeps the most recent responses in memory only)",
                     "previous_response_id", "invalid_request_error",
                     "previous_response_not_found");
    r.items = std::move(stored->history);
  }
  const json* input = present(body, "input");
  if (!input) bad_request("input is missing", "input");
  if (input->is_string()) {
    r.items.push_back({{"type", "message"}, {"role", "user"}, {"content", *input}});
  } else if (input->is_array()) {
    for (size_t i = 0; i < input->size(); ++i) {
      const json& item = (*input)[i];
      const std::string param = "input[" + std::to_string(i) + "]";
      if (item.is_object() && item.value("type", "") == "item_reference") {
        const std::string id = str_field(item, "id", param, true);
        auto found = store.item(id);
        if (!found)
          bad_request(param + ": no stored item '" + id +
                          "' (this server keeps recent responses in memory only; send the item "
                          "itself or store: true)",
                      param + ".id");
        r.items.push_back(std::move(*found));
      } else {
        r.items.push_back(item);
      }
    }
  } else {
    bad_request("input must be a string or an array of items", "input");
  }

  MessageBuilder mb;
  std::string instructions;
  if (const json* ins = present(body, "instructions")) {
    if (!ins->is_string()) bad_request("instructions must be a string", "instructions");
    instructions = ins->get<std::string>();
  }
  json messages = json::array();
  if (!instructions.empty()) messages.push_back({{"role", "system"}, {"content", instructions}});
  for (size_t i = 0; i < r.items.size(); ++i)
    mb.add(r.items[i], "input[" + std::to_string(i) + "]");
  for (json& m : mb.take()) messages.push_back(std::move(m));
  if (messages.empty()) bad_request("input must not be empty", "input");

  json& chat = r.chat;
  chat = {{"messages", std::move(messages)}};
  for (const char* key : kPassThrough)
    if (const json* v = present(body, key)) chat[key] = *v;
  if (const json* v = present(body, "max_output_tokens")) chat["max_tokens"] = *v;
  if (const json* v = present(body, "tools")) chat["tools"] = chat_tools(*v);
  if (const json* v = present(body, "tool_choice")) chat["tool_choice"] = chat_tool_choice(*v);
  if (const json* v = present(body, "text"))
    if (json rf = chat_response_format(*v); !rf.is_null()) chat["response_format"] = rf;
  if (const json* v = present(body, "reasoning")) {
    if (!v->is_object()) bad_request("reasoning must be an object", "reasoning");
    const json* effort = present(*v, "effort");
    chat["reasoning_effort"] = effort ? *effort : json("medium");
  }
  // Logprobs: top_logprobs, or include: ["message.output_text.logprobs"].
  bool logprobs = false;
  if (const json* inc = present(body, "include")) {
    if (!inc->is_array()) bad_request("include must be an array", "include");
    for (const json& v : *inc) logprobs = logprobs || v == "message.output_text.logprobs";
  }
  if (const json* v = present(body, "top_logprobs")) {
    chat["top_logprobs"] = *v;
    logprobs = true;
  }
  if (logprobs) chat["logprobs"] = true;
  return r;
}

}  // namespace ug::server
