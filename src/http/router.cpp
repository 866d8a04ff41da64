#include "http/router.h"

namespace ug::http {

void Router::add(std::string method, std::string path, Handler handler, RouteOptions options) {
  for (Route& r : routes_)
    if (r.method == method && r.path == path) {
      r.handler = std::move(handler);
      r.options = options;
      return;
    }
  routes_.push_back({std::move(method), std::move(path), std::move(handler), options});
}

void Router::websocket(std::string path, WebSocketFactory factory) {
  sockets_.emplace_back(std::move(path), std::move(factory));
}

namespace {

// "/a/{}" matches "/a/x" (x non-empty, without '/').
bool matches(const std::string& route, std::string_view path) {
  if (route == path) return true;
  if (route.size() < 3 || route.compare(route.size() - 3, 3, "/{}") != 0) return false;
  const std::string_view prefix(route.data(), route.size() - 2);
  if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  return path.find('/', prefix.size()) == std::string_view::npos;
}

}  // namespace

Router::Match Router::find(std::string_view method, std::string_view path) const {
  Match m;
  const std::string_view want = method == "HEAD" ? std::string_view("GET") : method;
  for (const auto& [p, f] : sockets_)
    if (p == path) {
      m.path_known = true;
      m.allow = "GET";
      if (want == "GET") m.socket = &f;
      return m;
    }
  bool exact = false;  // an exact path hides the wildcard routes
  for (const Route& r : routes_) exact = exact || r.path == path;
  for (const Route& r : routes_) {
    if (exact ? r.path != path : !matches(r.path, path)) continue;
    m.path_known = true;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method;
    if (r.method == want) m.route = &r;
  }
  if (m.path_known) m.allow += ", OPTIONS";
  return m;
}

}  // namespace ug::http
