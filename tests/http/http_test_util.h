// Shared by the HTTP layer's tests: a raw TCP client (to send exactly the bytes a test wants,
// including broken ones) and a server on a free loopback port with short timeouts.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "http/server.h"

namespace ug::test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// One blocking TCP connection to 127.0.0.1.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawConn() { close(); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool connected() const { return connected_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes with a reset (SO_LINGER 0): the way a killed client disappears.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }
  bool send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads what arrives within `timeout` (stops early at end of stream or once `until` appears).
  std::string read_for(std::chrono::milliseconds timeout, const std::string& until = {}) {
    std::string out;
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (!until.empty() && out.find(until) != std::string::npos) break;
      const int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof_ = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Reads until the server closes the connection (true) or `timeout` passes (false).
  bool read_until_closed(std::chrono::milliseconds timeout, std::string* got = nullptr) {
    eof_ = false;
    std::string s = read_for(timeout);
    if (got) *got += s;
    return eof_;
  }
  bool eof() const { return eof_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
};

inline int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

inline std::string get_request(const std::string& path, int port, const std::string& extra = {}) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" + extra +
         "\r\n";
}

// Options with short timeouts so that tests of them take well under a second each.
inline http::HttpOptions test_options() {
  http::HttpOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.io_threads = 2;
  o.worker_threads = 4;
  o.worker_queue = 4;
  o.max_body_bytes = 64 * 1024;
  o.header_timeout = 800ms;
  o.body_timeout = 800ms;
  o.idle_timeout = 800ms;
  o.write_timeout = 800ms;
  o.linger_timeout = 300ms;
  o.stream_buffer_bytes = 64 * 1024;
  o.ws_max_message_bytes = 4096;
  o.ws_idle_timeout = 1000ms;
  return o;
}

// What the standard routes record, for tests to check from outside.
struct RouteState {
  std::atomic<int> chunks_written{0};
  std::atomic<bool> write_failed{false};
  std::atomic<bool> saw_client_gone{false};
  std::atomic<bool> handler_returned{false};
  std::atomic<bool> release{false};  // lets /slow and /wait-gone return
  std::atomic<int> slow_running{0};
};

// Routes most tests use:
//   GET  /hello            "hello"
//   GET  /health           "ok", on the I/O thread
//   POST /echo             the body back (application/json required)
//   POST /size             the body's size (any content type)
//   GET  /slow             holds a worker until state.release
//   GET  /stream?n=N&ms=M  N chunks "chunk i\n", M ms apart; stops when a write fails
//   GET  /flood            writes 16 KiB chunks until a write fails (back-pressure tests)
//   GET  /wait-gone        writes nothing; returns when the client is gone (or released)
//   GET  /throw            throws before answering; /throw-mid-stream after one chunk
inline void add_test_routes(http::Router& r, RouteState& st) {
  r.get("/hello",
        [](const http::Request&, http::Response& res) { res.set_content("hello", "text/plain"); });
  http::RouteOptions io;
  io.on_io_thread = true;
  r.get(
      "/health",
      [](const http::Request&, http::Response& res) { res.set_content("ok", "text/plain"); }, io);
  http::RouteOptions json;
  json.json_body = true;
  r.post(
      "/echo",
      [](const http::Request& req, http::Response& res) {
        res.set_content(req.body, "application/json");
      },
      json);
  r.post("/size", [](const http::Request& req, http::Response& res) {
    res.set_content(std::to_string(req.body.size()), "text/plain");
  });
  r.get("/slow", [&st](const http::Request&, http::Response& res) {
    ++st.slow_running;
    while (!st.release) std::this_thread::sleep_for(5ms);
    --st.slow_running;
    res.set_content("slow", "text/plain");
  });
  r.get("/stream", [&st](const http::Request& req, http::Response& res) {
    const int n = std::stoi(req.query_param("n").value_or("5"));
    const int ms = std::stoi(req.query_param("ms").value_or("0"));
    http::StreamWriter& w = res.stream("text/plain");
    for (int i = 0; i < n; ++i) {
      if (!w.write("chunk " + std::to_string(i) + "\n")) {
        st.write_failed = true;
        break;
      }
      ++st.chunks_written;
      if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    st.handler_returned = true;
  });
  r.get("/flood", [&st](const http::Request&, http::Response& res) {
    http::StreamWriter& w = res.stream("application/octet-stream");
    const std::string block(16 * 1024, 'x');
    while (w.write(block)) ++st.chunks_written;
    st.write_failed = true;
    st.handler_returned = true;
  });
  r.get("/wait-gone", [&st](const http::Request& req, http::Response& res) {
    while (!req.client_gone() && !st.release) std::this_thread::sleep_for(5ms);
    st.saw_client_gone = req.client_gone();
    st.handler_returned = true;
    res.set_content("done", "text/plain");
  });
  r.get("/throw",
        [](const http::Request&, http::Response&) { throw std::runtime_error("handler failed"); });
  r.get("/throw-mid-stream", [](const http::Request&, http::Response& res) {
    res.stream("text/plain").write("partial");
    throw std::runtime_error("handler failed mid-stream");
  });
}

// A started server with the standard routes.
struct ServerFixture {
  explicit ServerFixture(http::HttpOptions o = test_options()) {
    srv = std::make_unique<http::HttpServer>(std::move(o));
    add_test_routes(srv->routes(), state);
    port = srv->start();
  }
  ~ServerFixture() {
    state.release = true;
    srv->stop();
  }
  // Sends one request on a new connection and reads the whole answer (the request should ask
  // for Connection: close, or the read waits for the idle timeout).
  std::string roundtrip(const std::string& request, std::chrono::milliseconds timeout = 5000ms) {
    RawConn c(port);
    c.send(request);
    return c.read_for(timeout);
  }
  RouteState state;
  std::unique_ptr<http::HttpServer> srv;
  int port = 0;
};

// Waits up to `timeout` for `cond`.
template <class F>
bool eventually(F cond, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

}  // namespace ug::test
