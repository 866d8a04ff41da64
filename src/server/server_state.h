// Internal to src/server: what the route handlers share.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/thread_pool.h"
#include "http/server.h"
#include "runtime/engine.h"
#include "runtime/output_constraint.h"
#include "server/api_error.h"
#include "server/metrics.h"
#include "server/server.h"
#include "text/chat_format.h"

namespace ug::server {

using nlohmann::json;

// The loaded model and its engine.
struct Backend {
  LoadedModel model;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ThreadPool> media_pool;  // vision/audio encoders, one request at a time
  std::mutex media_mu;
  std::string name;
  std::string path;
  int64_t file_bytes = 0;
  int64_t created = 0;  // unix seconds when loaded
};

// A chat request in API-neutral form.
struct ChatInput {
  std::vector<ChatMessage> messages;
  std::vector<MediaInput> media;  // in placeholder order
  ChatOptions options;
};

// Sampling and limits in API-neutral form.
struct GenParams {
  int max_tokens = 0;  // 0: server default
  SamplingParams sampling;
  std::vector<std::string> stop;
  bool logprobs = false;
  int top_logprobs = 0;
  int draft = -1;      // speculative decoding: -1 the server's --draft-n, 0 off, n at most n
  MediaOptions media;  // the server's, with the request's image_tokens / video_audio
  OutputSpec output;   // structured output (free text by default)
};

struct Server::State {
  ServerOptions opt;
  std::unique_ptr<http::HttpServer> web;
  int port = 0;
  std::mutex stop_mu;
  std::condition_variable stopped_cv;
  bool stopped = false;
  Metrics metrics;
  mutable std::mutex backend_mu;
  std::shared_ptr<Backend> backend_;

  std::shared_ptr<Backend> backend() const {
    std::lock_guard<std::mutex> lock(backend_mu);
    return backend_;
  }
  // The backend, or 503 while the model is loading.
  std::shared_ptr<Backend> need_backend() const;

  // Routes. API POSTs must send Content-Type: application/json (415 otherwise).
  void get(const std::string& path, http::Handler handler, http::RouteOptions options = {}) {
    web->routes().get(path, std::move(handler), options);
  }
  void post_json(const std::string& path, http::Handler handler) {
    http::RouteOptions json;
    json.json_body = true;
    web->routes().post(path, std::move(handler), json);
  }
};

// ---- request parsing (request_parse.cpp)
// 400 on invalid JSON, JSON nested deeper than kMaxJsonDepth, or a non-object.
json parse_json_body(std::string_view body);
json parse_body(const http::Request& req);  // parse_json_body(req.body)
// Media referenced by a URL: data: URLs always; http(s) only when allowed (fetched here).
MediaInput media_from_url(const std::string& url, MediaInput::Kind kind, const std::string& name,
                          const std::string& param, const ServerOptions& opt);
MediaInput media_from_base64(const std::string& data, MediaInput::Kind kind,
                             const std::string& name, const std::string& param);
ChatInput parse_openai_messages(const json& body, const ServerOptions& opt);
// Sampling starts from the model's defaults (`defaults`, or the backend's model file).
GenParams parse_openai_params(const json& body, const Backend& b, const ServerOptions& opt);
GenParams parse_openai_params(const json& body, const SamplingParams& defaults,
                              const ServerOptions& opt);
ChatInput parse_ollama_messages(const json& body);
GenParams parse_ollama_options(const json& body, const Backend& b, const ServerOptions& opt);
GenParams parse_ollama_options(const json& body, const SamplingParams& defaults,
                               const ServerOptions& opt);
// 400 (code context_length_exceeded, naming `param`) when text of `text_bytes` bytes cannot fit
// the context, decided before tokenizing: no token stands for more input bytes than
// Tokenizer::max_token_input_bytes, so a long text is refused at once instead of after seconds of
// tokenization.
void check_text_fits(const Backend& b, size_t text_bytes, const std::string& param);
// Thinking flag from chat_template_kwargs.enable_thinking / reasoning_effort (OpenAI) or
// think (Ollama).
bool openai_thinking(const json& body);
// The fields that match `run` flags beyond OpenAI's and Ollama's own (request_extras.cpp):
// draft_n (or llama.cpp's speculative.n_max), image_tokens, video_audio, audio_block_seconds,
// repeat_last_n. `obj` is the body (OpenAI) or its options (Ollama); prefix names it in errors.
void parse_run_fields(const json& obj, const std::string& prefix, GenParams& p);
// Structured output (output_parse.cpp): tools is the request's tools array (null if none or
// tool_choice is "none"); thinking lets a free thought come first.
OutputSpec parse_openai_output(const json& body, const json& tools, bool thinking);
OutputSpec parse_ollama_output(const json& body, const json& tools, bool thinking);
bool ollama_thinking(const json& body);

// ---- generation (generation.cpp)
Prompt build_prompt(Backend& b, const std::string& text, const std::vector<MediaInput>& media,
                    const MediaOptions& options);
// Queues the request; 503 when the queue is full, 400 when the prompt cannot run.
std::shared_ptr<RequestHandle> submit(Backend& b, const Prompt& prompt, const GenParams& p,
                                      const ServerOptions& opt);
// Streams a response: `render` turns newly produced tokens (and, when done, the result) into
// bytes for the client. A client that goes away cancels the request at once. Non-streaming
// answers go through here too (render returns nothing until done) so that a client that
// disconnects while waiting also frees its slot.
using StreamRender = std::function<std::string(const std::vector<EngineToken>& tokens, bool done)>;
void stream_response(http::Response& res, const std::string& content_type,
                     std::shared_ptr<RequestHandle> handle, StreamRender render);
void send_json(http::Response& res, const json& j, int status = 200);
std::string dump(const json& j);  // invalid UTF-8 replaced, never throws
std::string token_text(const Tokenizer& tok, int32_t id);
json error_json(const ApiError& e);  // OpenAI's shape
// The error body for a request to `path`: Ollama's {"error": "message"} on /api/..., which
// Ollama's own clients expect (they show OpenAI's shape as "[object Object]"); OpenAI's
// elsewhere.
json error_body(const ApiError& e, std::string_view path);

// ---- routes
void add_openai_routes(Server::State& s);
void add_ollama_routes(Server::State& s);
void add_misc_routes(Server::State& s);

}  // namespace ug::server
