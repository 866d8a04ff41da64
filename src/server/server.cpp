#include "server/server.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <set>
#include <thread>

#include "base/error.h"
#include "server/server_state.h"
#include "server/web_assets.h"

namespace ug::server {

namespace {

// Metrics label of a request: the route, or "other" so that random paths cannot grow the set.
std::string route_label(const std::string& path) {
  static const std::set<std::string> known = {"/",
                                              "/health",
                                              "/metrics",
                                              "/tokenize",
                                              "/detokenize",
                                              "/v1/chat/completions",
                                              "/chat/completions",
                                              "/v1/completions",
                                              "/completions",
                                              "/v1/models",
                                              "/models",
                                              "/api/chat",
                                              "/api/generate",
                                              "/api/tags",
                                              "/api/show",
                                              "/api/version"};
  return known.count(path) ? path : "other";
}

bool is_public(const http::Request& req) {
  if (req.path == "/health") return true;
  // The page's static files hold no data; the page sends the key with its API calls.
  if (req.method == "GET" || req.method == "HEAD") {
    if (req.path == "/") return true;
    for (const WebAsset& a : web_assets())
      if (req.path == a.path) return true;
  }
  return false;
}

bool same_key(const std::string& a, const std::string& b) {
  // Compares in time independent of where the strings differ.
  unsigned diff = a.size() != b.size();
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned>(a[i] ^ b[i % b.size()]);
  return diff == 0 && !b.empty();
}

// Errors the HTTP layer produces (bad framing, limits, policy, busy) in the API's shape.
void render_error(const http::Request& req, int status, const std::string& message,
                  http::Response& res) {
  send_json(res, error_body(ApiError(status, message, {}, http::error_type(status)), req.path),
            status);
}

http::Millis millis(double seconds) { return http::Millis(static_cast<int64_t>(seconds * 1000)); }

http::HttpOptions http_options(const ServerOptions& o) {
  http::HttpOptions h;
  h.host = o.host;
  h.port = o.port;
  h.worker_threads = o.http_threads > 0 ? o.http_threads : 64;
  h.worker_queue = 64;
  h.max_connections = o.max_connections;
  h.max_body_bytes = o.max_body_bytes;
  h.header_timeout = millis(o.header_timeout);
  h.body_timeout = millis(o.header_timeout);
  h.idle_timeout = millis(o.keep_alive_timeout);
  h.write_timeout = millis(o.write_timeout);
  h.allowed_hosts = o.allowed_hosts;
  h.cors_origins = o.cors_origins;
  return h;
}

}  // namespace

Server::Server(ServerOptions options) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.opt = std::move(options);
  s.web = std::make_unique<http::HttpServer>(http_options(s.opt));
  // Runs on the I/O thread before the body is read: a request without the key costs nothing.
  s.web->set_pre_route([&s](const http::Request& req, http::Response& res) {
    if (s.opt.api_key.empty() || is_public(req)) return false;
    const std::string auth = req.header("Authorization");
    const std::string prefix = "Bearer ";
    if (auth.rfind(prefix, 0) == 0 && same_key(auth.substr(prefix.size()), s.opt.api_key))
      return false;
    send_json(
        res,
        error_body(ApiError(401, "invalid or missing API key (send Authorization: Bearer KEY)", {},
                            "invalid_request_error", "invalid_api_key"),
                   req.path),
        401);
    res.set_header("WWW-Authenticate", "Bearer");
    return true;
  });
  s.web->set_exception_handler(
      [](const http::Request& req, std::exception_ptr ep, http::Response& res) {
        try {
          std::rethrow_exception(ep);
        } catch (const ApiError& e) {
          send_json(res, error_body(e, req.path), e.status);
          if (e.status == 503) res.set_header("Retry-After", "1");
        } catch (const std::exception& e) {
          send_json(res, error_body(ApiError(500, e.what(), {}, "server_error"), req.path), 500);
        } catch (...) {
          send_json(res, error_body(ApiError(500, "unknown error", {}, "server_error"), req.path),
                    500);
        }
      });
  s.web->set_error_renderer(render_error);
  s.web->set_completion_hook([&s](const http::Request& req, int status) {
    s.metrics.count_request(route_label(req.path), status);
  });
  add_misc_routes(s);
  add_openai_routes(s);
  add_ollama_routes(s);
}

Server::~Server() { stop(); }

int Server::start() {
  State& s = *state_;
  s.port = s.web->start();
  return s.port;
}

void Server::set_model(LoadedModel model, EngineOptions eo, const std::string& path) {
  State& s = *state_;
  auto b = std::make_shared<Backend>();
  b->engine = std::make_unique<Engine>(model.weights, model.tokenizer, eo,
                                       assistant_drafter(model.assistant));
  b->engine->on_first_token([&s](double t) { s.metrics.observe_ttft(t); });
  b->media_pool = std::make_unique<ThreadPool>(eo.threads);
  b->model = std::move(model);
  b->path = path;
  b->created = std::time(nullptr);
  std::error_code ec;
  if (!path.empty()) {
    if (std::filesystem::is_directory(path, ec)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(path, ec))
        if (e.is_regular_file(ec)) b->file_bytes += static_cast<int64_t>(e.file_size(ec));
    } else {
      auto n = std::filesystem::file_size(path, ec);
      if (!ec) b->file_bytes = static_cast<int64_t>(n);
    }
  }
  b->name = s.opt.model_name;
  if (b->name.empty()) {
    std::filesystem::path p(path);
    b->name = p.has_filename() ? p.stem().string() : p.parent_path().filename().string();
    if (b->name.empty()) b->name = "unigemma";
  }
  std::lock_guard<std::mutex> lock(s.backend_mu);
  s.backend_ = std::move(b);
}

void Server::stop() {
  State& s = *state_;
  std::unique_lock<std::mutex> stop_lock(s.stop_mu);
  if (s.stopped) return;
  const auto deadline = std::chrono::steady_clock::now() +
                        http::Millis(static_cast<int64_t>(s.opt.shutdown_timeout * 1000));
  s.web->stop_accepting();
  if (auto b = s.backend()) {
    // Running generations end with a final event (stop reason "shutdown"). The engine can be in
    // the middle of a long forward pass, so this must not hold up the deadline: a thread of its
    // own, which keeps the backend alive until it returns.
    std::thread([b] { b->engine->shutdown(); }).detach();
  }
  s.web->drain(deadline);  // handlers write their last events; their connections close
  s.web->stop();           // whatever is left is cut off
  {
    std::lock_guard<std::mutex> lock(s.backend_mu);
    s.backend_.reset();
  }
  s.stopped = true;
  s.stopped_cv.notify_all();
}

void Server::wait() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.stop_mu);
  s.stopped_cv.wait(lock, [&s] { return s.stopped; });
}

int Server::port() const { return state_->port; }

}  // namespace ug::server
