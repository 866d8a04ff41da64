#include "http/policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "http/message.h"

namespace ug::http {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_ip_literal(const std::string& name) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, name.c_str(), buf) == 1) return true;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']')
    return inet_pton(AF_INET6, name.substr(1, name.size() - 2).c_str(), buf) == 1;
  return false;
}

// "Name:port" -> {"name", port}; "[::1]:80" keeps the brackets; no port means 80. Port -1 when
// the port is not a number.
std::pair<std::string, int> split_host(std::string_view h) {
  size_t colon = std::string_view::npos;
  if (!h.empty() && h[0] == '[') {
    const size_t close = h.find(']');
    if (close != std::string_view::npos && close + 1 < h.size() && h[close + 1] == ':')
      colon = close + 1;
  } else {
    colon = h.rfind(':');
  }
  if (colon == std::string_view::npos) return {lower(h), 80};
  int port = -1;
  std::string_view p = h.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || ptr != p.data() + p.size() || p.empty()) port = -1;
  return {lower(h.substr(0, colon)), port};
}

bool is_token_list(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ',' || c == ' ';
  });
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  const std::string h = lower(host);
  if (h == "localhost" || h == "::1" || h == "[::1]") return true;
  unsigned char buf[4];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 && buf[0] == 127;
}

bool is_json_content_type(std::string_view ct) {
  const size_t semi = ct.find(';');
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  if (!iequals(trim(ct.substr(0, semi)), "application/json")) return false;
  if (semi == std::string_view::npos) return true;
  std::string param = lower(trim(ct.substr(semi + 1)));
  std::erase(param, ' ');
  std::erase(param, '"');
  return param.empty() || param == "charset=utf-8";
}

SecurityPolicy::SecurityPolicy(std::string bound_host, int port,
                               std::vector<std::string> allowed_hosts,
                               std::vector<std::string> cors_origins)
    : loopback_only_(is_loopback_host(bound_host)), port_(port) {
  bound_ = lower(bound_host);
  if (bound_.find(':') != std::string::npos && bound_.front() != '[') bound_ = "[" + bound_ + "]";
  for (const std::string& h : allowed_hosts) {
    if (h == "*") any_host_ = true;
    names_.push_back(lower(h));
  }
  for (const std::string& o : cors_origins) {
    if (o == "*") any_origin_ = true;
    std::string v = lower(o);
    while (!v.empty() && v.back() == '/') v.pop_back();
    origins_.push_back(v);
  }
}

bool SecurityPolicy::host_allowed(std::string_view host_header) const {
  if (any_host_) return true;
  auto [name, port] = split_host(host_header);
  if (name.empty() || port < 0) return false;
  if (std::find(names_.begin(), names_.end(), name) != names_.end()) return true;
  if (port != port_) return false;
  if (name == "localhost" || name == "127.0.0.1" || name == "[::1]") return true;
  return !loopback_only_ && (name == bound_ || is_ip_literal(name));
}

bool SecurityPolicy::is_cors_origin(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any_origin_) return true;
  return std::find(origins_.begin(), origins_.end(), lower(origin)) != origins_.end();
}

bool SecurityPolicy::origin_allowed(std::string_view origin, std::string_view host_header) const {
  if (origin.empty()) return true;
  const std::string o = lower(origin), h = lower(host_header);
  if (!h.empty() && (o == "http://" + h || o == "https://" + h)) return true;
  return is_cors_origin(origin);
}

void SecurityPolicy::add_cors_headers(std::string_view origin, Headers& out) const {
  if (!is_cors_origin(origin)) return;
  out.set("Access-Control-Allow-Origin", std::string(origin));
  out.set("Vary", "Origin");
}

void SecurityPolicy::add_preflight_headers(std::string_view origin,
                                           std::string_view request_headers, Headers& out) const {
  add_cors_headers(origin, out);
  out.set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  out.set("Access-Control-Allow-Headers", !request_headers.empty() && is_token_list(request_headers)
                                              ? std::string(request_headers)
                                              : std::string("Authorization, Content-Type"));
  out.set("Access-Control-Max-Age", "600");
  out.set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
}

}  // namespace ug::http
