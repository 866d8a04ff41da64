// Between the routes and the engine: prompts, submission, streaming and waiting.
#include <chrono>

#include "base/error.h"
#include "server/server_state.h"

namespace ug::server {

std::shared_ptr<Backend> Server::State::need_backend() const {
  auto b = backend();
  if (!b) throw ApiError(503, "the model is still loading", {}, "unavailable_error");
  return b;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_json(http::Response& res, const json& j, int status) {
  res.status = status;
  res.set_content(dump(j), "application/json");
}

json error_json(const ApiError& e) {
  json err = {{"message", e.what()},
              {"type", e.type},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"code", e.code.empty() ? json(nullptr) : json(e.code)}};
  return {{"error", err}};
}

std::string token_text(const Tokenizer& tok, int32_t id) {
  std::string s;
  if (id >= 0 && id < tok.vocab_size()) tok.append_token_bytes(s, id);
  return s;
}

Prompt build_prompt(Backend& b, const std::string& text, const std::vector<MediaInput>& media,
                    const MediaOptions& options) {
  try {
    if (media.empty()) {
      Prompt p;
      p.tokens = b.model.tokenizer->encode(text, true);
      return p;
    }
    std::lock_guard<std::mutex> lock(b.media_mu);
    return build_multimodal_prompt(b.model, *b.media_pool, text, media, options);
  } catch (const Error& e) {
    bad_request(e.what());
  }
}

std::shared_ptr<RequestHandle> submit(Backend& b, const Prompt& prompt, const GenParams& p,
                                      const ServerOptions& opt, bool open_prompt) {
  EngineRequest r;
  r.prompt = prompt;
  r.open_prompt = open_prompt;
  r.max_tokens = p.max_tokens > 0 ? p.max_tokens : opt.default_max_tokens;
  r.sampling = p.sampling;
  r.stop_ids = b.model.weights->config.stop_ids;
  r.stop_strings = p.stop;
  r.logprobs = p.logprobs;
  r.top_logprobs = p.top_logprobs;
  r.draft = p.draft;
  try {
    r.constraint = make_constraint(p.output, b.model.tokenizer);
  } catch (const Error& e) {
    const bool tools = p.output.kind == OutputSpec::Kind::kToolCalls;
    const bool gbnf = p.output.kind == OutputSpec::Kind::kGbnf;
    throw ApiError(400, e.what(),
                   tools  ? "tools"
                   : gbnf ? "grammar"
                          : "response_format",
                   "invalid_request_error");
  }
  const int64_t n_ctx = b.engine->options().n_ctx;
  if (static_cast<int64_t>(prompt.tokens.size()) >= n_ctx)
    throw ApiError(400,
                   "the prompt has " + std::to_string(prompt.tokens.size()) +
                       " tokens, more than the context of " + std::to_string(n_ctx) +
                       " tokens allows (start the server with a larger --ctx-size)",
                   "messages", "invalid_request_error", "context_length_exceeded");
  std::shared_ptr<RequestHandle> h;
  try {
    h = b.engine->submit(std::move(r));
  } catch (const Error& e) {
    bad_request(e.what());
  }
  if (!h)
    throw ApiError(503,
                   "the server is busy: every slot is working and the queue is full; retry later",
                   {}, "unavailable_error");
  return h;
}

void stream_response(http::Response& res, const std::string& content_type,
                     std::shared_ptr<RequestHandle> handle, StreamRender render) {
  res.set_header("Cache-Control", "no-cache");
  http::StreamWriter& out = res.stream(content_type);
  for (;;) {
    bool done = false;
    auto tokens = handle->wait(std::chrono::milliseconds(50), done);
    // A client that went away (even during a long prefill) frees its slot at once.
    if (!out.is_open()) {
      handle->cancel();
      return;
    }
    std::string bytes = render(tokens, done);
    if (!bytes.empty() && !out.write(bytes)) {
      handle->cancel();
      return;
    }
    if (done) {
      out.finish();
      return;
    }
  }
}

}  // namespace ug::server
