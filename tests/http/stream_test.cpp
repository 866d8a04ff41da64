// Streamed (chunked) responses written from worker threads: delivery, clients that disappear,
// clients that stop reading (back-pressure, write timeout), and the graceful stop.
#include "http/client.h"
#include "http_test_util.h"

namespace ug::test {
namespace {

TEST(HttpStream, ChunksArriveAsTheyAreWritten) {
  ServerFixture f;
  RawConn c(f.port);
  c.send(get_request("/stream?n=3&ms=200", f.port));
  std::string first = c.read_for(3000ms, "chunk 0\n");
  EXPECT_EQ(status_of(first), 200) << first;
  EXPECT_NE(first.find("Transfer-Encoding: chunked"), std::string::npos) << first;
  EXPECT_EQ(first.find("chunk 2"), std::string::npos) << "the first chunk waited for the last";
  std::string rest = first + c.read_for(3000ms, "chunk 2\n\r\n0\r\n\r\n");
  EXPECT_NE(rest.find("chunk 2\n"), std::string::npos) << rest;
  // The connection stays open for the next request.
  c.send(get_request("/hello", f.port));
  EXPECT_EQ(status_of(c.read_for(3000ms, "hello")), 200);
}

TEST(HttpStream, HttpOneZeroStreamEndsByClosing) {
  ServerFixture f;
  RawConn c(f.port);
  c.send("GET /stream?n=2 HTTP/1.0\r\n\r\n");
  std::string r;
  EXPECT_TRUE(c.read_until_closed(3000ms, &r));
  EXPECT_EQ(r.find("chunked"), std::string::npos) << r;
  EXPECT_NE(r.find("chunk 0\nchunk 1\n"), std::string::npos) << r;
}

TEST(HttpStream, WriterSeesAClientThatDisappears) {
  ServerFixture f;
  {
    RawConn c(f.port);
    c.send(get_request("/stream?n=100000&ms=2", f.port));
    c.read_for(3000ms, "chunk 1\n");
    c.reset();
  }
  EXPECT_TRUE(eventually([&] { return f.state.handler_returned.load(); }));
  EXPECT_TRUE(f.state.write_failed);
  EXPECT_LT(f.state.chunks_written, 100000);
}

TEST(HttpStream, HandlerSeesAClientGoneBeforeAnyWrite) {
  ServerFixture f;
  {
    RawConn c(f.port);
    c.send(get_request("/wait-gone", f.port));
    std::this_thread::sleep_for(100ms);
  }  // closed (FIN), no write ever happened
  EXPECT_TRUE(eventually([&] { return f.state.handler_returned.load(); }));
  EXPECT_TRUE(f.state.saw_client_gone);
}

TEST(HttpStream, ASlowReaderBlocksTheWriterAndIsDroppedAfterTheWriteTimeout) {
  http::HttpOptions o = test_options();  // 64 KiB stream buffer, 800 ms write timeout
  ServerFixture f(o);
  RawConn c(f.port);
  int small = 4096;  // a small receive buffer so the kernel holds little
  ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  c.send(get_request("/flood", f.port));
  // Never read: the handler must block on back-pressure and then fail, not buffer without end.
  EXPECT_TRUE(eventually([&] { return f.state.handler_returned.load(); }, 10000ms));
  EXPECT_TRUE(f.state.write_failed);
  // What was accepted is bounded by the socket buffers plus the stream buffer (64 KiB), far
  // below what an unbounded writer would have queued in this time.
  EXPECT_LT(f.state.chunks_written * 16 * 1024, 16 << 20) << f.state.chunks_written;
}

TEST(HttpStream, GracefulStopLetsRunningStreamsFinishAndRefusesNewConnections) {
  ServerFixture f;
  RawConn streaming(f.port), idle(f.port);
  idle.send(get_request("/hello", f.port));
  EXPECT_EQ(status_of(idle.read_for(3000ms, "hello")), 200);
  streaming.send(get_request("/stream?n=10&ms=50", f.port));
  std::string rest = streaming.read_for(3000ms, "chunk 0\n");
  f.srv->stop_accepting();
  EXPECT_TRUE(idle.read_until_closed(3000ms)) << "idle keep-alive connections end at once";
  EXPECT_TRUE(streaming.read_until_closed(5000ms, &rest));
  EXPECT_NE(rest.find("chunk 9\n\r\n0\r\n\r\n"), std::string::npos) << rest;
  EXPECT_TRUE(f.srv->drain(Clock::now() + 3000ms));
  RawConn late(f.port);
  std::string got;
  EXPECT_TRUE(!late.connected() || late.read_until_closed(3000ms, &got));
  EXPECT_EQ(got, "");
}

TEST(HttpStream, HardStopEndsStuckHandlers) {
  ServerFixture f;
  RawConn c(f.port);
  c.send(get_request("/wait-gone", f.port));
  std::this_thread::sleep_for(100ms);
  f.srv->stop_accepting();
  EXPECT_FALSE(f.srv->drain(Clock::now() + 200ms));
  const auto t0 = Clock::now();
  f.srv->stop();
  EXPECT_LT(seconds_since(t0), 3.0);
  EXPECT_TRUE(f.state.handler_returned);
  EXPECT_TRUE(f.state.saw_client_gone) << "stop() makes client_gone() true";
}

}  // namespace
}  // namespace ug::test
