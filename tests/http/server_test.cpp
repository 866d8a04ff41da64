// The HTTP layer over a real loopback socket: keep-alive, pipelining, chunked bodies, HEAD,
// 100-continue, errors from handlers, routing errors, the security policy end to end.
#include <nlohmann/json.hpp>

#include "http/client.h"
#include "http_test_util.h"

namespace ug::test {
namespace {

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  ServerFixture f;
  RawConn c(f.port);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send(get_request("/hello", f.port)));
    std::string r = c.read_for(3000ms, "hello");
    EXPECT_EQ(status_of(r), 200) << r;
    EXPECT_NE(r.find("Content-Length: 5"), std::string::npos) << r;
  }
  EXPECT_FALSE(c.eof());
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  ServerFixture f;
  RawConn c(f.port);
  const std::string body = "{\"a\":1}";
  std::string batch =
      get_request("/hello", f.port) +
      "POST /echo HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(f.port) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body + get_request("/stream?n=2", f.port, "Connection: close\r\n");
  ASSERT_TRUE(c.send(batch));
  std::string r;
  EXPECT_TRUE(c.read_until_closed(5000ms, &r));
  const size_t a = r.find("hello"), b = r.find(body), s = r.find("chunk 1");
  ASSERT_NE(a, std::string::npos) << r;
  ASSERT_NE(b, std::string::npos) << r;
  ASSERT_NE(s, std::string::npos) << r;
  EXPECT_LT(a, b);
  EXPECT_LT(b, s);
}

TEST(HttpServer, ChunkedRequestBodyIsReadWhole) {
  ServerFixture f;
  std::string r = f.roundtrip("POST /size HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(f.port) +
                              "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                              "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_NE(r.find("\r\n\r\n11"), std::string::npos) << r;
}

TEST(HttpServer, HeadAndExpectContinue) {
  ServerFixture f;
  std::string r = f.roundtrip("HEAD /hello HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(f.port) +
                              "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_NE(r.find("Content-Length: 5"), std::string::npos) << r;
  EXPECT_EQ(r.find("hello"), std::string::npos) << r;

  RawConn c(f.port);
  c.send("POST /size HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(f.port) +
         "\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  std::string cont = c.read_for(3000ms, "\r\n\r\n");
  EXPECT_EQ(status_of(cont), 100) << cont;
  c.send("abcd");
  r = c.read_for(3000ms, "\r\n\r\n4");
  EXPECT_EQ(status_of(r), 200) << r;
}

TEST(HttpServer, HandlerExceptionsBecome500OrACutStream) {
  ServerFixture f;
  std::string r = f.roundtrip(get_request("/throw", f.port, "Connection: close\r\n"));
  EXPECT_EQ(status_of(r), 500) << r;
  EXPECT_NE(r.find("\"error\""), std::string::npos) << r;
  RawConn c(f.port);
  c.send(get_request("/throw-mid-stream", f.port));
  std::string s;
  EXPECT_TRUE(c.read_until_closed(3000ms, &s)) << "a failed stream ends the connection";
  EXPECT_NE(s.find("partial"), std::string::npos) << s;
  EXPECT_EQ(s.find("\r\n0\r\n\r\n"), std::string::npos) << "no proper end of the chunked body";
}

TEST(HttpServer, RoutingErrorsAreJson) {
  ServerFixture f;
  std::string r = f.roundtrip(get_request("/nope", f.port, "Connection: close\r\n"));
  EXPECT_EQ(status_of(r), 404) << r;
  const std::string json = r.substr(r.find("\r\n\r\n") + 4);
  EXPECT_EQ(nlohmann::json::parse(json)["error"]["type"], "not_found_error");
  r = f.roundtrip("DELETE /hello HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(f.port) +
                  "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(r), 405) << r;
  EXPECT_NE(r.find("Allow: GET, OPTIONS"), std::string::npos) << r;
}

TEST(HttpServer, HostOriginContentTypeAndCors) {
  http::HttpOptions o = test_options();
  o.cors_origins = {"https://app.example"};
  ServerFixture f(o);
  const std::string port = std::to_string(f.port);
  auto post_echo = [&](const std::string& extra) {
    return f.roundtrip("POST /echo HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n" + extra +
                       "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
  };
  EXPECT_EQ(status_of(f.roundtrip("GET /hello HTTP/1.1\r\nHost: evil.example:" + port +
                                  "\r\nConnection: close\r\n\r\n")),
            403);
  EXPECT_EQ(status_of(f.roundtrip("GET /hello HTTP/1.1\r\nHost: localhost:" + port +
                                  "\r\nConnection: close\r\n\r\n")),
            200);
  EXPECT_EQ(status_of(post_echo("Content-Type: text/plain\r\n")), 415);
  EXPECT_EQ(status_of(post_echo("Content-Type: application/json; charset=utf-8\r\n")), 200);
  EXPECT_EQ(
      status_of(post_echo("Content-Type: application/json\r\nOrigin: https://evil.example\r\n")),
      403);
  EXPECT_EQ(status_of(post_echo(
                "Content-Type: application/json\r\nOrigin: http://127.0.0.1:" + port + "\r\n")),
            200);
  std::string r = post_echo("Content-Type: application/json\r\nOrigin: https://app.example\r\n");
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_NE(r.find("Access-Control-Allow-Origin: https://app.example"), std::string::npos) << r;
  r = f.roundtrip("OPTIONS /echo HTTP/1.1\r\nHost: 127.0.0.1:" + port +
                  "\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n"
                  "Access-Control-Request-Headers: content-type, authorization\r\n"
                  "Connection: close\r\n\r\n");
  EXPECT_EQ(status_of(r), 204) << r;
  EXPECT_NE(r.find("Access-Control-Allow-Headers: content-type, authorization"), std::string::npos)
      << r;
}

TEST(HttpServer, PreRouteHookAnswersBeforeTheBody) {
  http::HttpOptions o = test_options();
  RouteState st;
  http::HttpServer srv(o);
  add_test_routes(srv.routes(), st);
  srv.set_pre_route([](const http::Request& req, http::Response& res) {
    if (req.header("Authorization") == "Bearer k") return false;
    res.status = 401;
    res.set_content("{}", "application/json");
    return true;
  });
  std::vector<int> statuses;
  srv.set_completion_hook([&](const http::Request&, int status) { statuses.push_back(status); });
  const int port = srv.start();
  RawConn c(port);
  c.send(get_request("/hello", port, "Authorization: Bearer k\r\n"));
  EXPECT_EQ(status_of(c.read_for(3000ms, "hello")), 200);
  c.send(get_request("/hello", port));
  EXPECT_EQ(status_of(c.read_for(3000ms, "{}")), 401);
  EXPECT_FALSE(c.eof()) << "a refused request without a body keeps the connection";
  st.release = true;
  srv.stop();
  EXPECT_EQ(statuses, (std::vector<int>{200, 401}));
}

TEST(HttpClient, GetPostStreamAndFetchWithRedirectAndSizeCap) {
  http::HttpOptions o = test_options();
  RouteState st;
  http::HttpServer srv(o);
  add_test_routes(srv.routes(), st);
  srv.routes().get("/moved", [](const http::Request&, http::Response& res) {
    res.status = 302;
    res.headers.set("Location", "/hello");
  });
  const int port = srv.start();
  http::Client c("127.0.0.1", port);
  auto r = c.get("/hello");
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->header("content-type"), "text/plain");
  r = c.post("/echo", "{\"x\":1}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "{\"x\":1}");
  std::string got;
  r = c.send("GET", "/stream?n=3", {}, {}, [&](std::string_view piece) {
    got += piece;
    return true;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(got, "chunk 0\nchunk 1\nchunk 2\n");

  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  http::FetchResult fr = http::fetch(base + "/moved", {});
  EXPECT_EQ(fr.status, 200) << fr.error;
  EXPECT_EQ(fr.body, "hello");
  http::ClientOptions small;
  small.max_body_bytes = 10;
  fr = http::fetch(base + "/stream?n=100", small);
  EXPECT_TRUE(fr.too_big) << fr.error;
  fr = http::fetch("http://127.0.0.1:1/", {});
  EXPECT_EQ(fr.status, 0);
  EXPECT_FALSE(fr.error.empty());
  st.release = true;
}

}  // namespace
}  // namespace ug::test
