// One HTTP/1.1 connection: a coroutine on the connection's strand reads a request head, checks
// it, reads the body within the limits, hands the request to a worker, and writes the response
// (or the stream) as the worker produces it. See http/server.h for what clients get.
#include <sys/socket.h>

#include <cerrno>

#include "http/core.h"
#include "http/head_check.h"
#include "http/ws_session.h"

namespace ug::http {

namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kLingerMaxBytes = 64u << 20;  // enough for a body just over a usual limit

// Headers the connection writes itself; a handler's values are ignored.
bool managed_header(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Connection");
}

bool header_safe(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

template <class Message>
void copy_headers(const Headers& from, Message& to) {
  for (const auto& [name, value] : from)
    if (!name.empty() && !managed_header(name) && header_safe(name) && header_safe(value))
      to.insert(name, value);
}

// A read error on the head: the status to answer, or 0 to close silently.
int head_error_status(const beast::error_code& ec, std::string& message) {
  if (ec == beast::error::timeout) {
    message = "the request header did not arrive in time";
    return 408;
  }
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    message = "the request header is too large";
    return 431;
  }
  if (ec == bhttp::error::body_limit) {
    message = "the request body is larger than the server's limit";
    return 413;
  }
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
      ec == asio::error::bad_descriptor || ec == bhttp::error::partial_message)
    return 0;
  message = "malformed request: " + ec.message();
  return 400;
}

}  // namespace

Connection::Connection(HttpServer::Core& core, tcp::socket socket, bool overflow)
    : core_(core),
      stream_(std::move(socket)),
      buf_(core.opt.max_header_bytes + kReadChunk),
      wake_(stream_.get_executor()),
      read_timer_(stream_.get_executor()),
      overflow_(overflow) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string();
  stream_.socket().set_option(tcp::no_delay(true), ec);  // SSE tokens go out at once
}

Connection::~Connection() { core_.remove_connection(this); }

asio::awaitable<void> Connection::run() {
  try {
    co_await serve();
  } catch (const std::exception&) {
    // A bug in one connection (allocation failure, ...) ends that connection only.
  }
  beast::error_code ec;
  if (!ws_) {
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }
  ws_.reset();
  wake_.cancel();
  read_timer_.cancel();
}

void Connection::close_idle() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ == Phase::websocket && self->ws_) {
      self->ws_->close(1001, "server shutting down");
    } else if (self->phase_ != Phase::handling) {
      beast::error_code ec;
      self->stream_.socket().close(ec);
    }
    self->wake_.cancel();
  });
}

void Connection::close_now() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    if (self->ws_)
      self->ws_->close_now();
    else
      self->stream_.socket().close(ec);
    self->wake_.cancel();
  });
}

void Connection::complete(const Request& req, int status) const {
  if (core_.completion_hook) core_.completion_hook(req, status);
}

asio::awaitable<void> Connection::serve() {
  const HttpOptions& o = core_.opt;
  Clock::time_point ready = Clock::now();  // the header clock of the first request
  for (bool first = true;; first = false) {
    phase_ = Phase::idle;
    if (core_.stopping) co_return;
    if (buf_.size() == 0) {
      // Waiting for a request: the first one counts against the header timeout, a keep-alive
      // one against the idle timeout, and its header clock starts with its first byte.
      read_deadline(first ? ready + o.header_timeout : Clock::now() + o.idle_timeout);
      auto [ec, n] = co_await stream_.async_read_some(buf_.prepare(kReadChunk), kAwait);
      read_timer_.cancel();
      if (ec) co_return;  // idle timeout, closed, reset: nothing to answer
      buf_.commit(n);
      if (!first) ready = Clock::now();
    } else if (!first) {
      ready = Clock::now();  // a pipelined request
    }
    phase_ = Phase::reading;
    if (!co_await handle_one(ready)) co_return;
    if (overflow_) co_return;  // one answer per connection over the cap
  }
}

asio::awaitable<bool> Connection::handle_one(Clock::time_point ready) {
  const HttpOptions& o = core_.opt;
  bhttp::request_parser<bhttp::empty_body> head;
  head.header_limit(static_cast<std::uint32_t>(o.max_header_bytes));
  head.body_limit(o.max_body_bytes);
  const Clock::duration header_timeout =
      overflow_ ? std::min<Clock::duration>(o.header_timeout, std::chrono::seconds(2))
                : Clock::duration(o.header_timeout);
  read_deadline(ready + header_timeout);
  auto [ec, n] = co_await bhttp::async_read_header(stream_, buf_, head, kAwait);
  read_timer_.cancel();
  Request req;
  req.remote_address = remote_;
  if (ec) {
    std::string message;
    const int status = head_error_status(read_timed_out_ ? beast::error::timeout : ec, message);
    if (status == 0) co_return false;
    co_await refuse(req, status, message, true, true);
    co_return false;
  }
  const auto& h = head.get();
  req.method = std::string(h.method_string());
  req.target = std::string(h.target());
  req.version = h.version() == 10 ? 10 : 11;
  for (const auto& f : h) req.headers.add(std::string(f.name_string()), std::string(f.value()));
  const bool has_body = !head.is_done();
  const bool keep_alive = h.keep_alive();

  HeadCheck check = check_head(req, has_body, core_.router, core_.policy, o, overflow_);
  if (check.status != 0 && check.status < 400) {  // OPTIONS, CORS preflight
    Response res;
    res.status = check.status;
    res.headers = check.headers;
    res.close = check.close;
    const bool keep = keep_alive && !check.close;
    const bool ok = co_await write_response(req, res, keep);
    complete(req, res.status);
    if (check.close) co_await linger();
    co_return ok ? keep : false;
  }
  if (check.status != 0)
    co_return co_await refuse(req, check.status, check.message, check.close || !keep_alive,
                              has_body, check.headers);
  if (core_.pre_route) {
    Response res;
    if (core_.pre_route(req, res)) {
      for (const auto& [k, v] : check.headers) res.headers.set(k, v);
      const bool close = has_body || !keep_alive || res.close;
      res.close = close;
      const bool ok = co_await write_response(req, res, !close);
      complete(req, res.status);
      if (has_body) co_await linger();
      co_return ok && !close;
    }
  }
  if (check.match.socket) {
    co_await run_websocket(std::move(req), head.release(), *check.match.socket);
    co_return false;
  }
  if (has_body) {
    if (iequals(req.header("Expect"), "100-continue")) {
      stream_.expires_after(o.write_timeout);
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(kContinue), kAwait);
      if (wec) co_return false;
    }
    bhttp::request_parser<bhttp::string_body> body(std::move(head));
    body.body_limit(o.max_body_bytes);
    if (!co_await read_body(body, req)) co_return false;
    req.body = std::move(body.get().body());
  }
  co_return co_await exchange(std::move(req), *check.match.route, std::move(check.headers),
                              keep_alive);
}

asio::awaitable<bool> Connection::read_body(bhttp::request_parser<bhttp::string_body>& parser,
                                            const Request& req) {
  const HttpOptions& o = core_.opt;
  const Clock::time_point start = Clock::now();
  uint64_t received = 0;
  while (!parser.is_done()) {
    // An average rate: body_timeout of grace plus the time the bytes so far needed at the
    // minimum rate. A client that trickles falls behind and times out.
    const auto allowed =
        o.body_timeout +
        std::chrono::milliseconds(received * 1000 / std::max<size_t>(o.min_body_rate, 1));
    read_deadline(start + allowed);
    auto [ec, n] = co_await bhttp::async_read_some(stream_, buf_, parser, kAwait);
    read_timer_.cancel();
    received += n;
    if (!ec) continue;
    if (ec == bhttp::error::body_limit) {
      co_await refuse(req, 413, "the request body is larger than the server's limit", true, true);
    } else if (read_timed_out_) {
      co_await refuse(req, 408, "the request body did not arrive in time", true, true);
    } else {
      std::string message;
      const int status = head_error_status(ec, message);
      if (status != 0) co_await refuse(req, status, message, true, true);
    }
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Connection::refuse(const Request& req, int status, const std::string& message,
                                         bool close, bool body_unread, const Headers& extra) {
  Response res;
  core_.render_error(req, status, message, res);
  for (const auto& [k, v] : extra) res.headers.set(k, v);
  if (status == 503) res.headers.set("Retry-After", "1");
  close = close || body_unread;
  const bool ok = co_await write_response(req, res, !close);
  complete(req, status);
  if (close) {
    if (ok && body_unread) co_await linger();
    co_return false;
  }
  co_return ok;
}

asio::awaitable<void> Connection::linger() {
  // Closing with unread bytes in the socket makes the kernel send a reset, which can destroy
  // the answer before the client reads it; so stop sending, and read what still comes for a
  // short while (bounded in time and bytes).
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  const Clock::time_point deadline = Clock::now() + core_.opt.linger_timeout;
  size_t drained = 0;
  std::vector<char> sink(kReadChunk);
  while (drained < kLingerMaxBytes) {
    stream_.expires_at(deadline);
    auto [rec, n] = co_await stream_.async_read_some(asio::buffer(sink), kAwait);
    if (rec) break;
    drained += n;
  }
}

asio::awaitable<bool> Connection::write_response(const Request& req, Response& res,
                                                 bool keep_alive) {
  bhttp::response<bhttp::string_body> r;
  r.result(static_cast<unsigned>(res.status));
  r.version(req.version == 10 ? 10 : 11);
  copy_headers(res.headers, r);
  r.keep_alive(keep_alive);
  r.body() = std::move(res.body);
  r.prepare_payload();
  stream_.expires_after(core_.opt.write_timeout);
  beast::error_code ec;
  if (req.method == "HEAD") {
    bhttp::response_serializer<bhttp::string_body> sr(r);
    std::tie(ec, std::ignore) = co_await bhttp::async_write_header(stream_, sr, kAwait);
  } else {
    std::tie(ec, std::ignore) = co_await bhttp::async_write(stream_, r, kAwait);
  }
  co_return !ec;
}

void Connection::read_deadline(Clock::time_point t) {
  // Beast's own stream timeout closes the socket, which leaves no way to answer 408; this one
  // only cancels the read.
  stream_.expires_never();
  read_timed_out_ = false;
  read_timer_.expires_at(t);
  read_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      self->read_timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    }
  });
}

void Connection::watch_client(std::shared_ptr<detail::Exchange> ex) {
  // Readable while a handler runs means end of stream or an error (the client is gone) or the
  // next pipelined request (the client is there; stop watching).
  stream_.socket().async_wait(
      tcp::socket::wait_read, [self = shared_from_this(), ex](beast::error_code ec) {
        if (ec) return;
        char c;
        const ssize_t n =
            ::recv(self->stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) return;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          self->watch_client(ex);
          return;
        }
        ex->close();
        self->wake_.cancel();
      });
}

asio::awaitable<bool> Connection::exchange(Request req, const Route& route, Headers extra,
                                           bool keep_alive) {
  const HttpOptions& o = core_.opt;
  phase_ = Phase::handling;
  auto ex = std::make_shared<detail::Exchange>(o.stream_buffer_bytes, o.write_timeout);
  ex->set_request(std::move(req));
  ex->response.headers = std::move(extra);
  ex->wake = [exec = stream_.get_executor(), weak = weak_from_this()] {
    asio::post(exec, [weak] {
      if (auto self = weak.lock()) self->wake_.cancel();
    });
  };
  const Request& request = ex->request;
  if (route.options.on_io_thread) {
    core_.run_handler(*ex, route);
  } else {
    core_.add_exchange(ex);
    HttpServer::Core* core = &core_;
    if (!core_.workers->try_post([core, ex, &route] {
          core->run_handler(*ex, route);
          core->remove_exchange(ex);
        })) {
      core_.remove_exchange(ex);
      co_return co_await refuse(
          request, 503, "the server is busy: every worker is taken; retry later", false, false);
    }
  }
  watch_client(ex);
  keep_alive = co_await write_stream(*ex, keep_alive && !core_.stopping);
  beast::error_code ec;
  stream_.socket().cancel(ec);  // the watch
  if (!keep_alive) ex->close();
  int status;
  {
    std::lock_guard<std::mutex> lock(ex->mu);
    status = ex->response.status;
  }
  complete(request, status);
  co_return keep_alive && !core_.stopping;
}

asio::awaitable<bool> Connection::write_stream(detail::Exchange& ex, bool keep_alive) {
  const HttpOptions& o = core_.opt;
  const Request& req = ex.request;
  const bool head_only = req.method == "HEAD";
  const bool chunked = req.version >= 11;  // HTTP/1.0: the body ends when the connection does
  bool head_sent = false;
  for (;;) {
    // A snapshot of the handler's side. Wake-ups that come while a write below is in progress
    // find no waiter, so after any write the loop looks again before it waits.
    bool send_head = false, finished = false, done = false, failed = false;
    std::string chunk;
    {
      std::lock_guard<std::mutex> lock(ex.mu);
      if (ex.closed) co_return false;  // the client is gone (the handler learns it too)
      if (ex.stream_started) {
        send_head = !head_sent;
        chunk.swap(ex.pending);
      }
      finished = ex.stream_finished;  // then `chunk` holds the last bytes: finish() ends writes
      done = ex.handler_done;
      failed = ex.handler_failed;
    }
    if (done && !ex.stream_started) {  // a plain response (no lock needed: the handler is done)
      Response& res = ex.response;
      keep_alive = keep_alive && !res.close && !core_.stopping;
      co_return co_await write_response(req, res, keep_alive) && keep_alive;
    }
    bool wrote = false;
    if (send_head) {
      // Status and headers are fixed once streaming started.
      bhttp::response<bhttp::empty_body> r;
      r.result(static_cast<unsigned>(ex.response.status));
      r.version(chunked ? 11 : 10);
      copy_headers(ex.response.headers, r);
      keep_alive = keep_alive && chunked && !ex.response.close;
      r.keep_alive(keep_alive);
      if (chunked) r.chunked(true);
      bhttp::response_serializer<bhttp::empty_body> sr(r);
      stream_.expires_after(o.write_timeout);
      auto [ec, n] = co_await bhttp::async_write_header(stream_, sr, kAwait);
      if (ec || head_only) {
        ex.close();
        co_return false;
      }
      head_sent = wrote = true;
    }
    if (!chunk.empty()) {
      stream_.expires_after(o.write_timeout);
      beast::error_code ec;
      if (chunked)
        std::tie(ec, std::ignore) =
            co_await asio::async_write(stream_, bhttp::make_chunk(asio::buffer(chunk)), kAwait);
      else
        std::tie(ec, std::ignore) =
            co_await asio::async_write(stream_, asio::buffer(chunk), kAwait);
      if (ec) {
        ex.close();
        co_return false;
      }
      {
        std::lock_guard<std::mutex> lock(ex.mu);
        ex.unsent -= chunk.size();
      }
      ex.cv.notify_all();
      wrote = true;
    }
    if (head_sent && finished) {
      if (failed || !chunked) co_return false;  // cut short, or HTTP/1.0: end by closing
      stream_.expires_after(o.write_timeout);
      auto [ec, n] = co_await asio::async_write(stream_, bhttp::make_chunk_last(), kAwait);
      co_return !ec && keep_alive && !core_.stopping;
    }
    if (wrote) continue;
    wake_.expires_at(Clock::time_point::max());
    co_await wake_.async_wait(kAwait);
  }
}

asio::awaitable<void> Connection::run_websocket(Request req,
                                                bhttp::request<bhttp::empty_body> upgrade,
                                                const WebSocketFactory& factory) {
  std::unique_ptr<WebSocketHandler> handler = factory(req);
  if (!handler) {
    co_await refuse(req, 403, "the WebSocket was refused", true, false);
    co_return;
  }
  complete(req, 101);
  phase_ = Phase::websocket;
  ws_ = std::make_shared<WsSession>(core_, std::move(stream_), std::move(handler));
  if (core_.stopping) ws_->close(1001, "server shutting down");
  co_await ws_->run(std::move(upgrade));
}

}  // namespace ug::http
