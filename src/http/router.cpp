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
  for (const Route& r : routes_) {
    if (r.path != path) continue;
    m.path_known = true;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method;
    if (r.method == want) m.route = &r;
  }
  if (m.path_known) m.allow += ", OPTIONS";
  return m;
}

}  // namespace ug::http
