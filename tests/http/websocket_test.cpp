// WebSocket routes, driven by a Beast client: echo, sending from other threads, message size
// limit, binary frames, idle timeout, a client that disappears, Origin check, server stop.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <mutex>

#include "http_test_util.h"

namespace ug::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

struct WsLog {
  std::atomic<int> opened{0}, closed{0}, messages{0};
};

// Echoes "echo: MSG"; "burst N" sends N messages from another thread.
class EchoHandler : public http::WebSocketHandler {
 public:
  explicit EchoHandler(WsLog& log) : log_(log) {}
  ~EchoHandler() override {
    if (sender_.joinable()) sender_.join();
  }
  void on_open(std::shared_ptr<http::WebSocket> ws) override {
    ws_ = std::move(ws);
    ++log_.opened;
  }
  void on_text(std::string m) override {
    ++log_.messages;
    if (m.rfind("burst ", 0) == 0) {
      const int n = std::stoi(m.substr(6));
      sender_ = std::thread([ws = ws_, n] {
        for (int i = 0; i < n; ++i) ws->send_text("b" + std::to_string(i));
      });
      return;
    }
    ws_->send_text("echo: " + m);
  }
  void on_close() override { ++log_.closed; }

 private:
  WsLog& log_;
  std::shared_ptr<http::WebSocket> ws_;
  std::thread sender_;
};

// A WebSocket client whose every operation gives up after 5 s.
class WsClient {
 public:
  explicit WsClient(int port) : port_(port), ws_(ioc_) {}

  beast::error_code connect(const std::string& path, const std::string& origin = {}) {
    return await<beast::error_code>(
        [&]() -> asio::awaitable<beast::error_code> {
          auto& tcp = beast::get_lowest_layer(ws_);
          auto [ec] = co_await tcp.async_connect(
              asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port_), kAwait);
          if (ec) co_return ec;
          tcp.expires_never();
          ws_.set_option(websocket::stream_base::decorator([origin](websocket::request_type& r) {
            if (!origin.empty()) r.set(beast::http::field::origin, origin);
          }));
          auto [hec] =
              co_await ws_.async_handshake("127.0.0.1:" + std::to_string(port_), path, kAwait);
          co_return hec;
        },
        asio::error::timed_out);
  }
  beast::error_code send(const std::string& text, bool binary = false) {
    return await<beast::error_code>(
        [&]() -> asio::awaitable<beast::error_code> {
          ws_.binary(binary);
          auto [ec, n] = co_await ws_.async_write(asio::buffer(text), kAwait);
          co_return ec;
        },
        asio::error::timed_out);
  }
  std::pair<beast::error_code, std::string> read(std::chrono::milliseconds timeout = 5000ms) {
    using Result = std::pair<beast::error_code, std::string>;
    return await<Result>(
        [&]() -> asio::awaitable<Result> {
          beast::flat_buffer b;
          auto [ec, n] = co_await ws_.async_read(b, kAwait);
          co_return Result{ec, beast::buffers_to_string(b.data())};
        },
        Result{asio::error::timed_out, {}}, timeout);
  }
  void close() {
    await<beast::error_code>(
        [&]() -> asio::awaitable<beast::error_code> {
          auto [ec] = co_await ws_.async_close(websocket::close_code::normal, kAwait);
          co_return ec;
        },
        asio::error::timed_out);
  }
  void drop() { beast::get_lowest_layer(ws_).socket().close(); }
  websocket::close_reason reason() const { return ws_.reason(); }

 private:
  template <class T, class F>
  T await(F make, T on_timeout, std::chrono::milliseconds timeout = 5000ms) {
    std::optional<T> out;
    asio::co_spawn(ioc_, make(), [&](std::exception_ptr e, T v) {
      if (!e) out = std::move(v);
    });
    ioc_.restart();
    ioc_.run_for(timeout);
    if (out) return *out;
    beast::get_lowest_layer(ws_).socket().close();  // the pending operation ends
    ioc_.restart();
    ioc_.run_for(1000ms);
    return on_timeout;
  }

  int port_;
  asio::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
};

struct WsFixture {
  explicit WsFixture(http::HttpOptions o = test_options()) {
    srv = std::make_unique<http::HttpServer>(std::move(o));
    add_test_routes(srv->routes(), state);
    srv->routes().websocket(
        "/ws", [this](const http::Request&) { return std::make_unique<EchoHandler>(log); });
    port = srv->start();
  }
  ~WsFixture() { srv->stop(); }
  WsLog log;
  RouteState state;
  std::unique_ptr<http::HttpServer> srv;
  int port = 0;
};

TEST(HttpWebSocket, EchoesAndSendsFromOtherThreads) {
  WsFixture f;
  WsClient c(f.port);
  ASSERT_FALSE(c.connect("/ws")) << "handshake";
  ASSERT_FALSE(c.send("hi"));
  auto [ec, msg] = c.read();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(msg, "echo: hi");
  ASSERT_FALSE(c.send("burst 50"));
  for (int i = 0; i < 50; ++i) {
    auto [e, m] = c.read();
    ASSERT_FALSE(e) << i << ": " << e.message();
    EXPECT_EQ(m, "b" + std::to_string(i));
  }
  c.close();
  EXPECT_TRUE(eventually([&] { return f.log.closed == 1; }));
  EXPECT_EQ(f.log.opened, 1);
}

TEST(HttpWebSocket, OversizedAndBinaryMessagesCloseWithTheirCodes) {
  WsFixture f;  // 4 KiB messages
  WsClient big(f.port);
  ASSERT_FALSE(big.connect("/ws"));
  big.send(std::string(10000, 'x'));
  // The read ends with the close frame (or with the reset that can follow it).
  auto [ec, m] = big.read();
  EXPECT_TRUE(ec);
  EXPECT_EQ(big.reason().code, websocket::close_code::too_big) << ec.message();

  WsClient bin(f.port);
  ASSERT_FALSE(bin.connect("/ws"));
  bin.send("\x01\x02", true);
  auto [ec2, m2] = bin.read();
  EXPECT_TRUE(ec2);
  EXPECT_EQ(bin.reason().code, websocket::close_code::unknown_data) << ec2.message();
  EXPECT_TRUE(eventually([&] { return f.log.closed == 2; }));
}

TEST(HttpWebSocket, ClientsThatVanishOrGoSilentAreClosed) {
  WsFixture f;  // idle timeout 1 s
  WsClient gone(f.port);
  ASSERT_FALSE(gone.connect("/ws"));
  gone.drop();
  EXPECT_TRUE(eventually([&] { return f.log.closed == 1; }));
  WsClient silent(f.port);  // never reads, so never answers the server's pings
  ASSERT_FALSE(silent.connect("/ws"));
  const auto t0 = Clock::now();
  EXPECT_TRUE(eventually([&] { return f.log.closed == 2; }, 6000ms));
  EXPECT_GT(seconds_since(t0), 0.4);
}

TEST(HttpWebSocket, ForeignOriginIsRefusedAndStopSendsGoingAway) {
  WsFixture f;
  WsClient evil(f.port);
  EXPECT_TRUE(evil.connect("/ws", "https://evil.example"));
  EXPECT_EQ(f.log.opened, 0);
  WsClient own(f.port);
  ASSERT_FALSE(own.connect("/ws", "http://127.0.0.1:" + std::to_string(f.port)));
  ASSERT_FALSE(own.send("x"));
  EXPECT_EQ(own.read().second, "echo: x");
  f.srv->stop_accepting();
  auto [ec, m] = own.read();
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(own.reason().code, websocket::close_code::going_away);
  EXPECT_TRUE(f.srv->drain(Clock::now() + 3000ms));
  EXPECT_EQ(f.log.closed, 1);
}

}  // namespace
}  // namespace ug::test
