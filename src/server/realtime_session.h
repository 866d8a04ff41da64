// One /v1/realtime conversation, apart from its transport: client events in (JSON text), server
// events out through `send`. Audio appended to the input buffer is decoded, resampled to 16 kHz,
// turned into prompt rows and handed to an open engine request (EngineRequest::open_prompt) in
// chunks of realtime_chunk_seconds while the person speaks, so that on commit only the tail
// and the turn's closing tokens remain to prefill. The streamed prompt is row for row the one
// /v1/chat/completions builds for the same conversation with the clip whole.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "media/energy_vad.h"
#include "media/pcm_stream.h"
#include "runtime/live_audio.h"
#include "server/realtime_protocol.h"
#include "server/server_state.h"
#include "text/output_parser.h"

namespace ug::server {

class RealtimeSession {
 public:
  // send: one server event (JSON text), from any thread; false when it could not be queued.
  // close: ends the connection (idle sessions).
  using Send = std::function<bool(std::string)>;
  using Close = std::function<void()>;

  RealtimeSession(std::shared_ptr<Backend> backend, const ServerOptions& options, Send send,
                  Close close);
  ~RealtimeSession();  // as end()
  RealtimeSession(const RealtimeSession&) = delete;
  RealtimeSession& operator=(const RealtimeSession&) = delete;

  // Sends session.created and starts the thread that streams answers and watches idle time.
  void open();
  // One client event. Protocol errors become `error` events; nothing here throws.
  void on_message(const std::string& text);
  // The client is gone: cancels the live and the answering engine requests, stops the thread.
  void end();

  // For tests and metrics: whether an engine request is prefilling the input buffer now.
  bool live_request_open() const;
  int64_t live_rows() const;

 private:
  struct Item {
    RealtimeItem info;
    Prompt rows;  // audio items: <|audio> ... <audio|>
  };
  struct Response {
    std::string id, item_id;
    std::shared_ptr<RequestHandle> handle;
    StreamingOutputParser parser;
    std::string text;
  };

  // All under mu_.
  void handle(const nlohmann::json& event);
  void session_update(const nlohmann::json& event);
  void append(const nlohmann::json& event);
  void append_samples(const float* pcm, size_t n);
  void speech_started(uint64_t sample);
  void feed_buffer(const float* pcm, size_t n);
  void commit(bool by_vad);
  void clear_buffer();
  void item_create(const nlohmann::json& event);
  void response_create(const nlohmann::json& event);
  void response_cancel(const nlohmann::json& event);
  void start_live();
  void drop_live();
  void add_item(Item item);
  Prompt conversation_prompt(const std::string& instructions, bool trailing_audio) const;
  GenParams params(const RealtimeSettings& s) const;
  void pump();  // the thread
  bool pump_once();
  void emit(nlohmann::json event);
  void error(const std::string& message, const std::string& type, const std::string& code,
             const std::string& param = {});

  std::shared_ptr<Backend> b_;
  ServerOptions opt_;
  Send send_;
  Close close_;
  std::string session_id_;

  mutable std::mutex mu_;
  RealtimeSettings settings_;
  std::vector<Item> items_;
  std::string event_id_;  // of the client event being handled (for error events)

  // The input buffer.
  std::unique_ptr<Pcm16Stream> decoder_;
  std::unique_ptr<LiveAudioRows> audio_;  // the clip once it has begun (VAD: speech started)
  Prompt audio_rows_;                     // rows taken from audio_ so far
  std::vector<float> preroll_;            // VAD, before speech: the last prefix_padding_ms
  std::string buffer_item_id_;
  uint64_t stream_samples_ = 0;  // 16 kHz samples received in this session (audio_*_ms)
  std::optional<EnergyVad> vad_;
  double session_audio_seconds_ = 0;

  // The open engine request that prefills the buffer as it grows, and the rows given to it.
  std::shared_ptr<RequestHandle> live_;
  Prompt live_prompt_;
  std::string live_key_;     // the sampling settings it was submitted with
  bool live_tried_ = false;  // this buffer already tried to open one (the engine was busy)

  std::optional<Response> response_;

  std::chrono::steady_clock::time_point last_event_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ug::server
