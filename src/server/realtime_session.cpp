#include "server/realtime_session.h"

#include <algorithm>

#include "base/error.h"
#include "server/base64.h"

namespace ug::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRate = 16000;

const json* field(const json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

std::string need_string(const json& o, const char* key, const std::string& name) {
  const json* v = field(o, key);
  if (!v || !v->is_string()) bad_request(name + " must be a string", name);
  return v->get<std::string>();
}

// Rows a..: `prefix` is the start of `full`, soft embeddings included.
bool is_prefix(const Prompt& prefix, const Prompt& full) {
  if (prefix.size() > full.size()) return false;
  if (!std::equal(prefix.tokens.begin(), prefix.tokens.end(), full.tokens.begin())) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    static const std::vector<float> kNone;
    const auto& a = i < prefix.soft.size() ? prefix.soft[i] : kNone;
    const auto& b = i < full.soft.size() ? full.soft[i] : kNone;
    if (a != b) return false;
  }
  return true;
}

int64_t ms(uint64_t samples) { return static_cast<int64_t>(samples / (kRate / 1000)); }

}  // namespace

RealtimeSession::RealtimeSession(std::shared_ptr<Backend> backend, const ServerOptions& options,
                                 Send send, Close close)
    : b_(std::move(backend)), opt_(options), send_(std::move(send)), close_(std::move(close)) {
  session_id_ = realtime_id("sess_");
  settings_.vad = VadOptions{};
  vad_.emplace(settings_.vad);
  last_event_ = Clock::now();
}

RealtimeSession::~RealtimeSession() { end(); }

void RealtimeSession::open() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    emit(
        {{"type", "session.created"}, {"session", session_json(settings_, session_id_, b_->name)}});
  }
  thread_ = std::thread([this] { pump(); });
}

void RealtimeSession::end() {
  stop_ = true;
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  drop_live();
  if (response_) response_->handle->cancel();
  response_.reset();
}

bool RealtimeSession::live_request_open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_ != nullptr;
}

int64_t RealtimeSession::live_rows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_ ? static_cast<int64_t>(live_prompt_.size()) : 0;
}

void RealtimeSession::emit(json event) {
  event["event_id"] = realtime_id("event_");
  send_(dump(event));
}

void RealtimeSession::error(const std::string& message, const std::string& type,
                            const std::string& code, const std::string& param) {
  emit({{"type", "error"},
        {"error",
         {{"type", type},
          {"code", code.empty() ? json(nullptr) : json(code)},
          {"message", message},
          {"param", param.empty() ? json(nullptr) : json(param)},
          {"event_id", event_id_.empty() ? json(nullptr) : json(event_id_)}}}});
}

void RealtimeSession::on_message(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  last_event_ = Clock::now();
  event_id_.clear();
  json event = json::parse(text, nullptr, false);
  if (event.is_discarded() || !event.is_object()) {
    error("the event is not a JSON object", "invalid_request_error", "invalid_json");
    return;
  }
  if (const json* id = field(event, "event_id"))
    if (id->is_string()) event_id_ = id->get<std::string>();
  try {
    handle(event);
  } catch (const ApiError& e) {
    error(e.what(), e.type, e.code.empty() ? "invalid_value" : e.code, e.param);
  } catch (const Error& e) {
    error(e.what(), "invalid_request_error", "invalid_value");
  } catch (const std::exception& e) {
    error(e.what(), "server_error", "server_error");
  }
}

void RealtimeSession::handle(const json& event) {
  const json* type = field(event, "type");
  if (!type || !type->is_string())
    throw ApiError(400, "the event has no \"type\"", "type", "invalid_request_error",
                   "missing_type");
  const std::string t = type->get<std::string>();
  if (t == "session.update") return session_update(event);
  if (t == "input_audio_buffer.append") return append(event);
  if (t == "input_audio_buffer.commit") return commit(false);
  if (t == "input_audio_buffer.clear") return clear_buffer();
  if (t == "conversation.item.create") return item_create(event);
  if (t == "response.create") return response_create(event);
  if (t == "response.cancel") return response_cancel(event);
  throw ApiError(400, "unknown event type '" + t + "'", "type", "invalid_request_error",
                 "unknown_event_type");
}

// ---------------------------------------------------------------------------------------------
// Settings

void RealtimeSession::session_update(const json& event) {
  const json* s = field(event, "session");
  if (!s) bad_request("session.update needs a \"session\" object", "session");
  RealtimeSettings next = settings_;
  apply_session_update(*s, next, opt_.max_output_tokens);
  const bool buffering = audio_ || (decoder_ && decoder_->frames_in() > 0);
  if (next.input_rate != settings_.input_rate && buffering)
    bad_request(
        "the input sample rate cannot change while the audio buffer holds audio "
        "(commit or clear it first)",
        "session.audio.input.format.rate");
  if (next.input_rate != settings_.input_rate) decoder_.reset();
  const bool vad_changed = next.turn_detection != settings_.turn_detection ||
                           next.vad.threshold != settings_.vad.threshold ||
                           next.vad.silence_ms != settings_.vad.silence_ms;
  settings_ = next;
  if (vad_changed) {
    vad_.emplace(settings_.vad);
    preroll_.clear();
  }
  emit({{"type", "session.updated"}, {"session", session_json(settings_, session_id_, b_->name)}});
}

GenParams RealtimeSession::params(const RealtimeSettings& s) const {
  // The chat completions parser gives the same defaults and limits as /v1/chat/completions.
  json body = json::object();
  if (s.temperature) body["temperature"] = *s.temperature;
  if (s.max_output_tokens > 0) body["max_tokens"] = s.max_output_tokens;
  return parse_openai_params(body, *b_, opt_);
}

// ---------------------------------------------------------------------------------------------
// The input buffer

void RealtimeSession::append(const json& event) {
  const std::string b64 = need_string(event, "audio", "audio");
  std::optional<std::vector<uint8_t>> bytes = base64_decode(b64);
  if (!bytes)
    throw ApiError(400, "audio is not valid base64", "audio", "invalid_request_error",
                   "invalid_base64");
  if (bytes->size() % 2 != 0)
    throw ApiError(
        400,
        "audio has " + std::to_string(bytes->size()) + " bytes; 16-bit PCM needs an even number",
        "audio", "invalid_request_error", "invalid_audio_length");
  const double seconds = static_cast<double>(bytes->size() / 2) / settings_.input_rate;
  const double buffered = audio_ ? audio_->seconds() : 0.0;
  if (buffered + seconds > opt_.realtime_max_buffer_seconds)
    throw ApiError(400,
                   "the input audio buffer would exceed the server's limit of " +
                       std::to_string(opt_.realtime_max_buffer_seconds) + " s; commit or clear it",
                   "audio", "invalid_request_error", "input_audio_buffer_full");
  if (session_audio_seconds_ + seconds > opt_.realtime_max_audio_seconds)
    throw ApiError(400,
                   "this session has sent the server's limit of " +
                       std::to_string(opt_.realtime_max_audio_seconds) +
                       " s of audio; open a new session",
                   "audio", "invalid_request_error", "session_audio_limit");
  session_audio_seconds_ += seconds;
  if (!decoder_) decoder_ = std::make_unique<Pcm16Stream>(settings_.input_rate, 1, "input audio");
  std::vector<float> pcm;
  decoder_->push(bytes->data(), bytes->size(), pcm);
  append_samples(pcm.data(), pcm.size());
}

// Without turn detection everything goes into the buffer. With it, audio before speech only
// keeps the last prefix_padding_ms; speech starts the buffer and its end commits it.
void RealtimeSession::append_samples(const float* pcm, size_t n) {
  const uint64_t base = stream_samples_;
  stream_samples_ += n;
  if (!settings_.turn_detection) return feed_buffer(pcm, n);
  const uint64_t vad_end = vad_->position() + n;
  std::vector<EnergyVad::Event> events = vad_->push(pcm, n);
  size_t cur = 0;
  auto take_until = [&](size_t idx, bool speaking) {
    if (idx <= cur) return;
    if (speaking) {
      feed_buffer(pcm + cur, idx - cur);
    } else {
      preroll_.insert(preroll_.end(), pcm + cur, pcm + idx);
      const size_t keep = static_cast<size_t>(settings_.prefix_padding_ms) * (kRate / 1000);
      if (preroll_.size() > keep) preroll_.erase(preroll_.begin(), preroll_.end() - keep);
    }
    cur = idx;
  };
  bool speaking = audio_ != nullptr;
  for (const EnergyVad::Event& e : events) {
    const size_t idx = n - static_cast<size_t>(vad_end - e.sample);
    take_until(idx, speaking);
    if (e.start) {
      speech_started(base + idx);
      speaking = true;
    } else {
      emit({{"type", "input_audio_buffer.speech_stopped"},
            {"audio_end_ms", ms(base + idx)},
            {"item_id", buffer_item_id_}});
      commit(true);
      speaking = false;
    }
  }
  take_until(n, speaking);
}

void RealtimeSession::speech_started(uint64_t sample) {
  buffer_item_id_ = realtime_id("item_");
  emit({{"type", "input_audio_buffer.speech_started"},
        {"audio_start_ms", ms(sample - std::min<uint64_t>(sample, preroll_.size()))},
        {"item_id", buffer_item_id_}});
  if (response_ && settings_.interrupt_response) response_->handle->cancel();
  std::vector<float> pre;
  pre.swap(preroll_);
  feed_buffer(pre.data(), pre.size());
}

void RealtimeSession::feed_buffer(const float* pcm, size_t n) {
  if (!audio_) {
    audio_ = std::make_unique<LiveAudioRows>(*b_->model.weights, opt_.media.audio_block_seconds);
    if (buffer_item_id_.empty()) buffer_item_id_ = realtime_id("item_");
  }
  audio_->push(pcm, n);
  const size_t chunk = static_cast<size_t>(std::max(0.04, opt_.realtime_chunk_seconds) * kRate);
  if (audio_->frames_ready() * static_cast<size_t>(b_->model.weights->config.audio_frame) < chunk)
    return;
  Prompt rows;
  {
    std::lock_guard<std::mutex> lock(b_->media_mu);
    rows = audio_->take(*b_->media_pool);
  }
  audio_rows_.append(rows);
  if (!live_ && !live_tried_) return start_live();  // takes audio_rows_ as they are
  if (live_) {
    live_->append_prompt(rows);
    live_prompt_.append(rows);
  }
}

// Opens the engine request that prefills this buffer: the conversation so far, the user turn's
// opening and the audio rows taken until now.
void RealtimeSession::start_live() {
  live_tried_ = true;
  Prompt p = conversation_prompt(settings_.instructions, true);
  p.append(audio_rows_);
  const GenParams gp = params(settings_);
  try {
    live_ = submit(*b_, p, gp, opt_, true);
  } catch (const ApiError&) {
    live_ = nullptr;  // busy or too long: the answer is prefilled whole after the commit
    return;
  }
  live_prompt_ = std::move(p);
  live_key_ = json{{"t", settings_.temperature ? *settings_.temperature : -1.0},
                   {"m", settings_.max_output_tokens}}
                  .dump();
}

void RealtimeSession::drop_live() {
  if (live_) live_->cancel();
  live_ = nullptr;
  live_prompt_ = Prompt{};
  live_key_.clear();
}

void RealtimeSession::commit(bool by_vad) {
  if (!audio_ || audio_->samples() == 0) {
    if (by_vad) return;
    throw ApiError(400, "the input audio buffer is empty", {}, "invalid_request_error",
                   "input_audio_buffer_commit_empty");
  }
  if (!settings_.turn_detection && decoder_) {
    // The whole buffer came through this decoder: flush its resampler and fix the length as
    // the whole-clip decoder does.
    std::vector<float> tail;
    const uint64_t exact = decoder_->finish(tail);
    audio_->push(tail);
    audio_->resize(static_cast<size_t>(exact));
    decoder_.reset();
  }
  Prompt rows;
  try {
    std::lock_guard<std::mutex> lock(b_->media_mu);
    rows = audio_->finish(*b_->media_pool, "input audio buffer");
  } catch (const Error& e) {
    audio_.reset();
    audio_rows_ = Prompt{};
    buffer_item_id_.clear();
    live_tried_ = false;
    drop_live();
    throw ApiError(400, e.what(), {}, "invalid_request_error", "input_audio_buffer_silent");
  }
  audio_rows_.append(rows);
  if (live_) {
    live_->append_prompt(rows);
    live_prompt_.append(rows);
  }
  Item item;
  item.info.id = buffer_item_id_.empty() ? realtime_id("item_") : buffer_item_id_;
  item.info.role = "user";
  item.info.audio = true;
  item.rows = std::move(audio_rows_);
  audio_.reset();
  audio_rows_ = Prompt{};
  buffer_item_id_.clear();
  live_tried_ = false;
  emit({{"type", "input_audio_buffer.committed"},
        {"previous_item_id", items_.empty() ? json(nullptr) : json(items_.back().info.id)},
        {"item_id", item.info.id}});
  add_item(std::move(item));
  if (by_vad && settings_.create_response && !response_) response_create(json::object());
}

void RealtimeSession::clear_buffer() {
  drop_live();
  audio_.reset();
  audio_rows_ = Prompt{};
  decoder_.reset();
  preroll_.clear();
  buffer_item_id_.clear();
  live_tried_ = false;
  if (vad_) vad_->reset_state();
  emit({{"type", "input_audio_buffer.cleared"}});
}

// ---------------------------------------------------------------------------------------------
// The conversation

void RealtimeSession::add_item(Item item) {
  emit({{"type", "conversation.item.created"},
        {"previous_item_id", items_.empty() ? json(nullptr) : json(items_.back().info.id)},
        {"item", item_json(item.info)}});
  items_.push_back(std::move(item));
}

void RealtimeSession::item_create(const json& event) {
  const json* it = field(event, "item");
  if (!it || !it->is_object())
    bad_request("conversation.item.create needs an \"item\" object", "item");
  if (const json* t = field(*it, "type"))
    if (*t != "message")
      bad_request("item.type must be \"message\" (function calls are not supported)", "item.type");
  const std::string role = need_string(*it, "role", "item.role");
  if (role != "user" && role != "system" && role != "assistant")
    bad_request("item.role must be user, system or assistant", "item.role");
  const json* content = field(*it, "content");
  if (!content || !content->is_array() || content->empty())
    bad_request("item.content must be a non-empty array", "item.content");
  Item item;
  item.info.role = role;
  item.info.id = realtime_id("item_");
  if (const json* id = field(*it, "id"))
    if (id->is_string() && !id->get<std::string>().empty()) item.info.id = id->get<std::string>();
  for (size_t i = 0; i < content->size(); ++i) {
    const json& part = (*content)[i];
    const std::string name = "item.content[" + std::to_string(i) + "]";
    const std::string type = need_string(part, "type", name + ".type");
    if (type == "input_text" || type == "text" || type == "output_text") {
      if (item.info.audio) bad_request("an item holds text or audio, not both", name);
      item.info.text += need_string(part, "text", name + ".text");
    } else if (type == "input_audio" && role == "user") {
      if (!item.info.text.empty() || item.info.audio)
        bad_request("an item holds text or one audio clip", name);
      auto bytes = base64_decode(need_string(part, "audio", name + ".audio"));
      if (!bytes || bytes->size() % 2)
        bad_request(name + ".audio must be base64 of 16-bit PCM", name + ".audio");
      if (static_cast<double>(bytes->size() / 2) / settings_.input_rate >
          opt_.realtime_max_buffer_seconds)
        bad_request(name + ".audio is longer than the server's buffer limit", name + ".audio");
      Pcm16Stream dec(settings_.input_rate, 1, name);
      std::vector<float> pcm;
      dec.push(bytes->data(), bytes->size(), pcm);
      const uint64_t exact = dec.finish(pcm);
      pcm.resize(static_cast<size_t>(exact), 0.0f);
      LiveAudioRows clip(*b_->model.weights, opt_.media.audio_block_seconds);
      clip.push(pcm);
      std::lock_guard<std::mutex> lock(b_->media_mu);
      item.rows = clip.finish(*b_->media_pool, name.c_str());
      item.info.audio = true;
    } else {
      bad_request(name + ".type '" + type + "' is not supported here", name + ".type");
    }
  }
  // The buffer's live request was opened after the old last item: it no longer fits.
  if (live_ && audio_) {
    drop_live();
    live_tried_ = false;
  }
  add_item(std::move(item));
}

// The conversation as decoder rows: the rendered chat with each audio item's rows in place of
// its placeholder. trailing_audio: end inside a new user turn, just before its audio (the rows
// a live buffer's request starts with).
Prompt RealtimeSession::conversation_prompt(const std::string& instructions,
                                            bool trailing_audio) const {
  std::vector<ChatMessage> msgs;
  if (!instructions.empty())
    msgs.push_back({"system", {{ContentPart::Text, instructions}}, "", {}, "", ""});
  for (const Item& it : items_) {
    ChatMessage m{it.info.role, {}, "", {}, "", ""};
    if (it.info.audio)
      m.parts.push_back({ContentPart::Audio, ""});
    else
      m.parts.push_back({ContentPart::Text, it.info.text});
    msgs.push_back(std::move(m));
  }
  if (trailing_audio) msgs.push_back({"user", {{ContentPart::Audio, ""}}, "", {}, "", ""});
  ChatOptions co;
  co.enable_thinking = false;
  std::string text;
  try {
    text = render_chat(msgs, co);
  } catch (const Error& e) {
    bad_request(e.what(), "item");
  }
  const Gemma4Config& c = b_->model.weights->config;
  const std::vector<int32_t> ids = b_->model.tokenizer->encode(text, true);
  Prompt p;
  size_t next = 0;
  for (int32_t id : ids) {
    if (id != c.audio_token_id) {
      p.tokens.push_back(id);
      if (!p.soft.empty()) p.soft.emplace_back();
      continue;
    }
    while (next < items_.size() && !items_[next].info.audio) ++next;
    if (next == items_.size()) {
      if (trailing_audio) return p;  // the new turn's audio comes live
      bad_request("a text item holds an audio placeholder", "item");
    }
    p.append(items_[next++].rows);
  }
  if (trailing_audio) fail("internal: the new audio turn was not rendered");
  return p;
}

void RealtimeSession::response_create(const json& event) {
  if (response_)
    throw ApiError(400, "a response is already in progress; cancel it or wait for response.done",
                   {}, "invalid_request_error", "conversation_already_has_active_response");
  RealtimeSettings s = settings_;
  if (const json* r = field(event, "response")) {
    if (!r->is_object()) bad_request("response must be an object", "response");
    json sess = json::object();
    for (const char* k : {"instructions", "temperature", "max_output_tokens",
                          "max_response_output_tokens", "modalities", "output_modalities"})
      if (const json* v = field(*r, k)) sess[k] = *v;
    apply_session_update(sess, s, opt_.max_output_tokens);
  }
  Prompt full = conversation_prompt(s.instructions, false);
  const GenParams gp = params(s);
  const std::string key =
      json{{"t", s.temperature ? *s.temperature : -1.0}, {"m", s.max_output_tokens}}.dump();
  std::shared_ptr<RequestHandle> h;
  if (live_ && key == live_key_ && is_prefix(live_prompt_, full)) {
    // The prompt so far is already being prefilled: only the rest (the turn's closing tokens,
    // items added since) is left.
    live_->append_prompt(
        full.slice(static_cast<int64_t>(live_prompt_.size()), static_cast<int64_t>(full.size())));
    live_->close_prompt();
    h = live_;
    live_ = nullptr;
    live_prompt_ = Prompt{};
    if (audio_) live_tried_ = false;  // a buffer in progress opens a request of its own
  } else {
    if (live_ && audio_) live_tried_ = false;
    drop_live();
    h = submit(*b_, full, gp, opt_);
  }
  Response r;
  r.id = realtime_id("resp_");
  r.item_id = realtime_id("item_");
  r.handle = std::move(h);
  emit({{"type", "response.created"},
        {"response",
         {{"id", r.id},
          {"object", "realtime.response"},
          {"status", "in_progress"},
          {"output", json::array()},
          {"usage", nullptr}}}});
  RealtimeItem out{r.item_id, "assistant", false, "", "in_progress"};
  emit({{"type", "response.output_item.added"},
        {"response_id", r.id},
        {"output_index", 0},
        {"item", item_json(out)}});
  emit({{"type", "response.content_part.added"},
        {"response_id", r.id},
        {"item_id", r.item_id},
        {"output_index", 0},
        {"content_index", 0},
        {"part", {{"type", "output_text"}, {"text", ""}}}});
  response_.emplace(std::move(r));
}

void RealtimeSession::response_cancel(const json&) {
  if (!response_)
    throw ApiError(400, "there is no response in progress to cancel", {}, "invalid_request_error",
                   "response_cancel_not_active");
  response_->handle->cancel();
}

// ---------------------------------------------------------------------------------------------
// The thread: streams the answer, ends idle sessions

void RealtimeSession::pump() {
  while (!stop_) {
    if (!pump_once()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool RealtimeSession::pump_once() {
  std::shared_ptr<RequestHandle> h;
  bool idle = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (response_) {
      h = response_->handle;
      last_event_ = Clock::now();  // answering is not idle
    } else if (Clock::now() - last_event_ >
               std::chrono::duration<double>(opt_.realtime_idle_seconds)) {
      event_id_.clear();
      error("the session was idle for " + std::to_string(opt_.realtime_idle_seconds) +
                " s and is closed",
            "invalid_request_error", "session_idle_timeout");
      stop_ = true;
      drop_live();
      idle = true;
    }
  }
  if (idle) close_();  // outside the lock: the transport may call end() from here
  if (!h) return idle;
  bool done = false;
  std::vector<EngineToken> toks = h->wait(std::chrono::milliseconds(50), done);
  std::lock_guard<std::mutex> lock(mu_);
  if (!response_ || response_->handle != h) return true;
  Response& r = *response_;
  auto delta = [&](const std::string& d) {
    if (d.empty()) return;
    r.text += d;
    emit({{"type", "response.output_text.delta"},
          {"response_id", r.id},
          {"item_id", r.item_id},
          {"output_index", 0},
          {"content_index", 0},
          {"delta", d}});
  };
  for (const EngineToken& t : toks) delta(r.parser.push(t.text).content);
  if (!done) return true;
  const EngineResult& res = h->result();
  delta(r.parser.finish().content);
  json status_details = nullptr;
  std::string status = "completed";
  switch (res.stop_reason) {
    case StopReason::kCancelled:
      status = "cancelled";
      status_details = {{"type", "cancelled"}, {"reason", "client_cancelled"}};
      break;
    case StopReason::kLength:
      status = "incomplete";
      status_details = {{"type", "incomplete"}, {"reason", "max_output_tokens"}};
      break;
    case StopReason::kShutdown:
      status = "incomplete";
      status_details = {{"type", "incomplete"}, {"reason", "shutdown"}};
      break;
    case StopReason::kError:
      status = "failed";
      status_details = {{"type", "failed"},
                        {"error", {{"type", "server_error"}, {"message", res.error}}}};
      break;
    default:
      break;
  }
  RealtimeItem out{r.item_id, "assistant", false, r.text,
                   status == "completed" ? "completed" : "incomplete"};
  emit({{"type", "response.output_text.done"},
        {"response_id", r.id},
        {"item_id", r.item_id},
        {"output_index", 0},
        {"content_index", 0},
        {"text", r.text}});
  emit({{"type", "response.content_part.done"},
        {"response_id", r.id},
        {"item_id", r.item_id},
        {"output_index", 0},
        {"content_index", 0},
        {"part", {{"type", "output_text"}, {"text", r.text}}}});
  emit({{"type", "response.output_item.done"},
        {"response_id", r.id},
        {"output_index", 0},
        {"item", item_json(out)}});
  const int64_t out_tokens = static_cast<int64_t>(res.generated.size());
  emit({{"type", "response.done"},
        {"response",
         {{"id", r.id},
          {"object", "realtime.response"},
          {"status", status},
          {"status_details", status_details},
          {"output", json::array({item_json(out)})},
          {"usage",
           {{"total_tokens", res.prompt_tokens + out_tokens},
            {"input_tokens", res.prompt_tokens},
            {"output_tokens", out_tokens},
            {"input_token_details", {{"cached_tokens", res.cached_tokens}}}}}}}});
  // The answer joins the conversation (what was said before a cancel too, as OpenAI keeps it).
  if (status != "failed" && !r.text.empty()) {
    Item item;
    item.info = out;
    items_.push_back(std::move(item));
  }
  response_.reset();
  return true;
}

}  // namespace ug::server
