// Internal to src/http: the server's shared state (HttpServer::Core), one HTTP connection
// (Connection) and one upgraded WebSocket (WsSession).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/asio.h"
#include "http/exchange.h"
#include "http/policy.h"
#include "http/server.h"
#include "http/worker_pool.h"

namespace ug::http {

class Connection;
class WsSession;

struct HttpServer::Core {
  Core(HttpOptions o, const Router& r) : opt(std::move(o)), router(r) {}

  // Registry (any thread). Connections unregister when their coroutine ends.
  void add_connection(const std::shared_ptr<Connection>& c);
  void remove_connection(const Connection* c);
  int connection_count() const;
  void add_exchange(const std::shared_ptr<detail::Exchange>& ex);
  void remove_exchange(const std::shared_ptr<detail::Exchange>& ex);

  // Runs a route's handler for an exchange (a worker thread, or the I/O thread for on_io_thread
  // routes), turning exceptions into responses, then tells the I/O side.
  void run_handler(detail::Exchange& ex, const Route& route) const;
  void render_error(const Request& req, int status, const std::string& message,
                    Response& res) const;

  asio::awaitable<void> accept_loop();

  const HttpOptions opt;
  const Router& router;
  SecurityPolicy policy;  // set by start() once the port is known
  ErrorRenderer error_renderer;
  PreRoute pre_route;
  ExceptionHandler exception_handler;
  CompletionHook completion_hook;
  int port = 0;

  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> rejected{0};

  mutable std::mutex mu;
  std::condition_variable cv;  // connections emptied, or stopping
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> connections;
  std::set<std::shared_ptr<detail::Exchange>> exchanges;  // handlers queued or running

  // Declared after the registry so that it is destroyed first: destroying the io_context
  // destroys the connections' coroutines, which unregister themselves.
  std::unique_ptr<WorkerPool> workers;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> io_threads;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Core& core, tcp::socket socket, bool overflow);
  ~Connection();

  asio::awaitable<void> run();
  asio::any_io_executor executor() { return stream_.get_executor(); }
  // From any thread. close_idle: the server stops accepting; a connection between requests
  // (or reading one) ends now, one answering a request ends after it, a WebSocket gets a
  // close frame. close_now: at once.
  void close_idle();
  void close_now();

 private:
  enum class Phase { idle, reading, handling, websocket };

  asio::awaitable<void> serve();
  // One request from the first byte to the end of its response; false: close the connection.
  asio::awaitable<bool> handle_one(Clock::time_point ready);
  asio::awaitable<bool> read_body(bhttp::request_parser<bhttp::string_body>& parser,
                                  const Request& req);
  // Runs the handler and writes its answer; false: close the connection.
  asio::awaitable<bool> exchange(Request req, const Route& route, Headers extra, bool keep_alive);
  asio::awaitable<bool> write_response(const Request& req, Response& res, bool keep_alive);
  asio::awaitable<bool> write_stream(detail::Exchange& ex, bool keep_alive);
  // Answers an error; with `close` (or an unread body) the connection ends after it.
  asio::awaitable<bool> refuse(const Request& req, int status, const std::string& message,
                               bool close, bool body_unread, const Headers& extra = {});
  asio::awaitable<void> linger();  // reads and drops what the client still sends, briefly
  asio::awaitable<void> run_websocket(Request req, bhttp::request<bhttp::empty_body> upgrade,
                                      const WebSocketFactory& factory);
  // Reads started after this end at `t` (cancelled, with read_timed_out_ set).
  void read_deadline(Clock::time_point t);
  void watch_client(std::shared_ptr<detail::Exchange> ex);
  void complete(const Request& req, int status) const;

  HttpServer::Core& core_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  asio::steady_timer wake_;  // cancelled to wake the coroutine (handler progress, client gone)
  asio::steady_timer read_timer_;
  bool read_timed_out_ = false;
  const bool overflow_;
  std::string remote_;
  Phase phase_ = Phase::idle;  // strand only
  std::shared_ptr<WsSession> ws_;
};

}  // namespace ug::http
