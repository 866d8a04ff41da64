// Internal to src/http: one upgraded WebSocket connection. A read loop hands text messages to the
// handler on the worker pool (one at a time; the next message is read when it returns) and a
// write loop sends the queued messages, both on the connection's strand.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "http/core.h"
#include "http/websocket.h"

namespace ug::http {

class WsSession : public WebSocket, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(HttpServer::Core& core, beast::tcp_stream stream,
            std::unique_ptr<WebSocketHandler> handler);
  ~WsSession() override;

  // Accepts the upgrade and serves until the connection ends; on_close has run when it returns.
  asio::awaitable<void> run(bhttp::request<bhttp::empty_body> upgrade);

  bool send_text(std::string message) override;
  void close(uint16_t code, std::string reason) override;
  bool is_open() const override;
  void close_now();  // strand only: drops the connection

 private:
  asio::awaitable<void> write_loop();
  // Runs fn on the worker pool and resumes on the strand when it returned; false when the pool
  // is full (nothing ran).
  asio::awaitable<bool> on_worker(std::function<void()> fn);
  void wake();

  HttpServer::Core& core_;
  websocket::stream<beast::tcp_stream> ws_;
  std::unique_ptr<WebSocketHandler> handler_;
  asio::steady_timer wake_;         // the write loop waits here
  asio::steady_timer write_guard_;  // drops a client that stops reading

  mutable std::mutex mu_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool open_ = false;
  bool closing_ = false;  // a close frame is due after the queue
  websocket::close_reason close_reason_;
};

}  // namespace ug::http
