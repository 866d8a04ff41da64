// Router: exact paths, the "{}" last-segment wildcard, and which wins.
#include "http/router.h"

#include <gtest/gtest.h>

namespace ug::http {
namespace {

TEST(Router, WildcardMatchesOneLastSegmentAndExactPathsWin) {
  Router r;
  int hit = 0;
  r.get("/v1/models", [&](const Request&, Response&) { hit = 1; });
  r.get("/v1/models/{}", [&](const Request&, Response&) { hit = 2; });
  r.add("DELETE", "/v1/models/{}", [&](const Request&, Response&) { hit = 3; });
  r.get("/v1/models/special", [&](const Request&, Response&) { hit = 4; });
  Request req;
  Response res;
  auto call = [&](std::string_view method, std::string_view path) {
    hit = 0;
    Router::Match m = r.find(method, path);
    if (m.route) m.route->handler(req, res);
    return hit;
  };
  EXPECT_EQ(call("GET", "/v1/models"), 1);
  EXPECT_EQ(call("GET", "/v1/models/tiny"), 2);
  EXPECT_EQ(call("DELETE", "/v1/models/tiny"), 3);
  EXPECT_EQ(call("GET", "/v1/models/special"), 4);
  EXPECT_EQ(call("DELETE", "/v1/models/special"), 0);  // the exact path has only GET
  EXPECT_EQ(call("GET", "/v1/models/"), 0);            // the segment must not be empty
  EXPECT_EQ(call("GET", "/v1/models/a/b"), 0);         // nor hold a '/'
  EXPECT_FALSE(r.find("GET", "/v1/models/a/b").path_known);
  EXPECT_EQ(r.find("POST", "/v1/models/x").allow, "GET, DELETE, OPTIONS");
}

}  // namespace
}  // namespace ug::http
