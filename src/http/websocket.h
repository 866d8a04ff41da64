// The handler's view of a WebSocket connection (RFC 6455, Boost.Beast underneath). A route made
// with Router::websocket upgrades GET requests on its path; the factory makes one handler per
// connection. Its callbacks run on the worker pool, one at a time and in order, and the next
// message is not read before on_text returns (a client cannot queue unbounded work).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/message.h"

namespace ug::http {

class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Queues a text message; callable from any thread. False when the connection is closed or
  // already holds `ws_send_queue_bytes` unsent (the client is not reading).
  virtual bool send_text(std::string message) = 0;
  // Sends a close frame after the queued messages; on_close follows.
  virtual void close(uint16_t code = 1000, std::string reason = {}) = 0;
  virtual bool is_open() const = 0;
};

class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  // The handler may keep `ws` (to send from other threads); the server drops the handler after
  // on_close, which ends that cycle.
  virtual void on_open(std::shared_ptr<WebSocket> /*ws*/) {}
  virtual void on_text(std::string message) = 0;
  // Once, when the connection ended for any reason (close frame, error, timeout, server stop).
  virtual void on_close() {}
};

// Called for each accepted upgrade; the request has the path, query and headers (no body).
using WebSocketFactory = std::function<std::unique_ptr<WebSocketHandler>(const Request&)>;

}  // namespace ug::http
