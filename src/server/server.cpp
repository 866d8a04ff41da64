#include "server/server.h"

#include <sys/socket.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <set>

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

bool is_public(const httplib::Request& req) {
  if (req.path == "/health") return true;
  // The page's static files hold no data; the page sends the key with its API calls.
  if (req.method == "GET") {
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

const char* status_message(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 413:
      return "the request body is larger than the server's limit";
    case 414:
      return "the request URI is too long";
    default:
      return "request failed";
  }
}

}  // namespace

Server::Server(ServerOptions options) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.opt = std::move(options);
  const int threads = s.opt.http_threads > 0 ? s.opt.http_threads : 64;
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.http.set_payload_max_length(s.opt.max_body_bytes);
  s.http.set_keep_alive_timeout(5);
  // httplib listens with a backlog of 5, so a burst of connections overflows the accept queue and
  // clients see dropped or late connections; remember the socket to listen again with a larger one.
  s.http.set_socket_options([&s](socket_t sock) {
    httplib::default_socket_options(sock);
    s.listen_fd = sock;
  });
  s.http.set_read_timeout(30);
  s.http.set_write_timeout(30);

  s.http.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) {
    if (s.opt.api_key.empty() || is_public(req)) return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (auth.rfind(prefix, 0) == 0 && same_key(auth.substr(prefix.size()), s.opt.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    send_json(
        res,
        error_json(ApiError(401, "invalid or missing API key (send Authorization: Bearer KEY)", {},
                            "invalid_request_error", "invalid_api_key")),
        401);
    res.set_header("WWW-Authenticate", "Bearer");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const ApiError& e) {
          send_json(res, error_json(e), e.status);
        } catch (const std::exception& e) {
          send_json(res, error_json(ApiError(500, e.what(), {}, "server_error")), 500);
        } catch (...) {
          send_json(res, error_json(ApiError(500, "unknown error", {}, "server_error")), 500);
        }
      });
  s.http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    send_json(res,
              error_json(ApiError(res.status, status_message(res.status), {},
                                  res.status == 404 ? "not_found_error" : "invalid_request_error")),
              res.status);
  });
  s.http.set_logger([&s](const httplib::Request& req, const httplib::Response& res) {
    s.metrics.count_request(route_label(req.path), res.status);
  });
  add_misc_routes(s);
  add_openai_routes(s);
  add_ollama_routes(s);
}

Server::~Server() { stop(); }

int Server::start() {
  State& s = *state_;
  if (s.opt.port == 0) {
    s.port = s.http.bind_to_any_port(s.opt.host);
    if (s.port <= 0) fail("cannot listen on ", s.opt.host, " (any port)");
  } else {
    if (!s.http.bind_to_port(s.opt.host, s.opt.port))
      fail("cannot listen on ", s.opt.host, ":", s.opt.port,
           " (is the port in use, or the address not local?)");
    s.port = s.opt.port;
  }
  if (s.listen_fd >= 0) ::listen(s.listen_fd, 1024);  // Linux updates the backlog in place
  s.thread = std::thread([&s] { s.http.listen_after_bind(); });
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
  s.http.stop();
  if (s.thread.joinable()) s.thread.join();
  std::shared_ptr<Backend> b;
  {
    std::lock_guard<std::mutex> lock(s.backend_mu);
    b = std::move(s.backend_);
  }
}

void Server::wait() {
  State& s = *state_;
  while (s.thread.joinable() && !s.http.is_running())  // still starting
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  while (s.http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

int Server::port() const { return state_->port; }

}  // namespace ug::server
