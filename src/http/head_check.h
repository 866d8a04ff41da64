// Internal to src/http: what the server decides from a request's head alone, before reading its
// body: framing (Content-Length / Transfer-Encoding), encoding, target, Host, Origin, CORS
// preflight, route, content type. Pure: no I/O, so it is tested without sockets.
#pragma once

#include <string>

#include "http/message.h"
#include "http/options.h"
#include "http/policy.h"
#include "http/router.h"

namespace ug::http {

struct HeadCheck {
  int status = 0;          // 0: go on and read the body; else answer with it
  std::string message;     // for the error body
  bool close = false;      // a broken request: the connection closes after the answer
  bool preflight = false;  // a CORS preflight: answer 204 with `headers`
  Router::Match match;
  Headers headers;  // to add to the answer (CORS, Allow)
};

// Fills req.path and req.query from req.target. `has_body`: Content-Length > 0 or chunked.
// `overflow`: the connection is over the cap (only I/O-thread routes are served).
HeadCheck check_head(Request& req, bool has_body, const Router& router,
                     const SecurityPolicy& policy, const HttpOptions& options, bool overflow);

}  // namespace ug::http
