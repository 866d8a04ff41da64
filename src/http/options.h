// Everything the HTTP layer can be told: where to listen, how many threads, and the limits and
// timeouts that keep one client (or many) from taking the service down.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace ug::http {

using Millis = std::chrono::milliseconds;

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  int backlog = 1024;

  // Threads: I/O threads only move bytes; handlers run on the workers. A request that finds
  // every worker busy and `worker_queue` requests waiting gets 503 with Retry-After.
  int io_threads = 2;
  int worker_threads = 16;
  int worker_queue = 64;

  // Connections: up to `max_connections` are served; `overflow_connections` more are still read,
  // so that /health (an I/O-thread route) keeps answering and others get a quick 503; beyond
  // both, new connections are closed at once.
  int max_connections = 256;
  int overflow_connections = 64;

  // Request size.
  size_t max_header_bytes = 16 * 1024;  // request line + fields
  size_t max_header_count = 100;
  size_t max_body_bytes = 20u << 20;  // Content-Length and chunked alike; 413 above

  // Timeouts. The whole header must arrive within header_timeout (from the connection's start,
  // or from the first byte of a keep-alive request), not per byte. The body gets body_timeout
  // plus the time its bytes need at min_body_rate (an average rate, so a trickle fails). A
  // keep-alive connection with no new request for idle_timeout is closed. A client that stops
  // reading a response for write_timeout is dropped.
  Millis header_timeout{10000};
  Millis body_timeout{10000};
  size_t min_body_rate = 64 * 1024;  // bytes per second
  Millis idle_timeout{5000};
  Millis write_timeout{30000};
  Millis linger_timeout{2000};  // reading (and dropping) an unread body after an error

  size_t stream_buffer_bytes = 1u << 20;  // unsent bytes per streamed response before write() waits

  // WebSocket.
  size_t ws_max_message_bytes = 16u << 20;
  size_t ws_send_queue_bytes = 4u << 20;  // send_text beyond this fails (client not reading)
  Millis ws_idle_timeout{60000};          // pings after half of it; closed when nothing comes back

  // Security policy (see http/policy.h).
  std::vector<std::string> allowed_hosts;  // Host names allowed besides the defaults; "*": any
  std::vector<std::string> cors_origins;   // origins allowed to call cross-site; "*": any
};

}  // namespace ug::http
