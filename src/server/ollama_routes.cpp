// Ollama-compatible routes: /api/chat, /api/generate (NDJSON streams by default), /api/tags,
// /api/show, /api/version.
#include <chrono>
#include <ctime>

#include "base/error.h"
#include "server/server_state.h"
#include "text/output_parser.h"

namespace ug::server {

namespace {

std::string now_iso() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us));
  return buf;
}

bool stream_flag(const json& body) {
  auto it = body.find("stream");
  if (it == body.end() || it->is_null()) return true;  // Ollama streams by default
  if (!it->is_boolean()) bad_request("stream must be a boolean", "stream");
  return it->get<bool>();
}

int64_t ns(double seconds) { return static_cast<int64_t>(seconds * 1e9); }

json final_fields(const EngineResult& r) {
  const double total = r.queue_seconds + r.prompt_seconds + r.generation_seconds;
  return {{"done", true},
          {"done_reason", r.stop_reason == StopReason::kLength     ? "length"
                         : r.stop_reason == StopReason::kShutdown ? "shutdown"
                                                                  : "stop"},
          {"total_duration", ns(total)},
          {"load_duration", 0},
          {"prompt_eval_count", r.prompt_tokens},
          {"prompt_eval_duration", ns(r.prompt_seconds)},
          {"eval_count", static_cast<int64_t>(r.generated.size())},
          {"eval_duration", ns(r.generation_seconds)}};
}

json ollama_tool_calls(const std::vector<ToolCall>& calls) {
  json a = json::array();
  for (const ToolCall& c : calls)
    a.push_back({{"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  return a;
}

// chat: true for /api/chat (a "message"), false for /api/generate (a "response").
void respond(Server::State&, http::Response& res, std::shared_ptr<RequestHandle> handle,
             const std::string& model, bool chat, bool stream) {
  auto shape = [model, chat](const std::string& content, const std::string& thinking,
                             const std::vector<ToolCall>& calls) {
    json j = {{"model", model}, {"created_at", now_iso()}};
    if (chat) {
      json m = {{"role", "assistant"}, {"content", content}};
      if (!thinking.empty()) m["thinking"] = thinking;
      if (!calls.empty()) m["tool_calls"] = ollama_tool_calls(calls);
      j["message"] = m;
    } else {
      j["response"] = content;
      if (!thinking.empty()) j["thinking"] = thinking;
    }
    return j;
  };
  auto error_line = [](const EngineResult& r) {
    return dump({{"error", "generation failed: " + r.error}}) + "\n";
  };
  if (!stream) {
    stream_response(res, "application/json", handle,
                    [handle, shape, error_line](const std::vector<EngineToken>&, bool done) {
                      if (!done) return std::string();
                      const EngineResult& r = handle->result();
                      if (r.stop_reason == StopReason::kError) return error_line(r);
                      ParsedOutput out = parse_output(r.text);
                      json j = shape(out.content, out.reasoning, out.tool_calls);
                      j.update(final_fields(r));
                      return dump(j);
                    });
    return;
  }
  auto parser = std::make_shared<StreamingOutputParser>();
  stream_response(
      res, "application/x-ndjson", handle,
      [handle, shape, parser, error_line](const std::vector<EngineToken>& toks, bool done) {
        std::string out;
        auto emit = [&](const StreamingOutputParser::Delta& d) {
          if (d.content.empty() && d.reasoning.empty() && d.tool_calls.empty()) return;
          json j = shape(d.content, d.reasoning, d.tool_calls);
          j["done"] = false;
          out += dump(j) + "\n";
        };
        for (const EngineToken& t : toks) emit(parser->push(t.text));
        if (!done) return out;
        const EngineResult& r = handle->result();
        if (r.stop_reason == StopReason::kError) return out + error_line(r);
        emit(parser->finish());
        json j = shape("", "", {});
        j.update(final_fields(r));
        return out + dump(j) + "\n";
      });
}

void check_model_field(const json& body) {
  auto it = body.find("model");
  if (it != body.end() && !it->is_null() && !it->is_string())
    bad_request("model must be a string", "model");
}

void api_chat(Server::State& s, const http::Request& req, http::Response& res) {
  auto b = s.need_backend();
  json body = parse_body(req);
  check_model_field(body);
  const bool stream = stream_flag(body);
  ChatInput in = parse_ollama_messages(body);
  GenParams p = parse_ollama_options(body, *b, s.opt);
  p.output = parse_ollama_output(body, in.options.tools, in.options.enable_thinking);
  if (in.messages.empty()) {  // Ollama: an empty chat loads the model and returns at once
    json j = {{"model", b->name},
              {"created_at", now_iso()},
              {"message", {{"role", "assistant"}, {"content", ""}}},
              {"done", true},
              {"done_reason", "load"}};
    send_json(res, j);
    return;
  }
  std::string text;
  try {
    text = render_chat(in.messages, in.options);
  } catch (const Error& e) {
    bad_request(e.what(), "messages");
  }
  check_text_fits(*b, text.size(), "messages");
  Prompt prompt = build_prompt(*b, text, in.media, p.media);
  respond(s, res, submit(*b, prompt, p, s.opt), b->name, true, stream);
}

void api_generate(Server::State& s, const http::Request& req, http::Response& res) {
  auto b = s.need_backend();
  json body = parse_body(req);
  check_model_field(body);
  const bool stream = stream_flag(body);
  GenParams p = parse_ollama_options(body, *b, s.opt);
  auto str = [&](const char* key) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return std::string();
    if (!it->is_string()) bad_request(std::string(key) + " must be a string", key);
    return it->get<std::string>();
  };
  const std::string prompt_text = str("prompt"), system = str("system");
  bool raw = false;
  if (auto it = body.find("raw"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) bad_request("raw must be a boolean", "raw");
    raw = it->get<bool>();
  }
  std::vector<MediaInput> media;
  std::vector<ContentPart> parts;
  if (auto it = body.find("images"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) bad_request("images must be an array", "images");
    for (size_t j = 0; j < it->size(); ++j) {
      const std::string pp = "images[" + std::to_string(j) + "]";
      if (!(*it)[j].is_string()) bad_request(pp + " must be a base64 string", pp);
      media.push_back(media_from_base64((*it)[j].get<std::string>(), MediaInput::Image,
                                        "image " + std::to_string(j + 1), pp));
      parts.push_back({ContentPart::Image, ""});
    }
  }
  if (prompt_text.empty() && media.empty()) {  // Ollama: loads the model, generates nothing
    send_json(res, {{"model", b->name},
                    {"created_at", now_iso()},
                    {"response", ""},
                    {"done", true},
                    {"done_reason", "load"}});
    return;
  }
  std::string text;
  if (raw) {
    text = prompt_text;
    for (const auto& part : parts) text = std::string(media_placeholder(part.kind)) + text;
  } else {
    std::vector<ChatMessage> msgs;
    if (!system.empty()) msgs.push_back({"system", {{ContentPart::Text, system}}, "", {}, "", ""});
    parts.push_back({ContentPart::Text, prompt_text});
    msgs.push_back({"user", parts, "", {}, "", ""});
    ChatOptions co;
    co.enable_thinking = ollama_thinking(body);
    text = render_chat(msgs, co);
  }
  check_text_fits(*b, text.size(), "prompt");
  p.output = parse_ollama_output(body, json(), !raw && ollama_thinking(body));
  Prompt prompt = build_prompt(*b, text, media, p.media);
  respond(s, res, submit(*b, prompt, p, s.opt), b->name, false, stream);
}

json details(const Backend& b) {
  const Gemma4Config& c = b.model.weights->config;
  return {{"format", b.model.weights->format},
          {"family", "gemma4"},
          {"families", json::array({"gemma4"})},
          {"parameter_size", std::to_string(c.text_param_count() / 1000000) + "M"},
          {"quantization_level", ""}};
}

}  // namespace

void add_ollama_routes(Server::State& s) {
  s.post_json("/api/chat",
              [&s](const http::Request& req, http::Response& res) { api_chat(s, req, res); });
  s.post_json("/api/generate",
              [&s](const http::Request& req, http::Response& res) { api_generate(s, req, res); });
  s.get("/api/tags", [&s](const http::Request&, http::Response& res) {
    auto b = s.need_backend();
    std::tm tm{};
    std::time_t t = b->created;
    gmtime_r(&t, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    send_json(res, {{"models", json::array({{{"name", b->name},
                                             {"model", b->name},
                                             {"modified_at", when},
                                             {"size", b->file_bytes},
                                             {"digest", ""},
                                             {"details", details(*b)}}})}});
  });
  s.post_json("/api/show", [&s](const http::Request& req, http::Response& res) {
    auto b = s.need_backend();
    json body = parse_body(req);
    check_model_field(body);
    const Gemma4Config& c = b->model.weights->config;
    json caps = json::array({"completion", "tools", "thinking"});
    if (b->model.weights->vision) caps.push_back("vision");
    if (b->model.weights->audio) caps.push_back("audio");
    send_json(res,
              {{"modelfile", ""},
               {"parameters", "temperature " + std::to_string(c.temperature) + "\ntop_k " +
                                  std::to_string(c.top_k) + "\ntop_p " + std::to_string(c.top_p)},
               {"template", b->model.chat_template},
               {"details", details(*b)},
               {"model_info",
                {{"general.architecture", "gemma4"},
                 {"gemma4.block_count", c.n_layer},
                 {"gemma4.embedding_length", c.n_embd},
                 {"gemma4.context_length", c.context_length},
                 {"gemma4.attention.sliding_window", c.sliding_window},
                 {"general.parameter_count", c.text_param_count()}}},
               {"capabilities", caps}});
  });
  s.get("/api/version", [](const http::Request&, http::Response& res) {
    send_json(res, {{"version", "0.12.0"}});
  });
}

}  // namespace ug::server
