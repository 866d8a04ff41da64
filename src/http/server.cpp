#include "http/server.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "http/core.h"

namespace ug::http {

const char* error_type(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 503:
      return "unavailable_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

namespace {

void default_error(const Request&, int status, const std::string& message, Response& res) {
  nlohmann::json j = {{"error", {{"message", message}, {"type", error_type(status)}}}};
  res.status = status;
  res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

}  // namespace

// ---- Core

void HttpServer::Core::add_connection(const std::shared_ptr<Connection>& c) {
  std::lock_guard<std::mutex> lock(mu);
  connections[c.get()] = c;
}

void HttpServer::Core::remove_connection(const Connection* c) {
  {
    std::lock_guard<std::mutex> lock(mu);
    connections.erase(c);
  }
  cv.notify_all();
}

int HttpServer::Core::connection_count() const {
  std::lock_guard<std::mutex> lock(mu);
  return static_cast<int>(connections.size());
}

void HttpServer::Core::add_exchange(const std::shared_ptr<detail::Exchange>& ex) {
  std::lock_guard<std::mutex> lock(mu);
  exchanges.insert(ex);
}

void HttpServer::Core::remove_exchange(const std::shared_ptr<detail::Exchange>& ex) {
  {
    std::lock_guard<std::mutex> lock(mu);
    exchanges.erase(ex);
  }
  cv.notify_all();
}

void HttpServer::Core::render_error(const Request& req, int status, const std::string& message,
                                    Response& res) const {
  if (error_renderer)
    error_renderer(req, status, message, res);
  else
    default_error(req, status, message, res);
  res.status = status;
}

void HttpServer::Core::run_handler(detail::Exchange& ex, const Route& route) const {
  try {
    route.handler(ex.request, ex.response);
  } catch (...) {
    bool started;
    {
      std::lock_guard<std::mutex> lock(ex.mu);
      started = ex.stream_started;
      ex.handler_failed = started;
    }
    if (!started) {
      // What the handler set before failing is dropped, except CORS headers added by the server.
      Headers keep;
      for (const auto& [k, v] : ex.response.headers)
        if (k.rfind("Access-Control-", 0) == 0 || iequals(k, "Vary")) keep.add(k, v);
      ex.response.headers = std::move(keep);
      ex.response.body.clear();
      ex.response.close = false;
      try {
        if (exception_handler)
          exception_handler(ex.request, std::current_exception(), ex.response);
        else
          render_error(ex.request, 500, "internal error", ex.response);
      } catch (...) {
        render_error(ex.request, 500, "internal error", ex.response);
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(ex.mu);
    ex.handler_done = true;
    if (ex.stream_started) ex.stream_finished = true;
  }
  ex.notify_io();
}

asio::awaitable<void> HttpServer::Core::accept_loop() {
  for (;;) {
    tcp::socket socket(asio::make_strand(ioc));
    auto [ec] = co_await acceptor.async_accept(socket, kAwait);
    if (stopping || !acceptor.is_open()) co_return;
    if (ec) {
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
          ec == asio::error::no_memory) {
        // Out of file descriptors: wait a moment rather than spin on the pending connection.
        asio::steady_timer pause(ioc, std::chrono::milliseconds(50));
        co_await pause.async_wait(kAwait);
      }
      continue;
    }
    const int open = connection_count();
    if (open >= opt.max_connections + opt.overflow_connections) {
      ++rejected;
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    const bool overflow = open >= opt.max_connections;
    if (overflow) ++rejected;
    auto c = std::make_shared<Connection>(*this, std::move(socket), overflow);
    add_connection(c);
    asio::co_spawn(
        c->executor(), [c]() -> asio::awaitable<void> { co_await c->run(); }, asio::detached);
  }
}

// ---- HttpServer

HttpServer::HttpServer(HttpOptions options)
    : core_(std::make_unique<Core>(std::move(options), router_)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::set_error_renderer(ErrorRenderer f) { core_->error_renderer = std::move(f); }
void HttpServer::set_pre_route(PreRoute f) { core_->pre_route = std::move(f); }
void HttpServer::set_exception_handler(ExceptionHandler f) {
  core_->exception_handler = std::move(f);
}
void HttpServer::set_completion_hook(CompletionHook f) { core_->completion_hook = std::move(f); }

int HttpServer::start() {
  Core& c = *core_;
  const HttpOptions& o = c.opt;
  beast::error_code ec;
  tcp::resolver resolver(c.ioc);
  auto endpoints = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive, ec);
  if (ec) fail("cannot listen on ", o.host, ":", o.port, ": ", ec.message());
  std::string last_error = "no address";
  for (const auto& entry : endpoints) {
    beast::error_code e;
    c.acceptor.open(entry.endpoint().protocol(), e);
    if (!e) c.acceptor.set_option(asio::socket_base::reuse_address(true), e);
    if (!e) c.acceptor.bind(entry.endpoint(), e);
    if (!e) c.acceptor.listen(o.backlog, e);
    if (!e) break;
    last_error = e.message();
    beast::error_code ignored;
    c.acceptor.close(ignored);
  }
  if (!c.acceptor.is_open())
    fail("cannot listen on ", o.host, ":", o.port, " (", last_error,
         "; is the port in use, or the address not local?)");
  c.port = c.acceptor.local_endpoint().port();
  c.policy = SecurityPolicy(o.host, c.port, o.allowed_hosts, o.cors_origins);
  c.workers = std::make_unique<WorkerPool>(o.worker_threads, o.worker_queue);
  c.work.emplace(c.ioc.get_executor());
  asio::co_spawn(c.ioc, c.accept_loop(), asio::detached);
  for (int i = 0; i < std::max(o.io_threads, 1); ++i)
    c.io_threads.emplace_back([&c] { c.ioc.run(); });
  return c.port;
}

int HttpServer::port() const { return core_->port; }

bool HttpServer::stopping() const { return core_->stopping; }

void HttpServer::stop_accepting() {
  Core& c = *core_;
  {
    std::lock_guard<std::mutex> lock(c.mu);  // wait() must not miss the change
    if (c.stopping.exchange(true)) return;
  }
  asio::post(c.ioc, [&c] {
    beast::error_code ignored;
    c.acceptor.close(ignored);
  });
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    for (auto& [p, w] : c.connections)
      if (auto s = w.lock()) open.push_back(std::move(s));
  }
  for (auto& conn : open) conn->close_idle();
  c.cv.notify_all();
}

bool HttpServer::drain(std::chrono::steady_clock::time_point deadline) {
  Core& c = *core_;
  std::unique_lock<std::mutex> lock(c.mu);
  return c.cv.wait_until(lock, deadline,
                         [&c] { return c.connections.empty() && c.exchanges.empty(); });
}

void HttpServer::stop() {
  Core& c = *core_;
  if (c.io_threads.empty() && !c.workers) return;
  stop_accepting();
  std::vector<std::shared_ptr<Connection>> open;
  std::vector<std::shared_ptr<detail::Exchange>> running;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    for (auto& [p, w] : c.connections)
      if (auto s = w.lock()) open.push_back(std::move(s));
    running.assign(c.exchanges.begin(), c.exchanges.end());
  }
  for (auto& ex : running) ex->close();  // writers return false, client_gone() is true
  for (auto& conn : open) conn->close_now();
  open.clear();
  running.clear();
  // Give the closes a moment to run on the I/O threads, then stop them.
  drain(Clock::now() + std::chrono::milliseconds(200));
  if (c.work) c.work->reset();
  c.ioc.stop();
  for (std::thread& t : c.io_threads)
    if (t.joinable()) t.join();
  c.io_threads.clear();
  // Handlers see closed exchanges and return; then nothing can post to the io_context anymore.
  if (c.workers) c.workers->stop();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    c.exchanges.clear();
  }
}

void HttpServer::wait() {
  Core& c = *core_;
  std::unique_lock<std::mutex> lock(c.mu);
  c.cv.wait(lock, [&c] { return c.stopping.load(); });
}

ServerStats HttpServer::stats() const {
  const Core& c = *core_;
  ServerStats s;
  std::lock_guard<std::mutex> lock(c.mu);
  s.connections = static_cast<int>(c.connections.size());
  s.active_requests = static_cast<int>(c.exchanges.size());
  s.rejected_connections = c.rejected;
  return s;
}

}  // namespace ug::http
