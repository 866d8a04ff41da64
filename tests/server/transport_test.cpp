// The server on its HTTP layer: what issue 12 found open (body limits bypassed by chunked and
// compressed bodies, cross-site and DNS-rebinding requests, text/plain API POSTs) and the
// graceful stop (running streams end with a final event that says why).
#include <thread>

#include "../http/http_test_util.h"
#include "server_test_util.h"

namespace ug::test {
namespace {

std::string api_post(int port, const std::string& extra, const std::string& body) {
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" +
         extra + "Content-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

TEST(Transport, ApiPostsNeedJsonAndForeignPagesAndHostsAreRefused) {
  TestServer s;
  const std::string body = user_chat("hi", 1).dump();
  const std::string json = "Content-Type: application/json\r\n";
  auto roundtrip = [&](const std::string& request) {
    RawConn c(s.port);
    c.send(request);
    return c.read_for(60000ms, "}");
  };
  EXPECT_EQ(status_of(roundtrip(api_post(s.port, "Content-Type: text/plain\r\n", body))), 415);
  EXPECT_EQ(status_of(roundtrip(api_post(s.port, "", body))), 415);
  EXPECT_EQ(status_of(roundtrip(api_post(s.port, json + "Origin: https://evil.example\r\n", body))),
            403);
  EXPECT_EQ(
      status_of(roundtrip(api_post(
          s.port, json + "Origin: http://127.0.0.1:" + std::to_string(s.port) + "\r\n", body))),
      200);
  std::string rebound = api_post(s.port, json, body);
  rebound.replace(rebound.find("127.0.0.1"), 9, "rebind.attacker.example");
  std::string r = roundtrip(rebound);
  EXPECT_EQ(status_of(r), 403) << r;
  EXPECT_NE(r.find("--allowed-host"), std::string::npos) << r;
}

TEST(Transport, ChunkedAndCompressedBodiesCannotPassTheBodyLimit) {
  server::ServerOptions so;
  so.max_body_bytes = 1u << 20;
  TestServer s(so);
  RawConn c(s.port);
  c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) +
         "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";  // 64 KiB
  std::string r;
  for (int i = 0; i < 64 && r.empty(); ++i) {  // up to 4 MiB
    if (!c.send(chunk)) break;
    r = c.read_for(2ms);
  }
  EXPECT_TRUE(c.read_until_closed(5000ms, &r));
  EXPECT_EQ(status_of(r), 413) << r;
  RawConn z(s.port);
  z.send(api_post(s.port, "Content-Type: application/json\r\nContent-Encoding: gzip\r\n",
                  std::string(100, 'z')));
  r.clear();
  EXPECT_TRUE(z.read_until_closed(5000ms, &r));
  EXPECT_EQ(status_of(r), 415) << r;
  auto client = s.client();
  EXPECT_EQ(post(client, "/v1/chat/completions", user_chat("still serving", 1)).first, 200);
}

TEST(Transport, StopEndsRunningStreamsWithAFinalEvent) {
  EngineOptions eo = TestServer::default_engine();
  eo.parallel = 2;
  TestServer s({}, eo);
  json openai = user_chat("Write forever", 900, 1, 1.0);
  openai["stream"] = true;
  json ollama = {{"messages", json::array({{{"role", "user"}, {"content", "Write forever"}}})},
                 {"options", {{"num_predict", 900}, {"temperature", 1.0}}}};
  std::string sse, ndjson;
  std::atomic<int> started{0};
  auto stream = [&](const std::string& path, const json& body, std::string& out) {
    auto c = s.client();
    bool first = true;
    c.send("POST", path, {{"Content-Type", "application/json"}}, body.dump(),
           [&](std::string_view piece) {
             out += piece;
             if (first) ++started;
             first = false;
             return true;
           });
  };
  std::thread a([&] { stream("/v1/chat/completions", openai, sse); });
  std::thread b([&] { stream("/api/chat", ollama, ndjson); });
  ASSERT_TRUE(eventually([&] { return started == 2; }, 60000ms));
  const auto t0 = Clock::now();
  s.srv->stop();
  EXPECT_LT(seconds_since(t0), 10.0);
  a.join();
  b.join();
  auto events = sse_events(sse);
  ASSERT_GE(events.size(), 2u) << sse;
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_EQ(parse_json(events[events.size() - 2])["choices"][0]["finish_reason"], "shutdown")
      << sse;
  ASSERT_FALSE(ndjson.empty());
  const size_t last = ndjson.rfind('\n', ndjson.size() - 2);
  json end = parse_json(ndjson.substr(last == std::string::npos ? 0 : last + 1));
  EXPECT_EQ(end["done"], true) << ndjson;
  EXPECT_EQ(end["done_reason"], "shutdown") << ndjson;
  RawConn late(s.port);
  EXPECT_TRUE(!late.connected() || late.read_until_closed(3000ms));
}

}  // namespace
}  // namespace ug::test
