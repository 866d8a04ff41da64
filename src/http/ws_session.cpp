#include "http/ws_session.h"

#include <optional>

namespace ug::http {

WsSession::WsSession(HttpServer::Core& core, beast::tcp_stream stream,
                     std::unique_ptr<WebSocketHandler> handler)
    : core_(core),
      ws_(std::move(stream)),
      handler_(std::move(handler)),
      wake_(ws_.get_executor()),
      write_guard_(ws_.get_executor()) {}

WsSession::~WsSession() = default;

asio::awaitable<void> WsSession::run(bhttp::request<bhttp::empty_body> upgrade) {
  const HttpOptions& o = core_.opt;
  auto self = shared_from_this();
  beast::get_lowest_layer(ws_).expires_never();  // the WebSocket's own timeouts take over
  websocket::stream_base::timeout t;
  t.handshake_timeout = o.header_timeout;
  t.idle_timeout = o.ws_idle_timeout;  // a ping after half of it; closed when nothing came back
  t.keep_alive_pings = true;
  ws_.set_option(t);
  ws_.read_message_max(o.ws_max_message_bytes);
  auto [ec] = co_await ws_.async_accept(upgrade, kAwait);
  if (ec) co_return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
  }
  asio::co_spawn(ws_.get_executor(), write_loop(), asio::detached);
  if (core_.stopping) close(1001, "server shutting down");
  // Jobs are named variables: GCC 12 mishandles lambda temporaries inside co_await expressions.
  std::function<void()> job = [this, self] { handler_->on_open(self); };
  if (!co_await on_worker(std::move(job))) close(1013, "the server is busy; retry later");
  beast::flat_buffer buf;
  for (;;) {
    auto [rec, n] = co_await ws_.async_read(buf, kAwait);
    if (rec) break;  // closed by either side, timed out, or a message over the limit (1009)
    if (!ws_.got_text()) {
      buf.consume(buf.size());
      close(1003, "only text messages are accepted");
      continue;
    }
    job = [this, m = beast::buffers_to_string(buf.data())]() mutable {
      handler_->on_text(std::move(m));
    };
    buf.consume(buf.size());
    if (!co_await on_worker(std::move(job))) close(1013, "the server is busy; retry later");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
    closing_ = false;
    queue_.clear();
    queued_bytes_ = 0;
  }
  wake_.cancel();  // the write loop ends
  // on_close runs once, on a worker when one is free (else here: it must be cheap anyway).
  job = [this] { handler_->on_close(); };
  if (!co_await on_worker(std::move(job))) handler_->on_close();
  handler_.reset();  // a handler holding this WebSocket would otherwise keep both alive
}

asio::awaitable<void> WsSession::write_loop() {
  auto self = shared_from_this();
  const Millis timeout = core_.opt.write_timeout;
  auto guard = [this, self, timeout] {
    write_guard_.expires_after(timeout);
    write_guard_.async_wait([self](beast::error_code ec) {
      if (!ec) self->close_now();  // the client stopped reading
    });
  };
  for (;;) {
    std::optional<std::string> message;
    bool send_close = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!queue_.empty()) {
        message = std::move(queue_.front());
        queue_.pop_front();
      } else if (closing_) {
        send_close = true;
      } else if (!open_) {
        co_return;
      }
    }
    if (message) {
      ws_.text(true);
      guard();
      auto [ec, n] = co_await ws_.async_write(asio::buffer(*message), kAwait);
      write_guard_.cancel();
      std::lock_guard<std::mutex> lock(mu_);
      queued_bytes_ -= std::min(queued_bytes_, message->size());
      if (ec) {
        open_ = false;
        co_return;
      }
      continue;
    }
    if (send_close) {
      guard();
      websocket::close_reason reason;
      {
        std::lock_guard<std::mutex> lock(mu_);
        reason = close_reason_;
      }
      co_await ws_.async_close(reason, kAwait);
      write_guard_.cancel();
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = false;
      open_ = false;
      co_return;
    }
    wake_.expires_at(Clock::time_point::max());
    co_await wake_.async_wait(kAwait);
  }
}

bool WsSession::send_text(std::string message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_ || closing_ || queued_bytes_ + message.size() > core_.opt.ws_send_queue_bytes)
      return false;
    queued_bytes_ += message.size();
    queue_.push_back(std::move(message));
  }
  wake();
  return true;
}

void WsSession::close(uint16_t code, std::string reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_ || closing_) return;
    closing_ = true;
    if (reason.size() > 120) reason.resize(120);  // a close frame's payload is at most 125 bytes
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
  }
  wake();
}

bool WsSession::is_open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_ && !closing_;
}

void WsSession::close_now() {
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().close(ec);
  wake_.cancel();
}

void WsSession::wake() {
  asio::post(ws_.get_executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->wake_.cancel();
  });
}

asio::awaitable<bool> WsSession::on_worker(std::function<void()> fn) {
  struct Done {
    explicit Done(const asio::any_io_executor& e) : timer(e, Clock::time_point::max()) {}
    asio::steady_timer timer;
    bool done = false;
  };
  auto exec = ws_.get_executor();
  auto done = std::make_shared<Done>(exec);
  auto job = [fn = std::move(fn), done, exec, self = shared_from_this()] {
    try {
      fn();
    } catch (const std::exception&) {
      self->close(1011, "internal error");
    }
    asio::post(exec, [done] {
      done->done = true;
      done->timer.cancel();
    });
  };
  if (!core_.workers->try_post(std::move(job))) co_return false;
  while (!done->done) co_await done->timer.async_wait(kAwait);
  co_return true;
}

}  // namespace ug::http
