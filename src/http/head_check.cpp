#include "http/head_check.h"

#include "http/url.h"

namespace ug::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

HeadCheck refuse(int status, std::string message, bool close) {
  HeadCheck c;
  c.status = status;
  c.message = std::move(message);
  c.close = close;
  return c;
}

}  // namespace

HeadCheck check_head(Request& req, bool has_body, const Router& router,
                     const SecurityPolicy& policy, const HttpOptions& options, bool overflow) {
  const Headers& h = req.headers;
  // Framing first: a request whose body length is ambiguous cannot be answered safely on this
  // connection (request smuggling), so these close it.
  if (h.size() > options.max_header_count)
    return refuse(
        431,
        "the request has more than " + std::to_string(options.max_header_count) + " header fields",
        true);
  const size_t n_length = h.count("Content-Length"), n_transfer = h.count("Transfer-Encoding");
  if (n_length > 1 || h.get("Content-Length").find(',') != std::string::npos)
    return refuse(400, "the request has more than one Content-Length", true);
  if (n_length > 0 && n_transfer > 0)
    return refuse(400, "the request has both Content-Length and Transfer-Encoding", true);
  if (n_transfer > 1 || (n_transfer == 1 && !iequals(trim(h.get("Transfer-Encoding")), "chunked")))
    return refuse(400, "the only Transfer-Encoding accepted is chunked", true);
  const std::string encoding(trim(h.get("Content-Encoding")));
  if (has_body && !encoding.empty() && !iequals(encoding, "identity"))
    return refuse(415,
                  "Content-Encoding '" + encoding + "' is not accepted; send the body uncompressed",
                  true);
  if (const std::string expect = h.get("Expect");
      !expect.empty() && !iequals(expect, "100-continue"))
    return refuse(417, "unsupported Expect: " + expect, true);

  // Target: origin form ("/path?query"), or "*" for OPTIONS.
  const bool asterisk = req.method == "OPTIONS" && req.target == "*";
  if (!asterisk) {
    if (req.target.empty() || req.target[0] != '/')
      return refuse(400, "the request target must be a path starting with '/'", true);
    const size_t q = req.target.find('?');
    auto path = percent_decode(std::string_view(req.target).substr(0, q), false);
    if (!path) return refuse(400, "the request path has a broken %-escape", true);
    req.path = std::move(*path);
    if (q != std::string::npos) {
      auto query = parse_query(std::string_view(req.target).substr(q + 1));
      if (!query) return refuse(400, "the query string has a broken %-escape", true);
      req.query = std::move(*query);
    }
  }

  // Host and Origin (see http/policy.h).
  const size_t n_host = h.count("Host");
  if (n_host > 1) return refuse(400, "the request has more than one Host", true);
  if (n_host == 0 && req.version >= 11) return refuse(400, "the request has no Host header", true);
  const std::string host = h.get("Host"), origin = h.get("Origin");
  if (n_host == 1 && !policy.host_allowed(host))
    return refuse(
        403,
        "Host '" + host + "' is not allowed (start the server with --allowed-host NAME to add it)",
        has_body);
  if (!policy.origin_allowed(origin, host))
    return refuse(403,
                  "cross-site requests from " + origin +
                      " are not allowed (start the server with --cors-origin ORIGIN to allow it)",
                  has_body);

  HeadCheck c;
  if (req.method == "OPTIONS") {
    c.status = 204;
    c.close = has_body;
    if (!asterisk) {
      c.match = router.find("OPTIONS", req.path);
      if (!c.match.path_known) return refuse(404, "no route " + req.path, has_body);
      c.headers.set("Allow", c.match.allow);
    }
    const std::string method = h.get("Access-Control-Request-Method");
    if (!origin.empty() && !method.empty()) {
      c.preflight = true;
      policy.add_preflight_headers(origin, h.get("Access-Control-Request-Headers"), c.headers);
    }
    return c;
  }

  c.match = router.find(req.method, req.path);
  if (!c.match.path_known) return refuse(404, "no route " + req.method + " " + req.path, has_body);
  if (!c.match.route && !c.match.socket) {
    HeadCheck r = refuse(405, req.method + " is not allowed on " + req.path, has_body);
    r.headers.set("Allow", c.match.allow);
    return r;
  }
  if (c.match.socket && !(has_token(h.get("Connection"), "upgrade") &&
                          iequals(trim(h.get("Upgrade")), "websocket"))) {
    HeadCheck r = refuse(426, req.path + " is a WebSocket endpoint", has_body);
    r.headers.set("Upgrade", "websocket");
    return r;
  }
  if (overflow && !(c.match.route && c.match.route->options.on_io_thread))
    return refuse(503, "the server has too many open connections; retry later", true);
  if (c.match.route && c.match.route->options.json_body && req.method == "POST" &&
      !is_json_content_type(h.get("Content-Type")))
    return refuse(415, "the body must be sent as Content-Type: application/json", has_body);
  policy.add_cors_headers(origin, c.headers);
  return c;
}

}  // namespace ug::http
