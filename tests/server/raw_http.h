// A plain-socket HTTP/1.1 client for tests that must not depend on the server's HTTP library:
// one request per connection, the bytes sent exactly as given.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

namespace ug::test {

struct RawResponse {
  int status = 0;  // 0: no parsable response (connection refused, reset, timeout)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked
};

namespace raw_http_detail {

inline std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// Reads until `done(buffer)` or EOF / error / timeout.
template <class Done>
inline void read_until(int fd, std::string& buf, Done done) {
  char chunk[65536];
  while (!done(buf)) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

// Decodes a chunked body; returns false while incomplete.
inline bool dechunk(const std::string& raw, std::string& out) {
  out.clear();
  size_t pos = 0;
  for (;;) {
    const size_t eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    const size_t size = std::strtoul(raw.substr(pos, eol - pos).c_str(), nullptr, 16);
    if (size == 0) return raw.find("\r\n", eol + 2) != std::string::npos;
    if (raw.size() < eol + 2 + size + 2) return false;
    out.append(raw, eol + 2, size);
    pos = eol + 2 + size + 2;
  }
}

}  // namespace raw_http_detail

// Sends `request` (the complete bytes: request line, headers, body) to 127.0.0.1:port and reads
// one response. Waits at most timeout_s for each read.
inline RawResponse raw_exchange(int port, const std::string& request, int timeout_s = 60) {
  namespace d = raw_http_detail;
  RawResponse r;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return r;
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return r;
  }
  // A server may answer (413) before the body is all sent and close: keep what arrives.
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string buf;
  d::read_until(fd, buf, [](const std::string& b) { return b.find("\r\n\r\n") != b.npos; });
  const size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string::npos || buf.compare(0, 5, "HTTP/") != 0) {
    ::close(fd);
    return r;
  }
  const size_t sp = buf.find(' ');
  r.status = std::atoi(buf.c_str() + sp + 1);
  for (size_t pos = buf.find("\r\n") + 2; pos < head_end;) {
    const size_t eol = buf.find("\r\n", pos);
    const std::string line = buf.substr(pos, eol - pos);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      r.headers[d::lower(line.substr(0, colon))] = line.substr(v);
    }
    pos = eol + 2;
  }
  std::string rest = buf.substr(head_end + 4);
  if (d::lower(r.headers["transfer-encoding"]) == "chunked") {
    d::read_until(fd, rest, [&](const std::string& b) { return d::dechunk(b, r.body); });
    d::dechunk(rest, r.body);
  } else if (r.headers.count("content-length")) {
    const size_t n = std::strtoul(r.headers["content-length"].c_str(), nullptr, 10);
    d::read_until(fd, rest, [&](const std::string& b) { return b.size() >= n; });
    r.body = rest.substr(0, n);
  } else {
    d::read_until(fd, rest, [](const std::string&) { return false; });
    r.body = rest;
  }
  ::close(fd);
  return r;
}

// A request with the headers every API client sends.
inline std::string raw_request(int port, const std::string& method, const std::string& path,
                               const std::string& body,
                               const std::string& content_type = "application/json") {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                  "\r\nConnection: close\r\n";
  if (method != "GET" || !body.empty()) {
    r += "Content-Type: " + content_type + "\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + body;
}

}  // namespace ug::test
