// The chat page's files (web/), embedded in the binary at build time (server.cmake generates
// the definition) so the server needs no files and no network.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace ug::server {

struct WebAsset {
  std::string_view path;  // URL path: "/index.html", "/app.js", ...
  std::string_view mime;
  const unsigned char* data;
  size_t size;
};

const std::vector<WebAsset>& web_assets();

}  // namespace ug::server
