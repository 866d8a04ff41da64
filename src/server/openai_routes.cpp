// OpenAI-compatible routes: /v1/chat/completions, /v1/completions, /v1/models.
#include <algorithm>
#include <ctime>
#include <random>

#include "base/error.h"
#include "server/server_state.h"
#include "text/output_parser.h"

namespace ug::server {

namespace {

std::string random_id(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string s = prefix;
  for (int i = 0; i < 24; ++i) s += kHex[rng() & 15];
  return s;
}

json bytes_of(const std::string& s) {
  json a = json::array();
  for (unsigned char c : s) a.push_back(static_cast<int>(c));
  return a;
}

bool is_stop_id(const Backend& b, int32_t id) {
  const auto& ids = b.model.weights->config.stop_ids;
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// Chat logprobs entries of the tokens that are part of the answer (not the stop token).
json chat_logprobs(const Backend& b, const std::vector<StepInfo>& steps) {
  json content = json::array();
  const Tokenizer& tok = *b.model.tokenizer;
  for (const StepInfo& st : steps) {
    if (st.id < 0 || is_stop_id(b, st.id)) continue;
    std::string t = token_text(tok, st.id);
    json top = json::array();
    for (const auto& [id, lp] : st.top) {
      std::string tt = token_text(tok, id);
      top.push_back({{"token", tt}, {"logprob", lp}, {"bytes", bytes_of(tt)}});
    }
    content.push_back(
        {{"token", t}, {"logprob", st.logprob}, {"bytes", bytes_of(t)}, {"top_logprobs", top}});
  }
  return content;
}

json tool_calls_json(const std::vector<ToolCall>& calls, size_t first_index, bool with_index) {
  json a = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    const ToolCall& c = calls[i];
    json call = {{"id", c.id},
                 {"type", "function"},
                 {"function",
                  {{"name", c.name},
                   {"arguments", c.arguments.is_string() ? c.arguments.get<std::string>()
                                                         : dump(c.arguments)}}}};
    if (with_index) call["index"] = first_index + i;
    a.push_back(std::move(call));
  }
  return a;
}

json usage_json(const EngineResult& r) {
  const int64_t completion = static_cast<int64_t>(r.generated.size());
  return {{"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", completion},
          {"total_tokens", r.prompt_tokens + completion},
          {"prompt_tokens_details", {{"cached_tokens", r.cached_tokens}}}};
}

std::string finish_reason(const EngineResult& r, bool tool_calls) {
  if (r.stop_reason == StopReason::kShutdown) return "shutdown";  // the answer is cut short
  if (tool_calls) return "tool_calls";
  return r.stop_reason == StopReason::kLength ? "length" : "stop";
}

std::string sse(const json& j) { return "data: " + dump(j) + "\n\n"; }

json engine_error(const EngineResult& r) {
  return error_json(ApiError(500, "generation failed: " + r.error, {}, "server_error"));
}

struct StreamOptions {
  bool stream = false, include_usage = false;
};

StreamOptions stream_options(const json& body) {
  StreamOptions o;
  if (body.contains("stream") && !body["stream"].is_null()) o.stream = body["stream"].get<bool>();
  if (body.contains("stream_options") && !body["stream_options"].is_null()) {
    const json& so = body["stream_options"];
    if (!so.is_object()) bad_request("stream_options must be an object", "stream_options");
    if (so.contains("include_usage")) {
      if (!so["include_usage"].is_boolean())
        bad_request("stream_options.include_usage must be a boolean",
                    "stream_options.include_usage");
      o.include_usage = so["include_usage"].get<bool>();
    }
  }
  return o;
}

void chat_completions(Server::State& s, const http::Request& req, http::Response& res) {
  auto b = s.need_backend();
  json body = parse_body(req);
  ChatInput in = parse_openai_messages(body, s.opt);
  GenParams p = parse_openai_params(body, *b, s.opt);
  p.output = parse_openai_output(body, in.options.tools, in.options.enable_thinking);
  StreamOptions so = stream_options(body);
  std::string text;
  try {
    text = render_chat(in.messages, in.options);
  } catch (const Error& e) {
    bad_request(e.what(), "messages");
  }
  check_text_fits(*b, text.size(), "messages");
  Prompt prompt = build_prompt(*b, text, in.media, p.media);
  auto handle = submit(*b, prompt, p, s.opt);

  const std::string id = random_id("chatcmpl-");
  const int64_t created = std::time(nullptr);
  const std::string model = b->name;
  if (!so.stream) {
    stream_response(
        res, "application/json", handle,
        [handle, b, id, created, model, p](const std::vector<EngineToken>&, bool done) {
          if (!done) return std::string();
          const EngineResult& r = handle->result();
          if (r.stop_reason == StopReason::kError) return dump(engine_error(r));
          ParsedOutput out = parse_output(r.text);
          json msg = {{"role", "assistant"}};
          msg["content"] =
              out.content.empty() && !out.tool_calls.empty() ? json(nullptr) : json(out.content);
          if (!out.reasoning.empty()) msg["reasoning_content"] = out.reasoning;
          if (!out.tool_calls.empty())
            msg["tool_calls"] = tool_calls_json(out.tool_calls, 0, false);
          json choice = {{"index", 0},
                         {"message", msg},
                         {"finish_reason", finish_reason(r, !out.tool_calls.empty())}};
          choice["logprobs"] =
              p.logprobs ? json{{"content", chat_logprobs(*b, r.steps)}} : json(nullptr);
          json j = {{"id", id},       {"object", "chat.completion"},      {"created", created},
                    {"model", model}, {"choices", json::array({choice})}, {"usage", usage_json(r)}};
          return dump(j);
        });
    return;
  }

  struct St {
    StreamingOutputParser parser;
    bool started = false;
    size_t n_calls = 0;
  };
  auto st = std::make_shared<St>();
  auto chunk = [id, created, model](json delta, json finish, json logprobs) {
    json choice = {{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish}};
    choice["logprobs"] = std::move(logprobs);
    return json{{"id", id},
                {"object", "chat.completion.chunk"},
                {"created", created},
                {"model", model},
                {"choices", json::array({choice})}};
  };
  stream_response(res, "text/event-stream", handle,
                  [st, chunk, handle, b, p, so, id, created, model](
                      const std::vector<EngineToken>& toks, bool done) {
                    std::string out;
                    if (!st->started) {
                      st->started = true;
                      out += sse(chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
                    }
                    auto emit = [&](const StreamingOutputParser::Delta& d, json logprobs) {
                      json delta = json::object();
                      if (!d.content.empty()) delta["content"] = d.content;
                      if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
                      if (!d.tool_calls.empty()) {
                        delta["tool_calls"] = tool_calls_json(d.tool_calls, st->n_calls, true);
                        st->n_calls += d.tool_calls.size();
                      }
                      if (delta.empty() && logprobs.is_null()) return;
                      out += sse(chunk(std::move(delta), nullptr, std::move(logprobs)));
                    };
                    for (const EngineToken& t : toks) {
                      json lp = nullptr;
                      if (p.logprobs && t.step.id >= 0 && !is_stop_id(*b, t.step.id))
                        lp = json{{"content", chat_logprobs(*b, {t.step})}};
                      emit(st->parser.push(t.text), std::move(lp));
                    }
                    if (!done) return out;
                    const EngineResult& r = handle->result();
                    if (r.stop_reason == StopReason::kError)
                      return out + sse(engine_error(r)) + "data: [DONE]\n\n";
                    emit(st->parser.finish(), nullptr);
                    out += sse(chunk(json::object(), finish_reason(r, st->n_calls > 0), nullptr));
                    if (so.include_usage)
                      out += sse({{"id", id},
                                  {"object", "chat.completion.chunk"},
                                  {"created", created},
                                  {"model", model},
                                  {"choices", json::array()},
                                  {"usage", usage_json(r)}});
                    return out + "data: [DONE]\n\n";
                  });
}

// Legacy logprobs: tokens, token_logprobs, top_logprobs ({token: logprob}), text_offset.
json completion_logprobs(const Backend& b, const std::vector<StepInfo>& steps, size_t offset0) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offs = json::array();
  size_t offset = offset0;
  for (const StepInfo& st : steps) {
    if (st.id < 0 || is_stop_id(b, st.id)) continue;
    std::string t = token_text(*b.model.tokenizer, st.id);
    tokens.push_back(t);
    lps.push_back(st.logprob);
    json top = json::object();
    for (const auto& [id, lp] : st.top) top[token_text(*b.model.tokenizer, id)] = lp;
    tops.push_back(top);
    offs.push_back(offset);
    offset += t.size();
  }
  return {
      {"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
}

void completions(Server::State& s, const http::Request& req, http::Response& res) {
  auto b = s.need_backend();
  json body = parse_body(req);
  GenParams p = parse_openai_params(body, *b, s.opt);
  StreamOptions so = stream_options(body);
  if (!body.contains("prompt")) bad_request("prompt is missing", "prompt");
  json pr = body["prompt"];
  if (pr.is_array() && pr.size() == 1 && pr[0].is_string()) pr = pr[0];
  Prompt prompt;
  const Tokenizer& tok = *b->model.tokenizer;
  if (pr.is_string()) {
    check_text_fits(*b, pr.get_ref<const std::string&>().size(), "prompt");
    prompt.tokens = tok.encode(pr.get<std::string>(), true);
    if (tok.add_bos() && (prompt.tokens.empty() || prompt.tokens[0] != tok.bos_id()))
      prompt.tokens.insert(prompt.tokens.begin(), tok.bos_id());
  } else if (pr.is_array()) {
    for (size_t i = 0; i < pr.size(); ++i) {
      if (!pr[i].is_number_integer())
        bad_request("prompt must be a string or an array of token ids (prompt[" +
                        std::to_string(i) + "] is " + pr[i].type_name() + ")",
                    "prompt");
      const int64_t id = pr[i].get<int64_t>();
      if (id < 0 || id >= tok.vocab_size())
        bad_request("prompt[" + std::to_string(i) + "] = " + std::to_string(id) +
                        " is not a token id (0.." + std::to_string(tok.vocab_size() - 1) + ")",
                    "prompt");
      prompt.tokens.push_back(static_cast<int32_t>(id));
    }
    if (prompt.tokens.empty()) bad_request("prompt must not be empty", "prompt");
  } else {
    bad_request("prompt must be a string or an array of token ids", "prompt");
  }
  p.output = parse_openai_output(body, json(), false);
  auto handle = submit(*b, prompt, p, s.opt);
  const std::string id = random_id("cmpl-");
  const int64_t created = std::time(nullptr);
  const std::string model = b->name;
  auto make = [id, created, model](json choice) {
    return json{{"id", id},
                {"object", "text_completion"},
                {"created", created},
                {"model", model},
                {"choices", json::array({std::move(choice)})}};
  };
  if (!so.stream) {
    stream_response(
        res, "application/json", handle,
        [handle, b, p, make](const std::vector<EngineToken>&, bool done) {
          if (!done) return std::string();
          const EngineResult& r = handle->result();
          if (r.stop_reason == StopReason::kError) return dump(engine_error(r));
          json choice = {
              {"text", r.text}, {"index", 0}, {"finish_reason", finish_reason(r, false)}};
          choice["logprobs"] = p.logprobs ? completion_logprobs(*b, r.steps, 0) : json(nullptr);
          json j = make(choice);
          j["usage"] = usage_json(r);
          return dump(j);
        });
    return;
  }
  auto offset = std::make_shared<size_t>(0);
  stream_response(
      res, "text/event-stream", handle,
      [handle, b, p, so, make, offset](const std::vector<EngineToken>& toks, bool done) {
        std::string out;
        for (const EngineToken& t : toks) {
          json choice = {{"text", t.text}, {"index", 0}, {"finish_reason", nullptr}};
          choice["logprobs"] = nullptr;
          if (p.logprobs && t.step.id >= 0)
            choice["logprobs"] = completion_logprobs(*b, {t.step}, *offset);
          *offset += t.text.size();
          if (t.text.empty() && choice["logprobs"].is_null()) continue;
          out += sse(make(std::move(choice)));
        }
        if (!done) return out;
        const EngineResult& r = handle->result();
        if (r.stop_reason == StopReason::kError) return out + sse(engine_error(r)) + "data: [DONE]\n\n";
        json last = {{"text", ""}, {"index", 0}, {"finish_reason", finish_reason(r, false)}};
        last["logprobs"] = nullptr;
        json j = make(last);
        if (so.include_usage) j["usage"] = usage_json(r);
        return out + sse(j) + "data: [DONE]\n\n";
      });
}

}  // namespace

void add_openai_routes(Server::State& s) {
  s.post_json("/v1/chat/completions", [&s](const http::Request& req, http::Response& res) {
    chat_completions(s, req, res);
  });
  s.post_json("/chat/completions", [&s](const http::Request& req, http::Response& res) {
    chat_completions(s, req, res);
  });
  s.post_json("/v1/completions",
              [&s](const http::Request& req, http::Response& res) { completions(s, req, res); });
  s.post_json("/completions",
              [&s](const http::Request& req, http::Response& res) { completions(s, req, res); });
  auto models = [&s](const http::Request&, http::Response& res) {
    auto b = s.need_backend();
    send_json(res, {{"object", "list"},
                    {"data", json::array({{{"id", b->name},
                                           {"object", "model"},
                                           {"created", b->created},
                                           {"owned_by", "unigemma"}}})}});
  };
  s.get("/v1/models", models);
  s.get("/models", models);
}

}  // namespace ug::server
