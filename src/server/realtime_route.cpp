// GET /v1/realtime: the WebSocket transport of a RealtimeSession (realtime_session.h).
#include "server/realtime_session.h"

namespace ug::server {

namespace {

class RealtimeHandler : public http::WebSocketHandler {
 public:
  explicit RealtimeHandler(Server::State& s) : s_(s) {}

  void on_open(std::shared_ptr<http::WebSocket> ws) override {
    std::weak_ptr<http::WebSocket> weak = ws;
    auto b = s_.backend();
    if (!b) {
      json e = {{"type", "error"},
                {"event_id", realtime_id("event_")},
                {"error",
                 {{"type", "unavailable_error"},
                  {"code", "model_loading"},
                  {"message", "the model is still loading"},
                  {"param", nullptr},
                  {"event_id", nullptr}}}};
      ws->send_text(dump(e));
      ws->close(1013, "model loading");
      return;
    }
    session_ = std::make_unique<RealtimeSession>(
        b, s_.opt,
        [weak](std::string text) {
          auto w = weak.lock();
          return w && w->send_text(std::move(text));
        },
        [weak] {
          if (auto w = weak.lock()) w->close(1000, "idle");
        });
    session_->open();
  }

  void on_text(std::string message) override {
    if (session_) session_->on_message(message);
  }

  // A client that goes away mid-utterance frees its engine requests here.
  void on_close() override {
    if (session_) session_->end();
  }

 private:
  Server::State& s_;
  std::unique_ptr<RealtimeSession> session_;
};

}  // namespace

void add_realtime_route(Server::State& s) {
  s.web->routes().websocket(
      "/v1/realtime", [&s](const http::Request&) { return std::make_unique<RealtimeHandler>(s); });
}

}  // namespace ug::server
