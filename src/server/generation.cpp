// Between the routes and the engine: prompts, submission, streaming and waiting.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

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

std::vector<int32_t> parse_token_ids(const json& a, const Tokenizer& tok,
                                     const std::string& param) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < a.size(); ++i) {
    const json& v = a[i];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= tok.vocab_size())
      bad_request(param + "[" + std::to_string(i) + "] is not a token id (0.." +
                      std::to_string(tok.vocab_size() - 1) + ")",
                  param);
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  return ids;
}

bool model_matches(const Server::State& s, const Backend& b, const std::string& requested) {
  std::string name = requested;
  if (name.size() > 7 && name.compare(name.size() - 7, 7, ":latest") == 0)
    name.resize(name.size() - 7);
  if (name == b.name) return true;
  for (const std::string& a : s.opt.model_aliases)
    if (name == a) return true;
  const std::filesystem::path p(b.path);
  return !b.path.empty() &&
         (name == p.filename().string() || name == p.stem().string() || name == p.string());
}

bool ollama_model_known(const Server::State& s, const Backend& b, const json& body,
                        http::Response& res) {
  auto it = body.find("model");
  if (it == body.end() || it->is_null()) return true;  // no name: the one model
  if (!it->is_string()) bad_request("model must be a string", "model");
  const std::string name = it->get<std::string>();
  if (name.empty() || model_matches(s, b, name)) return true;
  send_json(res, {{"error", "model '" + name + "' not found"}}, 404);
  return false;
}

std::string random_id(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string s = prefix;
  for (int i = 0; i < 24; ++i) s += kHex[rng() & 15];
  return s;
}

namespace {

json bytes_of(const std::string& s) {
  json a = json::array();
  for (unsigned char c : s) a.push_back(static_cast<int>(c));
  return a;
}

}  // namespace

bool is_stop_id(const Backend& b, int32_t id) {
  const auto& ids = b.model.weights->config.stop_ids;
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

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
