// A small blocking HTTP/1.1 client on Boost.Beast: the server's remote-media fetcher (http and
// https, redirects, a size cap) and the tests' client. Every call opens its own connection.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"
#include "http/options.h"

namespace ug::http {

struct ClientOptions {
  Millis connect_timeout{10000};
  Millis read_timeout{60000};  // the longest silence while reading the answer
  Millis write_timeout{60000};
  size_t max_body_bytes = 256u << 20;  // larger answers fail (FetchResult::too_big)
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;  // empty when a BodyReceiver took it
  std::string header(std::string_view name) const { return headers.get(name); }
};

// Gets each piece of the answer's body as it arrives; returning false hangs up at once.
using BodyReceiver = std::function<bool(std::string_view piece)>;

class Client {
 public:
  Client(std::string host, int port, ClientOptions options = {});

  std::optional<ClientResponse> get(const std::string& target, const Headers& headers = {});
  std::optional<ClientResponse> post(const std::string& target, std::string body,
                                     const std::string& content_type, const Headers& headers = {});
  // Nullopt on a connection error, a timeout or a hang-up by `receiver`; error() says which.
  std::optional<ClientResponse> send(const std::string& method, const std::string& target,
                                     const Headers& headers, std::string body,
                                     const BodyReceiver& receiver = {});
  const std::string& error() const { return error_; }

 private:
  std::string host_;
  int port_;
  ClientOptions options_;
  std::string error_;
};

struct FetchResult {
  int status = 0;  // 0: no answer (see error)
  std::string body;
  std::string error;
  bool too_big = false;  // the body was over max_body_bytes
};

// GET of an http:// or https:// URL (certificates checked against the system's CAs), following
// up to `max_redirects` redirects.
FetchResult fetch(const std::string& url, const ClientOptions& options, int max_redirects = 5);

}  // namespace ug::http
