// Request targets and URLs: splitting, percent-decoding, query strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ug::http {

// %XX sequences decoded; with `plus_is_space` (query strings) '+' becomes ' '. Nullopt on a
// broken escape or a decoded NUL byte.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}}; nullopt when an escape is broken.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view q);

// An absolute http(s) URL split for a client: "https://host:8443/p?q" -> {true, "host", 8443,
// "/p?q"}. IPv6 literals keep their brackets out of `host`. Nullopt when it is not such a URL.
struct Url {
  bool tls = false;
  std::string host;
  int port = 0;
  std::string target;  // path and query, at least "/"
};
std::optional<Url> parse_url(std::string_view url);

}  // namespace ug::http
