#include "server/realtime_protocol.h"

#include <random>

#include "server/api_error.h"

namespace ug::server {

using nlohmann::json;

namespace {

const json* field(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

double need_number(const json& v, const std::string& name, double lo, double hi) {
  if (!v.is_number() || !(v.get<double>() >= lo && v.get<double>() <= hi))
    bad_request(name + " must be a number in " + std::to_string(lo) + ".." + std::to_string(hi),
                name);
  return v.get<double>();
}

int need_int(const json& v, const std::string& name, int lo, int hi) {
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
    bad_request(name + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi),
                name);
  return static_cast<int>(v.get<int64_t>());
}

bool need_bool(const json& v, const std::string& name) {
  if (!v.is_boolean()) bad_request(name + " must be true or false", name);
  return v.get<bool>();
}

void apply_turn_detection(const json& td, const std::string& name, RealtimeSettings& s) {
  if (td.is_null()) {
    s.turn_detection = false;
    return;
  }
  if (!td.is_object()) bad_request(name + " must be an object or null", name);
  if (const json* t = field(td, "type")) {
    if (!t->is_string()) bad_request(name + ".type must be a string", name + ".type");
    if (*t != "server_vad")
      bad_request(name + ".type '" + t->get<std::string>() +
                      "' is not supported; this server has energy-based \"server_vad\"",
                  name + ".type");
  }
  RealtimeSettings n = s;
  n.turn_detection = true;
  if (const json* v = field(td, "threshold"))
    n.vad.threshold = need_number(*v, name + ".threshold", 0, 1);
  if (const json* v = field(td, "silence_duration_ms"))
    n.vad.silence_ms = need_int(*v, name + ".silence_duration_ms", 20, 60000);
  if (const json* v = field(td, "prefix_padding_ms"))
    n.prefix_padding_ms = need_int(*v, name + ".prefix_padding_ms", 0, 10000);
  if (const json* v = field(td, "create_response"))
    n.create_response = need_bool(*v, name + ".create_response");
  if (const json* v = field(td, "interrupt_response"))
    n.interrupt_response = need_bool(*v, name + ".interrupt_response");
  s = n;
}

void check_modalities(const json& m, const std::string& name) {
  if (!m.is_array()) bad_request(name + " must be an array", name);
  for (const json& x : m)
    if (x == "text") return;
  bad_request(name + " must include \"text\": this server answers in text only", name);
}

int parse_max_tokens(const json& v, const std::string& name, int cap) {
  if (v == "inf") return 0;
  return need_int(v, name, 1, cap);
}

}  // namespace

void apply_session_update(const json& session, RealtimeSettings& out, int cap) {
  if (!session.is_object()) bad_request("session must be an object", "session");
  RealtimeSettings s = out;  // all or nothing
  if (const json* v = field(session, "type"))
    if (*v != "realtime")
      bad_request("session.type must be \"realtime\" (transcription sessions are not supported)",
                  "session.type");
  if (const json* v = field(session, "instructions")) {
    if (!v->is_string())
      bad_request("session.instructions must be a string", "session.instructions");
    s.instructions = v->get<std::string>();
  }
  if (const json* v = field(session, "modalities")) check_modalities(*v, "session.modalities");
  if (const json* v = field(session, "output_modalities"))
    check_modalities(*v, "session.output_modalities");
  if (const json* v = field(session, "temperature"))
    s.temperature = need_number(*v, "session.temperature", 0, 2);
  for (const char* key : {"max_output_tokens", "max_response_output_tokens"})
    if (const json* v = field(session, key))
      s.max_output_tokens = parse_max_tokens(*v, std::string("session.") + key, cap);
  if (const json* v = field(session, "turn_detection"))
    apply_turn_detection(*v, "session.turn_detection", s);
  if (const json* v = field(session, "input_audio_format")) {
    if (*v != "pcm16")
      bad_request("session.input_audio_format must be \"pcm16\" (16-bit little-endian mono)",
                  "session.input_audio_format");
  }
  if (const json* v = field(session, "input_audio_sample_rate"))
    s.input_rate = need_int(*v, "session.input_audio_sample_rate", 8000, 192000);
  if (const json* audio = field(session, "audio")) {
    if (!audio->is_object()) bad_request("session.audio must be an object", "session.audio");
    if (const json* in = field(*audio, "input")) {
      if (!in->is_object())
        bad_request("session.audio.input must be an object", "session.audio.input");
      if (const json* f = field(*in, "format")) {
        const std::string name = "session.audio.input.format";
        if (!f->is_object()) bad_request(name + " must be an object", name);
        if (const json* t = field(*f, "type"))
          if (*t != "audio/pcm")
            bad_request(name + ".type must be \"audio/pcm\" (16-bit little-endian mono)",
                        name + ".type");
        if (const json* r = field(*f, "rate"))
          s.input_rate = need_int(*r, name + ".rate", 8000, 192000);
      }
      if (const json* td = field(*in, "turn_detection"))
        apply_turn_detection(*td, "session.audio.input.turn_detection", s);
    }
  }
  out = s;
}

json session_json(const RealtimeSettings& s, const std::string& id, const std::string& model) {
  json td = nullptr;
  if (s.turn_detection)
    td = {{"type", "server_vad"},
          {"threshold", s.vad.threshold},
          {"prefix_padding_ms", s.prefix_padding_ms},
          {"silence_duration_ms", s.vad.silence_ms},
          {"create_response", s.create_response},
          {"interrupt_response", s.interrupt_response}};
  json max = s.max_output_tokens > 0 ? json(s.max_output_tokens) : json("inf");
  return {
      {"id", id},
      {"object", "realtime.session"},
      {"type", "realtime"},
      {"model", model},
      {"output_modalities", {"text"}},
      {"modalities", {"text"}},
      {"instructions", s.instructions},
      {"audio",
       {{"input",
         {{"format", {{"type", "audio/pcm"}, {"rate", s.input_rate}}}, {"turn_detection", td}}}}},
      {"input_audio_format", "pcm16"},
      {"input_audio_sample_rate", s.input_rate},
      {"turn_detection", td},
      {"temperature", s.temperature ? json(*s.temperature) : json(nullptr)},
      {"max_output_tokens", max},
      {"max_response_output_tokens", max}};
}

json item_json(const RealtimeItem& it) {
  json content = json::array();
  if (it.audio)
    content.push_back({{"type", "input_audio"}, {"transcript", nullptr}});
  else if (it.role == "assistant")
    content.push_back({{"type", "output_text"}, {"text", it.text}});
  else
    content.push_back({{"type", "input_text"}, {"text", it.text}});
  return {{"id", it.id},         {"object", "realtime.item"}, {"type", "message"},
          {"status", it.status}, {"role", it.role},           {"content", content}};
}

std::string realtime_id(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kChars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string s = prefix;
  for (int i = 0; i < 20; ++i) s += kChars[rng() % 62];
  return s;
}

}  // namespace ug::server
