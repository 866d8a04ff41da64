// OpenAI Responses API: POST /v1/responses (plain and streamed as typed SSE events),
// GET and DELETE /v1/responses/{id}. Requests become chat requests (responses_input.cpp); the
// answer becomes output items: reasoning (the thought as summary text), one message with an
// output_text part, and one function_call per tool call.
#include <ctime>
#include <utility>

#include "base/error.h"
#include "server/server_state.h"
#include "text/output_parser.h"

namespace ug::server {

namespace {

const json* present(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

// What a response object echoes of its request, and its identity.
struct ResponseHead {
  std::string id, model;
  int64_t created_at = 0;
  json echo;  // instructions, tools, tool_choice, text, reasoning, ... as the request gave them
};

ResponseHead make_head(const json& body, const GenParams& p, const std::string& model) {
  ResponseHead h;
  h.id = random_id("resp_");
  h.model = model;
  h.created_at = std::time(nullptr);
  auto echo = [&](const char* key, json fallback) {
    const json* v = present(body, key);
    h.echo[key] = v ? *v : std::move(fallback);
  };
  echo("instructions", nullptr);
  echo("max_output_tokens", nullptr);
  echo("previous_response_id", nullptr);
  echo("reasoning", json{{"effort", nullptr}, {"summary", nullptr}});
  echo("store", true);
  echo("text", json{{"format", {{"type", "text"}}}});
  echo("tool_choice", "auto");
  echo("tools", json::array());
  echo("metadata", json::object());
  echo("parallel_tool_calls", true);
  echo("user", nullptr);
  h.echo["temperature"] = p.sampling.temperature;
  h.echo["top_p"] = p.sampling.top_p;
  h.echo["truncation"] = "disabled";
  return h;
}

json usage_json(const EngineResult& r) {
  const int64_t out = static_cast<int64_t>(r.generated.size());
  return {{"input_tokens", r.prompt_tokens},
          {"input_tokens_details", {{"cached_tokens", r.cached_tokens}}},
          {"output_tokens", out},
          {"output_tokens_details", {{"reasoning_tokens", 0}}},
          {"total_tokens", r.prompt_tokens + out}};
}

// status: in_progress, completed, incomplete or failed; r null while in progress.
json response_json(const ResponseHead& h, const std::string& status, json output,
                   const EngineResult* r) {
  json j = {{"id", h.id},
            {"object", "response"},
            {"created_at", h.created_at},
            {"status", status},
            {"error", nullptr},
            {"incomplete_details", nullptr},
            {"model", h.model},
            {"output", std::move(output)},
            {"usage", r ? usage_json(*r) : json(nullptr)}};
  j.update(h.echo);
  if (r && status == "incomplete")
    j["incomplete_details"] = {
        {"reason", r->stop_reason == StopReason::kLength ? "max_output_tokens" : "shutdown"}};
  if (r && status == "failed")
    j["error"] = {{"code", "server_error"}, {"message", "generation failed: " + r->error}};
  return j;
}

std::string final_status(const EngineResult& r) {
  if (r.stop_reason == StopReason::kError) return "failed";
  if (r.stop_reason == StopReason::kLength || r.stop_reason == StopReason::kShutdown)
    return "incomplete";
  return "completed";
}

json reasoning_item(const std::string& id, const std::string& text) {
  json summary = json::array();
  if (!text.empty()) summary.push_back({{"type", "summary_text"}, {"text", text}});
  return {{"id", id}, {"type", "reasoning"}, {"summary", std::move(summary)}};
}

json text_part(const std::string& text, json logprobs) {
  return {{"type", "output_text"},
          {"text", text},
          {"annotations", json::array()},
          {"logprobs", std::move(logprobs)}};
}

json message_item(const std::string& id, const std::string& status, json content) {
  return {{"id", id},
          {"type", "message"},
          {"status", status},
          {"role", "assistant"},
          {"content", std::move(content)}};
}

json call_item(const ToolCall& c, const std::string& status, bool with_arguments) {
  const std::string args =
      c.arguments.is_string() ? c.arguments.get<std::string>() : dump(c.arguments);
  return {{"id", random_id("fc_")},
          {"type", "function_call"},
          {"status", status},
          {"call_id", random_id("call_")},  // unique within a conversation of responses
          {"name", c.name},
          {"arguments", with_arguments ? args : ""}};
}

std::string arguments_of(const ToolCall& c) {
  return c.arguments.is_string() ? c.arguments.get<std::string>() : dump(c.arguments);
}

// Stores a finished response with its conversation unless the request said store: false.
void remember(Server::State& s, const json& response, std::vector<json> history) {
  if (!response.value("store", true)) return;
  for (const json& item : response["output"]) history.push_back(item);
  s.responses.put(response["id"], {response, std::move(history)});
}

// The typed SSE events of one streamed response.
class EventStream {
 public:
  EventStream(ResponseHead head, json logprobs_all)
      : head_(std::move(head)), logprobs_(std::move(logprobs_all)) {}

  std::string start() {
    const json r = response_json(head_, "in_progress", json::array(), nullptr);
    std::string out = event("response.created", {{"response", r}});
    return out + event("response.in_progress", {{"response", r}});
  }
  std::string push(const StreamingOutputParser::Delta& d) {
    std::string out;
    if (!d.reasoning.empty()) {
      if (open_ != Open::Reasoning) out += open_reasoning();
      text_ += d.reasoning;
      out += event("response.reasoning_summary_text.delta", {{"item_id", id_},
                                                             {"output_index", index()},
                                                             {"summary_index", 0},
                                                             {"delta", d.reasoning}});
    }
    if (!d.content.empty()) {
      if (open_ != Open::Message) out += open_message();
      text_ += d.content;
      out += event("response.output_text.delta", {{"item_id", id_},
                                                  {"output_index", index()},
                                                  {"content_index", 0},
                                                  {"delta", d.content},
                                                  {"logprobs", json::array()}});
    }
    for (const ToolCall& c : d.tool_calls) {
      out += close();
      json item = call_item(c, "in_progress", false);
      const std::string item_id = item["id"];
      out += event("response.output_item.added", {{"output_index", index()}, {"item", item}});
      const std::string args = arguments_of(c);
      out += event("response.function_call_arguments.delta",
                   {{"item_id", item_id}, {"output_index", index()}, {"delta", args}});
      out += event(
          "response.function_call_arguments.done",
          {{"item_id", item_id}, {"output_index", index()}, {"name", c.name}, {"arguments", args}});
      item["status"] = "completed";
      item["arguments"] = args;
      out += event("response.output_item.done", {{"output_index", index()}, {"item", item}});
      output_.push_back(std::move(item));
    }
    return out;
  }
  // The closing events; the finished response object lands in `response`.
  std::string finish(const EngineResult& r, json& response) {
    std::string out;
    const std::string status = final_status(r);
    if (status == "failed") {
      out += close();
      response = response_json(head_, status, output_, &r);
      out += event("error", {{"code", "server_error"},
                             {"message", "generation failed: " + r.error},
                             {"param", nullptr}});
      return out + event("response.failed", {{"response", response}});
    }
    if (output_.empty() && open_ == Open::None) out += open_message();  // always one message
    out += close();
    response = response_json(head_, status, output_, &r);
    return out + event(status == "completed" ? "response.completed" : "response.incomplete",
                       {{"response", response}});
  }

 private:
  enum class Open { None, Reasoning, Message };

  size_t index() const { return output_.size(); }
  std::string event(const std::string& type, json fields) {
    fields["type"] = type;
    fields["sequence_number"] = seq_++;
    return "event: " + type + "\ndata: " + dump(fields) + "\n\n";
  }
  std::string open_reasoning() {
    std::string out = close();
    open_ = Open::Reasoning;
    id_ = random_id("rs_");
    out += event("response.output_item.added",
                 {{"output_index", index()}, {"item", reasoning_item(id_, "")}});
    return out + event("response.reasoning_summary_part.added",
                       {{"item_id", id_},
                        {"output_index", index()},
                        {"summary_index", 0},
                        {"part", {{"type", "summary_text"}, {"text", ""}}}});
  }
  std::string open_message() {
    std::string out = close();
    open_ = Open::Message;
    id_ = random_id("msg_");
    out += event(
        "response.output_item.added",
        {{"output_index", index()}, {"item", message_item(id_, "in_progress", json::array())}});
    return out + event("response.content_part.added", {{"item_id", id_},
                                                       {"output_index", index()},
                                                       {"content_index", 0},
                                                       {"part", text_part("", json::array())}});
  }
  std::string close() {
    std::string out;
    if (open_ == Open::Reasoning) {
      const json part = {{"type", "summary_text"}, {"text", text_}};
      out += event(
          "response.reasoning_summary_text.done",
          {{"item_id", id_}, {"output_index", index()}, {"summary_index", 0}, {"text", text_}});
      out += event(
          "response.reasoning_summary_part.done",
          {{"item_id", id_}, {"output_index", index()}, {"summary_index", 0}, {"part", part}});
      json item = reasoning_item(id_, text_);
      out += event("response.output_item.done", {{"output_index", index()}, {"item", item}});
      output_.push_back(std::move(item));
    } else if (open_ == Open::Message) {
      // The whole answer's token logprobs go with its one text part.
      const json part = text_part(text_, std::exchange(logprobs_, json::array()));
      out += event("response.output_text.done", {{"item_id", id_},
                                                 {"output_index", index()},
                                                 {"content_index", 0},
                                                 {"text", text_},
                                                 {"logprobs", part["logprobs"]}});
      out += event(
          "response.content_part.done",
          {{"item_id", id_}, {"output_index", index()}, {"content_index", 0}, {"part", part}});
      json item = message_item(id_, "completed", json::array({part}));
      out += event("response.output_item.done", {{"output_index", index()}, {"item", item}});
      output_.push_back(std::move(item));
    }
    open_ = Open::None;
    text_.clear();
    return out;
  }

  ResponseHead head_;
  json logprobs_;
  json output_ = json::array();
  Open open_ = Open::None;
  std::string id_, text_;
  int seq_ = 0;
};

// An error of the chat parsers in the Responses API's field names.
ApiError responses_error(const ApiError& e) {
  auto rename = [](std::string s) {
    for (auto [from, to] : {std::pair<std::string, std::string>{"max_tokens", "max_output_tokens"},
                            {"response_format", "text.format"},
                            {"reasoning_effort", "reasoning.effort"},
                            {"messages", "input"}}) {
      for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    }
    return s;
  };
  return ApiError(e.status, rename(e.what()), rename(e.param), e.type, e.code);
}

void create_response(Server::State& s, const http::Request& req, http::Response& res) {
  auto b = s.need_backend();
  json body = parse_body(req);
  bool stream = false;
  if (const json* v = present(body, "stream")) {
    if (!v->is_boolean()) bad_request("stream must be a boolean", "stream");
    stream = v->get<bool>();
  }
  if (const json* v = present(body, "store"); v && !v->is_boolean())
    bad_request("store must be a boolean", "store");
  if (const json* v = present(body, "background"); v && v->is_boolean() && v->get<bool>())
    bad_request("background responses are not supported", "background");
  ResponsesInput ri = parse_responses_input(body, s.responses);
  ChatInput in;
  GenParams p;
  try {
    in = parse_openai_messages(ri.chat, s.opt);
    p = parse_openai_params(ri.chat, *b, s.opt);
    p.output = parse_openai_output(ri.chat, in.options.tools, in.options.enable_thinking);
  } catch (const ApiError& e) {
    throw responses_error(e);
  }
  std::string text;
  try {
    text = render_chat(in.messages, in.options);
  } catch (const Error& e) {
    bad_request(e.what(), "input");
  }
  Prompt prompt = build_prompt(*b, text, in.media, p.media);
  std::shared_ptr<RequestHandle> handle;
  try {
    handle = submit(*b, prompt, p, s.opt);
  } catch (const ApiError& e) {
    throw responses_error(e);
  }
  ResponseHead head = make_head(body, p, b->name);
  auto history = std::make_shared<std::vector<json>>(std::move(ri.items));

  if (!stream) {
    stream_response(
        res, "application/json", handle,
        [&s, handle, b, head, p, history](const std::vector<EngineToken>&, bool done) {
          if (!done) return std::string();
          const EngineResult& r = handle->result();
          const std::string status = final_status(r);
          if (status == "failed")
            return dump(
                error_json(ApiError(500, "generation failed: " + r.error, {}, "server_error")));
          ParsedOutput out = parse_output(r.text);
          json output = json::array();
          if (!out.reasoning.empty())
            output.push_back(reasoning_item(random_id("rs_"), out.reasoning));
          if (!out.content.empty() || out.tool_calls.empty()) {
            json lp = p.logprobs ? chat_logprobs(*b, r.steps) : json::array();
            output.push_back(message_item(random_id("msg_"), "completed",
                                          json::array({text_part(out.content, std::move(lp))})));
          }
          for (const ToolCall& c : out.tool_calls)
            output.push_back(call_item(c, "completed", true));
          json response = response_json(head, status, std::move(output), &r);
          remember(s, response, *history);
          return dump(response);
        });
    return;
  }
  struct St {
    StreamingOutputParser parser;
    std::unique_ptr<EventStream> events;
    bool started = false;
  };
  auto st = std::make_shared<St>();
  st->events = std::make_unique<EventStream>(head, json::array());
  stream_response(res, "text/event-stream", handle,
                  [&s, st, handle, b, p, history](const std::vector<EngineToken>& toks, bool done) {
                    std::string out;
                    if (!st->started) {
                      st->started = true;
                      out += st->events->start();
                    }
                    for (const EngineToken& t : toks)
                      out += st->events->push(st->parser.push(t.text));
                    if (!done) return out;
                    const EngineResult& r = handle->result();
                    if (r.stop_reason != StopReason::kError)
                      out += st->events->push(st->parser.finish());
                    json response;
                    out += st->events->finish(r, response);
                    if (response["status"] != "failed") {
                      if (p.logprobs) {  // the streamed deltas carry none; the final object does
                        for (json& item : response["output"])
                          if (item["type"] == "message")
                            item["content"][0]["logprobs"] = chat_logprobs(*b, r.steps);
                      }
                      remember(s, response, *history);
                    }
                    return out;
                  });
}

std::string id_from_path(const std::string& path) { return path.substr(path.rfind('/') + 1); }

ApiError not_found(const std::string& id) {
  return ApiError(404, "no response with id '" + id + "' is stored on this server", {},
                  "invalid_request_error", "not_found");
}

}  // namespace

void add_responses_routes(Server::State& s) {
  auto create = [&s](const http::Request& req, http::Response& res) {
    create_response(s, req, res);
  };
  s.post_json("/v1/responses", create);
  s.post_json("/responses", create);
  s.get("/v1/responses/{}", [&s](const http::Request& req, http::Response& res) {
    const std::string id = id_from_path(req.path);
    auto r = s.responses.get(id);
    if (!r) throw not_found(id);
    send_json(res, r->response);
  });
  s.web->routes().add("DELETE", "/v1/responses/{}",
                      [&s](const http::Request& req, http::Response& res) {
                        const std::string id = id_from_path(req.path);
                        if (!s.responses.erase(id)) throw not_found(id);
                        send_json(res, {{"id", id}, {"object", "response"}, {"deleted", true}});
                      });
}

}  // namespace ug::server
