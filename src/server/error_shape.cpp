// Which error shape a route answers in.
#include "server/server_state.h"

namespace ug::server {

json error_body(const ApiError& e, std::string_view path) {
  if (path == "/api" || path.starts_with("/api/")) return {{"error", e.what()}};
  return error_json(e);
}

}  // namespace ug::server
