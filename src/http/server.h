// An HTTP/1.1 server on Boost.Beast/Asio: a few I/O threads move bytes (async, one strand per
// connection); handlers run on a bounded worker pool. It enforces the limits in HttpOptions for
// every transfer and content encoding, the security policy (Host, Origin, CORS, JSON POSTs), and
// upgrades WebSocket routes.
//
// What clients get from the layer itself (every such response closes the connection when the
// request was broken or its body was not read):
//   400 malformed request line or header, duplicate/conflicting Content-Length, Content-Length
//       with Transfer-Encoding, a Transfer-Encoding other than chunked, no Host (HTTP/1.1)
//   403 Host not allowed, or a browser Origin that is neither the server's own nor a CORS origin
//   404/405 unknown path or method; 408 header or body too slow; 413 body over the limit
//   415 Content-Encoding other than identity, or a JSON route's POST without application/json
//   431 header too large or too many fields; 503 worker queue full (Retry-After: 1), over the
//       connection cap, or stopping
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>

#include "http/message.h"
#include "http/options.h"
#include "http/router.h"

namespace ug::http {

// The OpenAI-style error "type" for an HTTP status ("invalid_request_error", "not_found_error",
// "unavailable_error", ...), used by the default ErrorRenderer.
const char* error_type(int status);

// Fills `res` for an error the layer (or a handler's exception) produced; `req` has what was
// parsed (path may be empty). The default writes {"error": {"message", "type", "code"}}.
using ErrorRenderer =
    std::function<void(const Request& req, int status, const std::string& message, Response& res)>;
// Runs on the I/O thread before the body is read, for every routed request (not WebSocket
// frames); returns true when it answered (e.g. 401). Must be cheap and never block.
using PreRoute = std::function<bool(const Request& req, Response& res)>;
// Turns an exception from a handler into a response (the default: 500 via the ErrorRenderer).
using ExceptionHandler =
    std::function<void(const Request& req, std::exception_ptr e, Response& res)>;
// Called once per answered request with its final status (from an I/O thread).
using CompletionHook = std::function<void(const Request& req, int status)>;

struct ServerStats {
  int connections = 0;                // open (including WebSockets)
  int active_requests = 0;            // handlers running or queued
  uint64_t rejected_connections = 0;  // over the cap (503 or closed)
};

class HttpServer {
 public:
  explicit HttpServer(HttpOptions options);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Set these before start().
  Router& routes() { return router_; }
  void set_error_renderer(ErrorRenderer f);
  void set_pre_route(PreRoute f);
  void set_exception_handler(ExceptionHandler f);
  void set_completion_hook(CompletionHook f);

  // Binds, starts the threads and returns the port. Throws ug::Error when it cannot listen.
  int start();
  int port() const;

  // Graceful stop, in steps: stop_accepting() closes the listener and idle connections and ends
  // keep-alive; running requests go on. drain() waits until every connection has ended (true) or
  // the deadline passed (false). stop() closes whatever is left (writers return false), and
  // joins the threads once the handlers returned.
  void stop_accepting();
  bool drain(std::chrono::steady_clock::time_point deadline);
  void stop();

  bool stopping() const;
  void wait();  // until stop_accepting() or stop()
  ServerStats stats() const;

  struct Core;

 private:
  Router router_;
  std::unique_ptr<Core> core_;
};

}  // namespace ug::http
