// Routes: exact paths to handlers, per method, plus WebSocket paths. A route path whose last
// segment is "{}" ("/v1/models/{}") matches any one non-empty last segment there; exact paths
// win over it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/websocket.h"

namespace ug::http {

using Handler = std::function<void(const Request&, Response&)>;

struct RouteOptions {
  // Runs on the I/O thread instead of a worker: only for handlers that take microseconds and
  // never block (/health), so that they answer even when every worker is busy.
  bool on_io_thread = false;
  // POST bodies must be application/json (optionally charset=utf-8), else 415.
  bool json_body = false;
};

struct Route {
  std::string method, path;
  Handler handler;
  RouteOptions options;
};

class Router {
 public:
  void add(std::string method, std::string path, Handler handler, RouteOptions options = {});
  void get(std::string path, Handler handler, RouteOptions options = {}) {
    add("GET", std::move(path), std::move(handler), options);
  }
  void post(std::string path, Handler handler, RouteOptions options = {}) {
    add("POST", std::move(path), std::move(handler), options);
  }
  void websocket(std::string path, WebSocketFactory factory);

  struct Match {
    const Route* route = nullptr;              // method and path matched
    const WebSocketFactory* socket = nullptr;  // a WebSocket path
    bool path_known = false;                   // the path exists (405 rather than 404)
    std::string allow;                         // the path's methods, for 405 and OPTIONS
  };
  // HEAD finds GET routes.
  Match find(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
  std::vector<std::pair<std::string, WebSocketFactory>> sockets_;
};

}  // namespace ug::http
