// Who may talk to the server from a browser: the Host allowlist (against DNS rebinding), the
// Origin check (against cross-site requests) and opt-in CORS.
//
// Host: when bound to a loopback address, the Host header must be localhost, 127.0.0.1 or [::1]
// with the server's port. When bound to any other address, the bound address and any IP literal
// (with the port) are allowed too: a DNS-rebinding attack needs a host *name*, so literal
// addresses are safe. Names given with --allowed-host are allowed with any port; "*" turns the
// check off (behind a proxy that rewrites Host, for example). HTTP/1.0 requests may omit Host.
//
// Origin: a request without Origin (curl, SDKs) passes. A browser's Origin must be the server's
// own origin (http:// + the allowed Host) or one of the CORS origins, else 403.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ug::http {

class Headers;

class SecurityPolicy {
 public:
  SecurityPolicy() = default;
  SecurityPolicy(std::string bound_host, int port, std::vector<std::string> allowed_hosts,
                 std::vector<std::string> cors_origins);

  bool host_allowed(std::string_view host_header) const;
  // `origin` is the Origin header (empty when absent), `host_header` the (allowed) Host.
  bool origin_allowed(std::string_view origin, std::string_view host_header) const;
  // A CORS origin (not the server's own): responses to it carry Access-Control-Allow-Origin.
  bool is_cors_origin(std::string_view origin) const;
  // Access-Control-Allow-Origin and Vary for a response to a request from `origin`.
  void add_cors_headers(std::string_view origin, Headers& out) const;
  // The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method).
  void add_preflight_headers(std::string_view origin, std::string_view request_headers,
                             Headers& out) const;

 private:
  bool loopback_only_ = true;
  bool any_host_ = false;
  bool any_origin_ = false;
  int port_ = 0;
  std::vector<std::string> names_;  // lower-case, any port
  std::vector<std::string> origins_;
  std::string bound_;  // lower-case bound address (non-loopback)
};

bool is_loopback_host(std::string_view host);  // "127.0.0.1", "::1", "localhost", 127.x.y.z
// "application/json" with at most a charset=utf-8 parameter (case-insensitive).
bool is_json_content_type(std::string_view content_type);

}  // namespace ug::http
