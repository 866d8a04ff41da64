// Ollama-compatible routes: /api/chat, /api/generate (NDJSON streams by default), /api/tags,
// /api/show, /api/version.
#include <chrono>
#include <ctime>
#include <utility>

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
// Ollama's logprobs ({token, logprob, bytes, top_logprobs}) of the answer tokens given.
json ollama_logprobs(const Backend& b, const std::vector<StepInfo>& steps) {
  return chat_logprobs(b, steps);
}

// /api/generate's context: the prompt and the answer as token ids (the stop token included, so
// that the next turn continues a closed one), to send back as the next request's context.
json context_of(const Prompt& prompt, const EngineResult& r) {
  json ids = json::array();
  for (int32_t t : prompt.tokens) ids.push_back(t);
  for (int32_t t : r.generated) ids.push_back(t);
  return ids;
}

struct RespondOptions {
  bool chat = false;  // a "message" (/api/chat) or a "response" (/api/generate)
  bool stream = true;
  bool logprobs = false;  // per-token logprobs with each answer chunk
  bool context = false;   // /api/generate: the final line carries `context`
};

void respond(Server::State&, http::Response& res, std::shared_ptr<RequestHandle> handle,
             std::shared_ptr<Backend> b, const Prompt& prompt, RespondOptions ro) {
  const std::string model = b->name;
  const bool chat = ro.chat, stream = ro.stream;
  auto prompt_ptr = ro.context ? std::make_shared<Prompt>(prompt) : nullptr;
  auto held = std::make_shared<std::vector<StepInfo>>();  // streamed logprobs not yet sent
  // The fields only the last object has besides the timings.
  auto finish = [b, ro, prompt_ptr](json& j, const EngineResult& r) {
    j.update(final_fields(r));
    if (prompt_ptr) j["context"] = context_of(*prompt_ptr, r);
    if (ro.logprobs && !ro.stream) j["logprobs"] = ollama_logprobs(*b, r.steps);
  };
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
    stream_response(
        res, "application/json", handle,
        [handle, shape, error_line, finish](const std::vector<EngineToken>&, bool done) {
          if (!done) return std::string();
          const EngineResult& r = handle->result();
          if (r.stop_reason == StopReason::kError) return error_line(r);
          ParsedOutput out = parse_output(r.text);
          json j = shape(out.content, out.reasoning, out.tool_calls);
          finish(j, r);
          return dump(j);
        });
    return;
  }
  auto parser = std::make_shared<StreamingOutputParser>();
  stream_response(res, "application/x-ndjson", handle,
                  [handle, shape, parser, error_line, finish, b, ro, held](
                      const std::vector<EngineToken>& toks, bool done) {
                    std::string out;
                    // Logprobs of tokens whose text the parser still holds back ride on the next
                    // line.
                    std::vector<StepInfo>& steps = *held;
                    auto emit = [&](const StreamingOutputParser::Delta& d) {
                      if (d.content.empty() && d.reasoning.empty() && d.tool_calls.empty()) return;
                      json j = shape(d.content, d.reasoning, d.tool_calls);
                      j["done"] = false;
                      if (ro.logprobs)
                        j["logprobs"] = ollama_logprobs(*b, std::exchange(steps, {}));
                      out += dump(j) + "\n";
                    };
                    for (const EngineToken& t : toks) {
                      if (ro.logprobs && t.step.id >= 0) steps.push_back(t.step);
                      emit(parser->push(t.text));
                    }
                    if (!done) return out;
                    const EngineResult& r = handle->result();
                    if (r.stop_reason == StopReason::kError) return out + error_line(r);
                    emit(parser->finish());
                    json j = shape("", "", {});
                    if (ro.logprobs && !steps.empty()) j["logprobs"] = ollama_logprobs(*b, steps);
                    finish(j, r);
                    return out + dump(j) + "\n";
                  });
}

// keep_alive 0 (a number, or a duration string such as "0" or "0s"): unload after this request.
bool unload_requested(const json& body) {
  auto it = body.find("keep_alive");
  if (it == body.end() || it->is_null()) return false;
  if (it->is_number()) return it->get<double>() == 0;
  if (!it->is_string()) bad_request("keep_alive must be a number or a duration", "keep_alive");
  const std::string v = it->get<std::string>();
  return v == "0" || v == "0s" || v == "0m" || v == "0h";
}

// The top-level logprobs / top_logprobs fields.
void parse_logprobs(const json& body, GenParams& p) {
  if (auto it = body.find("logprobs"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) bad_request("logprobs must be a boolean", "logprobs");
    p.logprobs = it->get<bool>();
  }
  if (auto it = body.find("top_logprobs"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 20)
      bad_request("top_logprobs must be an integer between 0 and 20", "top_logprobs");
    p.top_logprobs = static_cast<int>(it->get<int64_t>());
    if (p.top_logprobs > 0) p.logprobs = true;
  }
}

// The answer to a request that only loads (or, with keep_alive 0, unloads) the model. The model
// stays in memory either way: it is this server's only one.
json load_only(const Backend& b, bool chat, bool unload) {
  json j = {{"model", b.name},
            {"created_at", now_iso()},
            {"done", true},
            {"done_reason", unload ? "unload" : "load"}};
  if (chat)
    j["message"] = {{"role", "assistant"}, {"content", ""}};
  else
    j["response"] = "";
  return j;
}

void api_chat(Server::State& s, const http::Request& req, http::Response& res) {
  auto b = s.need_backend();
  json body = parse_body(req);
  if (!ollama_model_known(s, *b, body, res)) return;
  const bool stream = stream_flag(body);
  ChatInput in = parse_ollama_messages(body);
  GenParams p = parse_ollama_options(body, *b, s.opt);
  parse_logprobs(body, p);
  p.output = parse_ollama_output(body, in.options.tools, in.options.enable_thinking);
  if (in.messages.empty()) {  // Ollama: an empty chat loads (or unloads) the model at once
    send_json(res, load_only(*b, true, unload_requested(body)));
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
  respond(s, res, submit(*b, prompt, p, s.opt), b, prompt, {true, stream, p.logprobs, false});
}

// /api/generate's context: token ids of an earlier exchange (its answer's `context`).
std::vector<int32_t> parse_context(const json& body, const Tokenizer& tok) {
  auto it = body.find("context");
  if (it == body.end() || it->is_null()) return {};
  if (!it->is_array()) bad_request("context must be an array of token ids", "context");
  return parse_token_ids(*it, tok, "context");
}

// The new turn's prompt after an earlier exchange: the context's ids as they were (so a slot's
// prefix cache still holds them), then the turn without its BOS; after a closed model turn
// (<turn|>), the newline the chat format puts between turns.
Prompt after_context(const Backend& b, const std::vector<int32_t>& context, const Prompt& turn) {
  const Tokenizer& tok = *b.model.tokenizer;
  Prompt p;
  p.tokens = context;
  if (is_stop_id(b, context.back())) p.tokens.push_back(tok.encode("\n", false).front());
  const int64_t skip = !turn.tokens.empty() && tok.add_bos() && turn.tokens[0] == tok.bos_id();
  p.append(turn.slice(skip, static_cast<int64_t>(turn.size())));
  return p;
}

void api_generate(Server::State& s, const http::Request& req, http::Response& res) {
  auto b = s.need_backend();
  json body = parse_body(req);
  if (!ollama_model_known(s, *b, body, res)) return;
  const bool stream = stream_flag(body);
  GenParams p = parse_ollama_options(body, *b, s.opt);
  parse_logprobs(body, p);
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
  const std::vector<int32_t> context = parse_context(body, *b->model.tokenizer);
  if (prompt_text.empty() && media.empty()) {  // Ollama: loads (or unloads), generates nothing
    send_json(res, load_only(*b, false, unload_requested(body)));
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
  if (!context.empty()) prompt = after_context(*b, context, prompt);
  respond(s, res, submit(*b, prompt, p, s.opt), b, prompt, {false, stream, p.logprobs, true});
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
    if (!ollama_model_known(s, *b, body, res)) return;
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
  s.get("/api/ps", [&s](const http::Request&, http::Response& res) {
    auto b = s.need_backend();
    const EngineStats st = b->engine->stats();
    // Loaded until the server stops: no expiry. size: the file plus the KV caches allocated.
    send_json(res,
              {{"models",
                json::array({{{"name", b->name},
                              {"model", b->name},
                              {"size", b->file_bytes + static_cast<int64_t>(st.kv_bytes_allocated)},
                              {"digest", ""},
                              {"details", details(*b)},
                              {"expires_at", "2318-01-01T00:00:00Z"},
                              {"size_vram", 0},
                              {"context_length", b->engine->options().n_ctx}}})}});
  });
  s.get("/api/version", [](const http::Request&, http::Response& res) {
    send_json(res, {{"version", "0.12.0"}});
  });
}

}  // namespace ug::server
