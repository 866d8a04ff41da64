// The HTTP server: OpenAI-compatible (/v1/...), Ollama-compatible (/api/...) and llama-server
// style (/tokenize, /detokenize, /health, /metrics) routes over one continuous-batching Engine,
// plus the embedded web chat page at /.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/embedder.h"
#include "runtime/engine.h"
#include "runtime/model_loader.h"
#include "runtime/multimodal.h"

namespace ug::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port (see Server::port)
  std::string api_key;                // empty: no authentication
  bool allow_remote_media = false;    // http(s) media URLs; off, no request reaches the network
  size_t max_body_bytes = 20u << 20;  // larger bodies get 413
  int max_output_tokens = 4096;       // cap on max_tokens / num_predict
  int default_max_tokens = 1024;      // when a request names no limit
  int http_threads = 0;               // request handlers at once (streams hold one); 0: 64
  int64_t remote_media_max_bytes = 50u << 20;
  MediaOptions media;                      // max_pixels, max_audio_seconds, image tokens, ...
  std::string model_name;                  // shown by /v1/models; default: the file name
  std::vector<std::string> model_aliases;  // more names requests may use (--alias, repeatable)
  Pooling pooling = Pooling::kMean;        // embeddings: how token rows become one vector

  // The HTTP layer (see src/http/server.h and docs/SERVER.md).
  std::vector<std::string> allowed_hosts;  // Host names besides loopback (--allowed-host; "*": any)
  std::vector<std::string> cors_origins;   // browser origins allowed cross-site (--cors-origin)
  int max_connections = 256;               // more get 503 (/health still answers)
  double header_timeout = 10;              // seconds for a request's whole header
  double keep_alive_timeout = 5;           // seconds an idle connection stays open
  double write_timeout = 30;               // seconds a client may stop reading an answer
  double shutdown_timeout = 10;            // stop(): seconds running requests get to end

  // /v1/realtime (live audio over a WebSocket; docs/SERVER.md).
  double realtime_max_audio_seconds = 1800;  // audio one session may send in all
  double realtime_max_buffer_seconds = 300;  // one uncommitted input buffer
  double realtime_idle_seconds = 600;        // a session with no client event this long is closed
  double realtime_chunk_seconds = 0.5;       // live prefill: audio gathered per engine append
  size_t realtime_max_message_bytes = 16u << 20;  // one client event (larger: the socket closes)
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stops listening and the engine
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and serves on a background thread; /health answers 503 until set_model. Returns the
  // bound port. Throws ug::Error when the address cannot be bound.
  int start();
  // Attaches the model and starts its engine; the routes that need the model work from then on.
  void set_model(LoadedModel model, EngineOptions engine_options, const std::string& path = {});
  // Stops accepting, ends running generations with a final event (finish_reason "shutdown"),
  // waits up to shutdown_timeout for their streams to go out, then closes every connection.
  // Idempotent; from any thread but a request handler.
  void stop();
  void wait();  // until stop() has finished
  int port() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace ug::server
