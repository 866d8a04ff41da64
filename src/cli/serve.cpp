// `unigemma serve -m MODEL`: the HTTP server (OpenAI and Ollama APIs, web chat page).
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <thread>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "http/policy.h"
#include "server/server.h"

namespace ug::cli {

namespace {

struct ServeOptions {
  ModelOptions model;
  server::ServerOptions server;
  EngineOptions engine;
  size_t max_body_mb = 20;
  std::vector<std::string> aliases;
  std::string pooling = "mean";
  size_t realtime_message_mb = 16;
};

void serve(ServeOptions& o) {
  o.server.max_body_bytes = o.max_body_mb << 20;
  if (!o.aliases.empty()) o.server.model_name = o.aliases.front();
  o.server.model_aliases = o.aliases;
  o.server.pooling = parse_pooling(o.pooling);
  o.server.realtime_max_message_bytes = o.realtime_message_mb << 20;
  o.engine.n_ctx = o.model.ctx_size;
  o.engine.threads = o.model.threads;
  // Every stream holds a request handler: one for each slot and queued request, and some more.
  if (o.server.http_threads <= 0)
    o.server.http_threads = o.engine.parallel + o.engine.max_queue + 8;
  // SIGINT/SIGTERM go to a thread of ours (sigwait), not to a handler: stopping takes locks. The
  // mask is set before any thread starts, so every thread inherits it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::Server srv(o.server);
  const int port = srv.start();
  std::fprintf(stderr,
               "listening on http://%s:%d (/health answers 503 until the model is loaded)\n",
               o.server.host.c_str(), port);
  if (!http::is_loopback_host(o.server.host) && o.server.api_key.empty())
    std::fprintf(stderr, "warning: listening on %s without --api-key\n", o.server.host.c_str());
  std::atomic<bool> loaded{false};
  // Declared after srv: it ends (and is joined) first, also when loading the model throws.
  std::jthread stopper([&](std::stop_token st) {
    const timespec tick{0, 200'000'000};
    int sig = 0;
    while (sig <= 0 && !st.stop_requested()) sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig <= 0) return;
    std::fprintf(stderr, "stopping: running requests get up to %g s to end\n",
                 o.server.shutdown_timeout);
    // A forward pass cannot be interrupted, so the deadline is enforced here: at the timeout,
    // or at a second signal, the process ends whatever still runs.
    std::thread([signals, timeout = o.server.shutdown_timeout] {
      const timespec t{static_cast<time_t>(timeout),
                       static_cast<long>((timeout - static_cast<time_t>(timeout)) * 1e9)};
      const bool again = sigtimedwait(&signals, nullptr, &t) > 0;
      std::fprintf(stderr, "%s: exiting now\n", again ? "second signal" : "shutdown timeout");
      std::_Exit(0);
    }).detach();
    srv.stop();
    if (!loaded) std::_Exit(0);  // stopped while the model was loading: nothing else to end
  });
  LoadedModel m = o.model.load();
  srv.set_model(std::move(m), o.engine, o.model.model);
  loaded = true;
  std::fprintf(stderr, "ready: %d slot(s) of %lld tokens; open http://%s:%d/ for the chat page\n",
               o.engine.parallel, static_cast<long long>(o.engine.n_ctx), o.server.host.c_str(),
               port);
  srv.wait();
  std::fprintf(stderr, "stopped\n");
}

}  // namespace

void register_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "HTTP server: OpenAI and Ollama APIs, web chat page");
  static ServeOptions o;
  o.model.add_to(cmd);
  cmd->add_option("--host", o.server.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", o.server.port, "port (0: any free port)")->capture_default_str();
  cmd->add_option("--parallel", o.engine.parallel, "requests computed together (slots)")
      ->capture_default_str();
  cmd->add_option("--queue", o.engine.max_queue, "requests that may wait for a slot; more get 503")
      ->capture_default_str();
  cmd->add_option("--cache-rollback", o.engine.rollback,
                  "tokens a slot can cut back for prefix reuse (sliding-window margin)")
      ->capture_default_str();
  cmd->add_option("--draft-n", o.engine.draft_max,
                  "with --assistant: draft tokens per step at most (adapted to the acceptance; "
                  "0: no speculative decoding)")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
  cmd->add_option("--api-key", o.server.api_key, "require Authorization: Bearer KEY");
  cmd->add_flag("--allow-remote-media", o.server.allow_remote_media,
                "let requests name http(s) media URLs for the server to fetch");
  cmd->add_option("--max-body-mb", o.max_body_mb, "largest request body in MiB (413 above)")
      ->capture_default_str();
  cmd->add_option("--max-tokens", o.server.max_output_tokens,
                  "largest max_tokens a request may ask")
      ->capture_default_str();
  cmd->add_option("--default-max-tokens", o.server.default_max_tokens,
                  "output limit of a request that names none")
      ->capture_default_str();
  cmd->add_option("--max-image-pixels", o.server.media.max_pixels,
                  "images with more pixels are refused before decoding")
      ->capture_default_str();
  cmd->add_option("--max-audio-seconds", o.server.media.max_audio_seconds,
                  "longer audio is refused")
      ->capture_default_str();
  cmd->add_option("--alias", o.aliases,
                  "model name shown by /v1/models and /api/tags (repeatable: later ones are "
                  "accepted too; the file name always is)");
  cmd->add_option("--pooling", o.pooling,
                  "embeddings: mean, last, cls or none (per token) over the final hidden states")
      ->check(CLI::IsMember({"mean", "last", "cls", "none"}))
      ->capture_default_str();
  cmd->add_option("--allowed-host", o.server.allowed_hosts,
                  "Host header name to answer besides localhost/127.0.0.1/[::1] (repeatable; "
                  "'*': any, e.g. behind a proxy)");
  cmd->add_option("--cors-origin", o.server.cors_origins,
                  "browser origin allowed to call the API from its pages, e.g. "
                  "https://app.example (repeatable; '*': any)");
  cmd->add_option("--max-connections", o.server.max_connections,
                  "open connections served at once; more get 503 (/health still answers)")
      ->capture_default_str();
  cmd->add_option("--shutdown-timeout", o.server.shutdown_timeout,
                  "seconds running requests get to end after SIGTERM/SIGINT")
      ->capture_default_str();
  cmd->add_option("--header-timeout", o.server.header_timeout,
                  "seconds a client has to send a request's header (and for its body to start)")
      ->capture_default_str();
  cmd->add_option("--keep-alive-timeout", o.server.keep_alive_timeout,
                  "seconds an idle connection stays open")
      ->capture_default_str();
  cmd->add_option("--write-timeout", o.server.write_timeout,
                  "seconds a client may stop reading an answer before it is dropped")
      ->capture_default_str();
  cmd->add_option("--realtime-max-audio", o.server.realtime_max_audio_seconds,
                  "/v1/realtime: seconds of audio one session may send")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  cmd->add_option("--realtime-max-buffer", o.server.realtime_max_buffer_seconds,
                  "/v1/realtime: seconds of audio in one uncommitted input buffer")
      ->check(CLI::Range(1.0, 1e5))
      ->capture_default_str();
  cmd->add_option("--realtime-idle-timeout", o.server.realtime_idle_seconds,
                  "/v1/realtime: seconds without a client event before a session is closed")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  cmd->add_option("--realtime-max-message-mb", o.realtime_message_mb,
                  "/v1/realtime: largest WebSocket message in MiB (larger closes the connection)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--realtime-chunk", o.server.realtime_chunk_seconds,
                  "/v1/realtime: seconds of audio gathered per live prefill append")
      ->check(CLI::Range(0.04, 10.0))
      ->capture_default_str();
  cmd->callback([] { serve(o); });
}

}  // namespace ug::cli
