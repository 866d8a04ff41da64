// The pure parts of the HTTP layer: Host/Origin policy, content types, URLs, and the checks on a
// request head.
#include "http/policy.h"

#include <gtest/gtest.h>

#include "http/head_check.h"
#include "http/url.h"

namespace ug::http {
namespace {

TEST(Policy, LoopbackBindAllowsLoopbackNamesWithThePort) {
  SecurityPolicy p("127.0.0.1", 8080, {}, {});
  EXPECT_TRUE(p.host_allowed("localhost:8080"));
  EXPECT_TRUE(p.host_allowed("LOCALHOST:8080"));
  EXPECT_TRUE(p.host_allowed("127.0.0.1:8080"));
  EXPECT_TRUE(p.host_allowed("[::1]:8080"));
  EXPECT_FALSE(p.host_allowed("localhost:8081"));
  EXPECT_FALSE(p.host_allowed("localhost"));  // port 80
  EXPECT_FALSE(p.host_allowed("attacker.example:8080"));
  EXPECT_FALSE(p.host_allowed("192.168.1.5:8080"));  // loopback servers answer loopback names only
  EXPECT_FALSE(p.host_allowed("localhost:80x"));
  EXPECT_FALSE(p.host_allowed(""));
}

TEST(Policy, AllowedHostsAddNamesOnAnyPortAndStarAllowsAll) {
  SecurityPolicy p("127.0.0.1", 8080, {"Gemma.Example"}, {});
  EXPECT_TRUE(p.host_allowed("gemma.example"));
  EXPECT_TRUE(p.host_allowed("gemma.example:443"));
  EXPECT_FALSE(p.host_allowed("other.example"));
  SecurityPolicy any("127.0.0.1", 8080, {"*"}, {});
  EXPECT_TRUE(any.host_allowed("whatever.example:1"));
}

TEST(Policy, NonLoopbackBindAllowsTheAddressAndIpLiterals) {
  SecurityPolicy p("0.0.0.0", 8080, {}, {});
  EXPECT_TRUE(p.host_allowed("192.168.1.5:8080"));
  EXPECT_TRUE(p.host_allowed("[fe80::1]:8080"));
  EXPECT_TRUE(p.host_allowed("localhost:8080"));
  EXPECT_FALSE(p.host_allowed("rebind.attacker.example:8080"));
  EXPECT_FALSE(p.host_allowed("192.168.1.5:9999"));
  SecurityPolicy named("myhost.lan", 8080, {}, {});
  EXPECT_TRUE(named.host_allowed("myhost.lan:8080"));
  EXPECT_FALSE(named.host_allowed("other.lan:8080"));
}

TEST(Policy, OriginMustBeOwnOrCors) {
  SecurityPolicy p("127.0.0.1", 8080, {}, {"https://app.example"});
  EXPECT_TRUE(p.origin_allowed("", "127.0.0.1:8080"));  // no Origin: not a browser
  EXPECT_TRUE(p.origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(p.origin_allowed("http://localhost:8080", "localhost:8080"));
  EXPECT_FALSE(p.origin_allowed("http://localhost:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(p.origin_allowed("https://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(p.origin_allowed("null", "127.0.0.1:8080"));
  EXPECT_TRUE(p.origin_allowed("https://app.example", "127.0.0.1:8080"));
  EXPECT_TRUE(p.is_cors_origin("https://APP.example"));
  EXPECT_FALSE(p.is_cors_origin("http://127.0.0.1:8080"));
  Headers h;
  p.add_cors_headers("https://app.example", h);
  EXPECT_EQ(h.get("Access-Control-Allow-Origin"), "https://app.example");
  Headers pre;
  p.add_preflight_headers("https://app.example", "authorization, content-type", pre);
  EXPECT_EQ(pre.get("Access-Control-Allow-Headers"), "authorization, content-type");
  EXPECT_NE(pre.get("Access-Control-Allow-Methods").find("POST"), std::string::npos);
  Headers odd;
  p.add_preflight_headers("https://app.example", "x\r\ny", odd);
  EXPECT_EQ(odd.get("Access-Control-Allow-Headers"), "Authorization, Content-Type");
}

TEST(Policy, JsonContentType) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON; charset=UTF-8"));
  EXPECT_TRUE(is_json_content_type("application/json;charset=\"utf-8\""));
  EXPECT_FALSE(is_json_content_type("application/json; charset=latin1"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_json_content_type("multipart/form-data; boundary=x"));
  EXPECT_FALSE(is_json_content_type(""));
}

TEST(Url, PercentDecodingAndQueries) {
  EXPECT_EQ(percent_decode("/a%20b", false), "/a b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_FALSE(percent_decode("%2", false));
  EXPECT_FALSE(percent_decode("%zz", false));
  EXPECT_FALSE(percent_decode("a%00b", false));
  auto q = parse_query("a=1&b=x%20y&&c&d=");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[1], std::make_pair(std::string("b"), std::string("x y")));
  EXPECT_EQ((*q)[2].first, "c");
  EXPECT_FALSE(parse_query("a=%G1"));
}

TEST(Url, AbsoluteUrls) {
  auto u = parse_url("https://example.com:8443/p/q?x=1#frag");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/p/q?x=1");
  u = parse_url("http://[::1]/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 80);
  u = parse_url("http://example.com?q");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, "/?q");
  EXPECT_FALSE(parse_url("ftp://example.com/"));
  EXPECT_FALSE(parse_url("http://user:pw@example.com/"));
  EXPECT_FALSE(parse_url("http://example.com:99999/"));
  EXPECT_FALSE(parse_url("http:///x"));
}

class HeadCheckTest : public ::testing::Test {
 protected:
  HeadCheckTest() : policy_("127.0.0.1", 8080, {}, {"https://app.example"}) {
    router_.get("/a", [](const Request&, Response&) {});
    RouteOptions json;
    json.json_body = true;
    router_.post(
        "/a", [](const Request&, Response&) {}, json);
    router_.websocket("/ws", [](const Request&) { return nullptr; });
  }
  HeadCheck check(const std::string& method, const std::string& target,
                  std::vector<std::pair<std::string, std::string>> headers, bool has_body = false,
                  bool overflow = false) {
    req_ = Request();
    req_.method = method;
    req_.target = target;
    req_.headers.add("Host", "127.0.0.1:8080");
    for (auto& [k, v] : headers) req_.headers.add(k, v);
    return check_head(req_, has_body, router_, policy_, options_, overflow);
  }
  Router router_;
  SecurityPolicy policy_;
  HttpOptions options_;
  Request req_;
};

TEST_F(HeadCheckTest, AcceptsAPlainRequestAndSplitsTheTarget) {
  HeadCheck c = check("GET", "/a?x=1&y=%41", {});
  EXPECT_EQ(c.status, 0);
  ASSERT_NE(c.match.route, nullptr);
  EXPECT_EQ(req_.path, "/a");
  EXPECT_EQ(req_.query_param("y"), "A");
}

TEST_F(HeadCheckTest, FramingProblemsAre400AndClose) {
  for (auto headers : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"Content-Length", "5"}, {"Content-Length", "5"}},
           {{"Content-Length", "5, 5"}},
           {{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}},
           {{"Transfer-Encoding", "gzip"}},
           {{"Transfer-Encoding", "gzip, chunked"}},
           {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
       }) {
    HeadCheck c = check("POST", "/a", headers, true);
    EXPECT_EQ(c.status, 400) << headers[0].first << ": " << headers[0].second;
    EXPECT_TRUE(c.close);
  }
}

TEST_F(HeadCheckTest, HostOriginAndTarget) {
  EXPECT_EQ(check("GET", "http://127.0.0.1:8080/a", {}).status, 400);
  EXPECT_EQ(check("GET", "/a%zz", {}).status, 400);
  HeadCheck c = check("GET", "/a", {{"Host", "127.0.0.1:8080"}});
  EXPECT_EQ(c.status, 400);  // two Host fields
  req_ = Request();
  req_.method = "GET";
  req_.target = "/a";
  req_.headers.add("Host", "evil.example:8080");
  EXPECT_EQ(check_head(req_, false, router_, policy_, options_, false).status, 403);
  req_.headers = Headers();
  EXPECT_EQ(check_head(req_, false, router_, policy_, options_, false).status, 400);  // no Host
  req_.version = 10;
  EXPECT_EQ(check_head(req_, false, router_, policy_, options_, false).status, 0);
  EXPECT_EQ(check("GET", "/a", {{"Origin", "https://evil.example"}}).status, 403);
  c = check("GET", "/a", {{"Origin", "https://app.example"}});
  EXPECT_EQ(c.status, 0);
  EXPECT_EQ(c.headers.get("Access-Control-Allow-Origin"), "https://app.example");
}

TEST_F(HeadCheckTest, RoutesContentTypesEncodingsAndUpgrades) {
  EXPECT_EQ(check("GET", "/nope", {}).status, 404);
  HeadCheck c = check("DELETE", "/a", {});
  EXPECT_EQ(c.status, 405);
  EXPECT_EQ(c.headers.get("Allow"), "GET, POST, OPTIONS");
  EXPECT_EQ(
      check("POST", "/a", {{"Content-Type", "text/plain"}, {"Content-Length", "2"}}, true).status,
      415);
  EXPECT_EQ(check("POST", "/a",
                  {{"Content-Type", "application/json"},
                   {"Content-Length", "2"},
                   {"Content-Encoding", "gzip"}},
                  true)
                .status,
            415);
  EXPECT_EQ(
      check("POST", "/a", {{"Content-Type", "application/json"}, {"Content-Length", "2"}}, true)
          .status,
      0);
  EXPECT_EQ(check("GET", "/ws", {}).status, 426);
  c = check("GET", "/ws", {{"Connection", "keep-alive, Upgrade"}, {"Upgrade", "websocket"}});
  EXPECT_EQ(c.status, 0);
  EXPECT_NE(c.match.socket, nullptr);
  EXPECT_EQ(check("GET", "/a", {{"Expect", "something"}}).status, 417);
}

TEST_F(HeadCheckTest, PreflightAndOverflow) {
  HeadCheck c = check("OPTIONS", "/a",
                      {{"Origin", "https://app.example"},
                       {"Access-Control-Request-Method", "POST"},
                       {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(c.status, 204);
  EXPECT_TRUE(c.preflight);
  EXPECT_EQ(c.headers.get("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(check("OPTIONS", "/a",
                  {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}})
                .status,
            403);
  EXPECT_EQ(check("GET", "/a", {}, false, true).status, 503);
}

}  // namespace
}  // namespace ug::http
