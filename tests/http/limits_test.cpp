// Limits of the HTTP layer that must hold for every transfer: body size (Content-Length and
// chunked), encodings, framing, header size, timeouts, and the connection and worker caps.
// Broken requests get their answer and then the connection closes.
#include "http_test_util.h"

namespace ug::test {
namespace {

std::string post_head(int port, const std::string& path, const std::string& extra) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" + extra +
         "\r\n";
}

TEST(HttpLimits, ContentLengthOverTheLimitIs413AndCloses) {
  ServerFixture f;  // 64 KiB limit
  RawConn c(f.port);
  c.send(post_head(f.port, "/size", "Content-Length: 1000000\r\n"));
  std::string r;
  EXPECT_TRUE(c.read_until_closed(3000ms, &r));
  EXPECT_EQ(status_of(r), 413) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
}

TEST(HttpLimits, ChunkedBodyIsCountedWhileReading) {
  ServerFixture f;
  RawConn c(f.port);
  c.send(post_head(f.port, "/size", "Transfer-Encoding: chunked\r\n"));
  // 8 KiB chunks: the server must stop at 64 KiB, whatever the client still sends.
  const std::string chunk = "2000\r\n" + std::string(0x2000, 'a') + "\r\n";
  std::string r;
  for (int i = 0; i < 64 && r.empty(); ++i) {
    if (!c.send(chunk)) break;
    r = c.read_for(5ms);
  }
  EXPECT_TRUE(c.read_until_closed(3000ms, &r));
  EXPECT_EQ(status_of(r), 413) << r;
}

TEST(HttpLimits, BodyUnderTheLimitPassesBothWays) {
  ServerFixture f;
  const std::string body(60000, 'b');
  std::string r = f.roundtrip(
      post_head(f.port, "/size", "Content-Length: 60000\r\nConnection: close\r\n") + body);
  EXPECT_NE(r.find("\r\n\r\n60000"), std::string::npos) << r.substr(0, 200);
  std::string chunked;
  for (size_t off = 0; off < body.size(); off += 10000)
    chunked += "2710\r\n" + body.substr(off, 10000) + "\r\n";
  r = f.roundtrip(
      post_head(f.port, "/size", "Transfer-Encoding: chunked\r\nConnection: close\r\n") + chunked +
      "0\r\n\r\n");
  EXPECT_NE(r.find("\r\n\r\n60000"), std::string::npos) << r.substr(0, 200);
}

TEST(HttpLimits, CompressedBodiesAre415AndClose) {
  ServerFixture f;
  RawConn c(f.port);
  c.send(post_head(f.port, "/size", "Content-Encoding: gzip\r\nContent-Length: 20\r\n") +
         std::string(20, 'z'));
  std::string r;
  EXPECT_TRUE(c.read_until_closed(3000ms, &r));
  EXPECT_EQ(status_of(r), 415) << r;
}

TEST(HttpLimits, AmbiguousFramingIs400AndCloses) {
  ServerFixture f;
  for (const std::string extra : {
           "Content-Length: 4\r\nContent-Length: 4\r\n",
           "Content-Length: 4\r\nContent-Length: 5\r\n",
           "Content-Length: 4, 4\r\n",
           "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
           "Transfer-Encoding: gzip\r\nContent-Length: 4\r\n",
           "Transfer-Encoding: identity\r\n",
           "Content-Length: -1\r\n",
           "Content-Length: 0x10\r\n",
       }) {
    RawConn c(f.port);
    c.send(post_head(f.port, "/size", extra) + "abcd");
    std::string r;
    EXPECT_TRUE(c.read_until_closed(3000ms, &r)) << extra;
    EXPECT_EQ(status_of(r), 400) << extra << r;
  }
}

TEST(HttpLimits, HeaderSizeAndCount) {
  ServerFixture f;  // 16 KiB, 100 fields
  RawConn big(f.port);
  big.send(get_request("/hello", f.port, "X-Big: " + std::string(20000, 'h') + "\r\n"));
  std::string r;
  EXPECT_TRUE(big.read_until_closed(3000ms, &r));
  EXPECT_EQ(status_of(r), 431) << r.substr(0, 200);
  std::string many;
  for (int i = 0; i < 150; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  RawConn c(f.port);
  c.send(get_request("/hello", f.port, many));
  r.clear();
  EXPECT_TRUE(c.read_until_closed(3000ms, &r));
  EXPECT_EQ(status_of(r), 431) << r.substr(0, 200);
}

TEST(HttpLimits, HeaderTimeoutCountsTheWholeHeaderNotEachByte) {
  ServerFixture f;  // header timeout 800 ms
  RawConn c(f.port);
  const std::string req =
      get_request("/hello", f.port, "X-Slow: " + std::string(100, 's') + "\r\n");
  const auto t0 = Clock::now();
  std::string r;
  // A byte every 50 ms: each arrives long before any per-byte timeout would fire.
  for (size_t i = 0; i < req.size() && !c.eof(); ++i) {
    if (!c.send(req.substr(i, 1))) break;
    r += c.read_for(50ms);
  }
  if (!c.eof()) c.read_until_closed(3000ms, &r);
  EXPECT_TRUE(c.eof());
  EXPECT_EQ(status_of(r), 408) << r;
  EXPECT_LT(seconds_since(t0), 4.0);
}

TEST(HttpLimits, BodyTimeoutAndIdleTimeout) {
  ServerFixture f;
  RawConn c(f.port);
  c.send(post_head(f.port, "/size", "Content-Length: 1000\r\n") + "only a few bytes");
  const auto t0 = Clock::now();
  std::string r;
  EXPECT_TRUE(c.read_until_closed(5000ms, &r));
  EXPECT_EQ(status_of(r), 408) << r;
  EXPECT_LT(seconds_since(t0), 4.0);

  RawConn idle(f.port);
  idle.send(get_request("/hello", f.port));
  EXPECT_EQ(status_of(idle.read_for(3000ms, "hello")), 200);
  const auto t1 = Clock::now();
  EXPECT_TRUE(idle.read_until_closed(5000ms)) << "keep-alive connection not closed when idle";
  EXPECT_GT(seconds_since(t1), 0.5);

  RawConn silent(f.port);  // connects and sends nothing
  EXPECT_TRUE(silent.read_until_closed(5000ms));
}

TEST(HttpLimits, BusyWorkersGive503WithRetryAfterWhileHealthAnswers) {
  http::HttpOptions o = test_options();
  o.worker_threads = 1;
  o.worker_queue = 1;
  ServerFixture f(o);
  RawConn a(f.port), b(f.port);
  a.send(get_request("/slow", f.port));
  ASSERT_TRUE(eventually([&] { return f.state.slow_running == 1; }));
  b.send(get_request("/slow", f.port));  // queued
  std::this_thread::sleep_for(100ms);
  std::string r = f.roundtrip(get_request("/hello", f.port, "Connection: close\r\n"));
  EXPECT_EQ(status_of(r), 503) << r;
  EXPECT_NE(r.find("Retry-After: 1"), std::string::npos) << r;
  r = f.roundtrip(get_request("/health", f.port, "Connection: close\r\n"));
  EXPECT_EQ(status_of(r), 200) << r;
  f.state.release = true;
  EXPECT_EQ(status_of(a.read_for(3000ms, "slow")), 200);
  EXPECT_EQ(status_of(b.read_for(3000ms, "slow")), 200);
}

TEST(HttpLimits, ConnectionCapGives503ButHealthAnswersAndBeyondItCloses) {
  http::HttpOptions o = test_options();
  o.max_connections = 4;
  o.overflow_connections = 2;
  o.header_timeout = 5000ms;  // the held connections must outlive the test's requests
  ServerFixture f(o);
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawConn>(f.port));
    held.back()->send("GET /hello HTTP/1.1\r\n");  // a header that never ends
  }
  ASSERT_TRUE(eventually([&] { return f.srv->stats().connections == 4; }));
  std::string r = f.roundtrip(get_request("/hello", f.port));
  EXPECT_EQ(status_of(r), 503) << r;
  r = f.roundtrip(get_request("/health", f.port));
  EXPECT_EQ(status_of(r), 200) << r;
  // Fill the overflow band too: the next connection is closed without an answer. The two
  // answered connections must be gone first, or o1/o2 may land beyond the band themselves.
  ASSERT_TRUE(eventually([&] { return f.srv->stats().connections == 4; }));
  RawConn o1(f.port), o2(f.port);
  o1.send("GET /");
  o2.send("GET /");
  ASSERT_TRUE(eventually([&] { return f.srv->stats().connections == 6; }));
  RawConn beyond(f.port);
  std::string got;
  EXPECT_TRUE(beyond.read_until_closed(3000ms, &got));
  EXPECT_EQ(got, "");
  EXPECT_GE(f.srv->stats().rejected_connections, 3u);
  // Once the held connections go, service is normal again.
  held.clear();
  ASSERT_TRUE(eventually([&] { return f.srv->stats().connections <= 2; }));
  r = f.roundtrip(get_request("/hello", f.port, "Connection: close\r\n"));
  EXPECT_EQ(status_of(r), 200) << r;
}

}  // namespace
}  // namespace ug::test
