// The text-output subset of the OpenAI Realtime protocol as data: the session's settings, how a
// session.update changes them, and the JSON shapes of sessions, items and responses. No state
// and no transport here (realtime_session.h holds the conversation, realtime_route.cpp the
// WebSocket).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "media/energy_vad.h"

namespace ug::server {

struct RealtimeSettings {
  std::string instructions;  // the system turn ("" = none)
  bool turn_detection = true;
  VadOptions vad;
  int prefix_padding_ms = 300;        // audio kept from before the speech started
  bool create_response = true;        // a VAD commit also starts a response
  bool interrupt_response = true;     // speech cancels the response being generated
  int input_rate = 24000;             // PCM16 mono sample rate of input_audio_buffer.append
  std::optional<double> temperature;  // unset: the model file's default
  int max_output_tokens = 0;          // 0 ("inf"): the server's default limit
};

// Applies a session.update's `session` object; fields not given keep their value. Accepts the
// GA shape (audio.input.format {type "audio/pcm", rate}, audio.input.turn_detection,
// output_modalities, max_output_tokens) and the beta one (input_audio_format "pcm16",
// turn_detection, modalities, max_response_output_tokens, plus input_audio_sample_rate).
// Throws ApiError naming the field for anything this server cannot do.
void apply_session_update(const nlohmann::json& session, RealtimeSettings& s,
                          int max_output_tokens);

nlohmann::json session_json(const RealtimeSettings& s, const std::string& id,
                            const std::string& model);

// A conversation item as the protocol shows it: a user turn of audio or text, a system turn, or
// the assistant's answer.
struct RealtimeItem {
  std::string id, role;  // user, system, assistant
  bool audio = false;
  std::string text;
  std::string status = "completed";
};
nlohmann::json item_json(const RealtimeItem& item);

// "evt_…", "item_…", "resp_…", "sess_…".
std::string realtime_id(const char* prefix);

}  // namespace ug::server
