// `unigemma serve -m MODEL`: the HTTP server (OpenAI and Ollama APIs, web chat page).
#include <csignal>
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "server/server.h"

namespace ug::cli {

namespace {

struct ServeOptions {
  ModelOptions model;
  server::ServerOptions server;
  EngineOptions engine;
  size_t max_body_mb = 20;
};

server::Server* g_server = nullptr;

void on_signal(int) {
  if (g_server) g_server->stop();  // the listen loop ends; serve() returns and the engine stops
}

void serve(ServeOptions& o) {
  o.server.max_body_bytes = o.max_body_mb << 20;
  o.engine.n_ctx = o.model.ctx_size;
  o.engine.threads = o.model.threads;
  server::Server srv(o.server);
  const int port = srv.start();
  std::fprintf(stderr,
               "listening on http://%s:%d (/health answers 503 until the model is loaded)\n",
               o.server.host.c_str(), port);
  if (o.server.host != "127.0.0.1" && o.server.host != "localhost" && o.server.host != "::1" &&
      o.server.api_key.empty())
    std::fprintf(stderr, "warning: listening on %s without --api-key\n", o.server.host.c_str());
  g_server = &srv;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  LoadedModel m = o.model.load();
  srv.set_model(std::move(m), o.engine, o.model.model);
  std::fprintf(stderr, "ready: %d slot(s) of %lld tokens; open http://%s:%d/ for the chat page\n",
               o.engine.parallel, static_cast<long long>(o.engine.n_ctx), o.server.host.c_str(),
               port);
  srv.wait();
  g_server = nullptr;
  std::fprintf(stderr, "stopping\n");
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
  cmd->add_option("--alias", o.server.model_name, "model name shown by /v1/models and /api/tags");
  cmd->callback([] { serve(o); });
}

}  // namespace ug::cli
