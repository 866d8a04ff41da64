// Request bodies to API-neutral inputs. Every field is type-checked; a wrong one is a 400 that
// names it (OpenAI's "param").
#include <cmath>
#include <random>

#include "formats/json_parse.h"
#include "http/client.h"
#include "server/base64.h"
#include "server/server_state.h"

namespace ug::server {

namespace {

// A present, non-null field, or nullptr.
const json* field(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string type_name(const json& j) { return j.type_name(); }

std::string need_string(const json& j, const std::string& param) {
  if (!j.is_string()) bad_request(param + " must be a string, got " + type_name(j), param);
  return j.get<std::string>();
}

// A finite number in [lo, hi], or in (lo, hi] when lo_open.
double need_number(const json& j, const std::string& param, double lo, double hi,
                   bool lo_open = false) {
  if (!j.is_number()) bad_request(param + " must be a number, got " + type_name(j), param);
  double v = j.get<double>();
  if (!std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo)) {
    std::ostringstream m;
    m << param << " must be " << (lo_open ? "greater than " : "between ") << lo
      << (lo_open ? " and at most " : " and ") << hi << ", got " << json_excerpt(j, 40);
    bad_request(m.str(), param);
  }
  return v;
}

// An integer in [lo, hi], compared exactly (a double cannot tell 2^63 - 1 from 2^63). Whole
// floats (3.0) count: JavaScript clients send them.
int64_t need_int(const json& j, const std::string& param, int64_t lo, int64_t hi) {
  auto out_of_range = [&]() {
    bad_request(param + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                    ", got " + json_excerpt(j, 40),
                param);
  };
  if (j.is_number_unsigned()) {
    const uint64_t u = j.get<uint64_t>();
    if (hi < 0 || u > static_cast<uint64_t>(hi) || (lo > 0 && u < static_cast<uint64_t>(lo)))
      out_of_range();
    return static_cast<int64_t>(u);
  }
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v < lo || v > hi) out_of_range();
    return v;
  }
  if (j.is_number_float() && std::floor(j.get<double>()) == j.get<double>()) {
    const double d = j.get<double>();
    // [-2^63, 2^63) is exactly representable at its ends; inside it the cast is defined.
    if (!(d >= -0x1p63 && d < 0x1p63)) out_of_range();
    const int64_t v = static_cast<int64_t>(d);
    if (v < lo || v > hi) out_of_range();
    return v;
  }
  bad_request(param + " must be an integer, got " + type_name(j), param);
}

// OpenAI and Ollama seeds: any unsigned 64-bit integer, or -1 for a random seed (llama.cpp's and
// Ollama's convention).
uint64_t need_seed(const json& j, const std::string& param) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0)
    return static_cast<uint64_t>(j.get<int64_t>());
  const bool minus_one = j.is_number() && j.get<double>() == -1.0;
  if (minus_one) return std::random_device{}();
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (std::floor(d) == d && d >= 0 && d < 0x1p64) return static_cast<uint64_t>(d);
  }
  if (!j.is_number()) bad_request(param + " must be an integer, got " + type_name(j), param);
  bad_request(param + " must be -1 (random) or an integer from 0 to 18446744073709551615, got " +
                  json_excerpt(j, 40),
              param);
}

bool need_bool(const json& j, const std::string& param) {
  if (!j.is_boolean()) bad_request(param + " must be a boolean, got " + type_name(j), param);
  return j.get<bool>();
}

// OpenAI allows 4 stop strings, llama.cpp any number; a stop string is held back from the stream
// until it can no longer match, so its length bounds that delay.
constexpr size_t kMaxStopStrings = 16;
constexpr size_t kMaxStopBytes = 1024;

std::vector<std::string> parse_stop(const json& j, const std::string& param) {
  std::vector<std::string> out;
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_array()) {
    if (j.size() > kMaxStopStrings)
      bad_request(param + ": at most " + std::to_string(kMaxStopStrings) + " stop strings, got " +
                      std::to_string(j.size()),
                  param);
    for (size_t i = 0; i < j.size(); ++i)
      out.push_back(need_string(j[i], param + "[" + std::to_string(i) + "]"));
  } else {
    bad_request(param + " must be a string or an array of strings, got " + type_name(j), param);
  }
  for (const auto& s : out) {
    if (s.empty()) bad_request(param + ": a stop string must not be empty", param);
    if (s.size() > kMaxStopBytes)
      bad_request(param + ": a stop string must be at most " + std::to_string(kMaxStopBytes) +
                      " bytes, got " + std::to_string(s.size()),
                  param);
  }
  return out;
}

SamplingParams default_sampling(const Backend& b) {
  const Gemma4Config& c = b.model.weights->config;
  SamplingParams p;
  p.temperature = c.temperature;
  p.top_k = c.top_k;
  p.top_p = c.top_p;
  p.seed = std::random_device{}();
  p.suppress = c.suppress_tokens;
  return p;
}

ToolCall parse_tool_call(const json& tc, const std::string& param, bool ollama) {
  if (!tc.is_object()) bad_request(param + " must be an object", param);
  ToolCall call;
  if (const json* id = field(tc, "id")) call.id = need_string(*id, param + ".id");
  const json* fn = field(tc, "function");
  if (!fn || !fn->is_object()) bad_request(param + ".function must be an object", param);
  const json* name = field(*fn, "name");
  if (!name) bad_request(param + ".function.name is missing", param);
  call.name = need_string(*name, param + ".function.name");
  const json* args = field(*fn, "arguments");
  if (!args) {
    call.arguments = json::object();
  } else if (args->is_string() && !ollama) {
    // OpenAI sends the arguments as a JSON string; the template wants the object. Text that is
    // not JSON goes into the prompt as it is; JSON nested too deep is refused.
    const std::string where = param + ".function.arguments";
    try {
      call.arguments = parse_json(args->get_ref<const std::string&>(), where);
    } catch (const JsonDepthError& e) {
      bad_request(e.what(), where);
    } catch (const Error&) {
      call.arguments = *args;
    }
  } else if (args->is_object() || args->is_string()) {
    call.arguments = *args;
  } else {
    bad_request(param + ".function.arguments must be an object or a JSON string", param);
  }
  return call;
}

const char* kRoles[] = {"system", "developer", "user", "assistant", "tool"};

std::string check_role(const json& m, const std::string& param) {
  const json* r = field(m, "role");
  if (!r) bad_request(param + ".role is missing", param + ".role");
  std::string role = need_string(*r, param + ".role");
  for (const char* k : kRoles)
    if (role == k) return role;
  bad_request(param + ".role: unknown role '" + role +
                  "' (expected system, developer, user, assistant or tool)",
              param + ".role");
}

// top_logprobs: OpenAI's limit.
constexpr int kMaxTopLogprobs = 20;

// The sampling fields OpenAI bodies and Ollama options share, with llama.cpp's meanings. `pre`
// prefixes the names in errors ("options.").
void parse_sampling(const json& o, const std::string& pre, double max_temperature,
                    SamplingParams& s) {
  auto number = [&](const char* key, double lo, double hi, float& out, bool lo_open = false) {
    if (const json* v = field(o, key))
      out = static_cast<float>(need_number(*v, pre + key, lo, hi, lo_open));
  };
  auto integer = [&](const char* key, int64_t lo, int64_t hi, int& out) {
    if (const json* v = field(o, key)) out = static_cast<int>(need_int(*v, pre + key, lo, hi));
  };
  number("temperature", 0, max_temperature, s.temperature);  // 0: greedy
  number("top_p", 0, 1, s.top_p);  // 0 keeps only the most likely token, as OpenAI accepts
  number("min_p", 0, 1, s.min_p);
  integer("top_k", 0, 1 << 20, s.top_k);  // 0: off
  // The penalty divides positive logits: 0 would make them infinite.
  number("repeat_penalty", 0, 10, s.repeat_penalty, true);
  integer("repeat_last_n", -1, 1 << 20, s.repeat_last_n);  // -1: the whole history
  number("presence_penalty", -2, 2, s.presence_penalty);   // OpenAI's range
  number("frequency_penalty", -2, 2, s.frequency_penalty);
  if (const json* v = field(o, "seed")) s.seed = need_seed(*v, pre + "seed");
}

// Options Ollama knows that do not apply here (llama.cpp runner and hardware settings): accepted
// and ignored, but a wrong type is an error, as Ollama answers it.
void check_ignored_ollama_options(const json& o, const std::string& pre) {
  enum Kind { Int, Number, Bool };
  static const std::pair<const char*, Kind> kIgnored[] = {
      {"num_keep", Int},          {"typical_p", Number},    {"tfs_z", Number},
      {"mirostat", Int},          {"mirostat_tau", Number}, {"mirostat_eta", Number},
      {"penalize_newline", Bool}, {"numa", Bool},           {"num_batch", Int},
      {"num_gpu", Int},           {"main_gpu", Int},        {"low_vram", Bool},
      {"vocab_only", Bool},       {"use_mmap", Bool},       {"use_mlock", Bool},
      {"num_thread", Int}};
  for (const auto& [key, kind] : kIgnored) {
    const json* v = field(o, key);
    if (!v) continue;
    if (kind == Bool) need_bool(*v, pre + key);
    if (kind == Int) need_int(*v, pre + key, INT32_MIN, INT32_MAX);
    if (kind == Number) need_number(*v, pre + key, -1e9, 1e9);
  }
}

}  // namespace

json parse_json_body(std::string_view body) {
  json j;
  try {
    j = parse_json(body, "the request body");
  } catch (const Error& e) {
    bad_request(e.what());
  }
  if (!j.is_object()) bad_request("the request body must be a JSON object, got " + type_name(j));
  return j;
}

json parse_body(const http::Request& req) { return parse_json_body(req.body); }

void check_text_fits(const Backend& b, size_t text_bytes, const std::string& param) {
  const uint64_t n_ctx = static_cast<uint64_t>(b.engine->options().n_ctx);
  const uint64_t per_token = b.model.tokenizer->max_token_input_bytes();
  const uint64_t min_tokens = (text_bytes + per_token - 1) / per_token;
  if (min_tokens < n_ctx) return;
  throw ApiError(400,
                 "the prompt is " + std::to_string(text_bytes) + " bytes, at least " +
                     std::to_string(min_tokens) + " tokens, more than the context of " +
                     std::to_string(n_ctx) +
                     " tokens allows (start the server with a larger --ctx-size)",
                 param, "invalid_request_error", "context_length_exceeded");
}

MediaInput media_from_base64(const std::string& data, MediaInput::Kind kind,
                             const std::string& name, const std::string& param) {
  auto bytes = base64_decode(data);
  if (!bytes) bad_request(name + ": the data is not valid base64", param);
  if (bytes->empty()) bad_request(name + ": the data is empty", param);
  MediaInput m;
  m.kind = kind;
  m.bytes = std::move(*bytes);
  m.name = name;
  return m;
}

MediaInput media_from_url(const std::string& url, MediaInput::Kind kind, const std::string& name,
                          const std::string& param, const ServerOptions& opt) {
  if (url.rfind("data:", 0) == 0) {
    const size_t comma = url.find(',');
    if (comma == std::string::npos) bad_request(name + ": a data URL needs a ','", param);
    const std::string head = url.substr(5, comma - 5);
    if (head.size() < 7 || head.compare(head.size() - 7, 7, ";base64") != 0)
      bad_request(name + ": only base64 data URLs are supported (data:MIME;base64,...)", param);
    return media_from_base64(url.substr(comma + 1), kind, name, param);
  }
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    bad_request(name + ": unsupported URL (expected a data: URL" +
                    std::string(opt.allow_remote_media ? " or http(s)" : "") + ")",
                param);
  if (!opt.allow_remote_media)
    bad_request(name +
                    ": remote media URLs are disabled; send the file as a data: URL or start "
                    "the server with --allow-remote-media",
                param);
  http::ClientOptions co;
  co.connect_timeout = std::chrono::seconds(10);
  co.read_timeout = std::chrono::seconds(30);
  co.max_body_bytes = static_cast<size_t>(opt.remote_media_max_bytes);
  http::FetchResult f = http::fetch(url, co);
  if (f.too_big)
    bad_request(name + ": the file at " + url + " is larger than " +
                    std::to_string(opt.remote_media_max_bytes) + " bytes",
                param);
  if (f.status == 0) bad_request(name + ": could not fetch " + url + ": " + f.error, param);
  if (f.status != 200)
    bad_request(name + ": fetching " + url + " gave HTTP " + std::to_string(f.status), param);
  const std::string& body = f.body;
  MediaInput m;
  m.kind = kind;
  m.bytes.assign(body.begin(), body.end());
  m.name = name;
  return m;
}

ChatInput parse_openai_messages(const json& body, const ServerOptions& opt) {
  const json* msgs = field(body, "messages");
  if (!msgs) bad_request("messages is missing", "messages");
  if (!msgs->is_array()) bad_request("messages must be an array", "messages");
  if (msgs->empty()) bad_request("messages must not be empty", "messages");
  ChatInput in;
  for (size_t i = 0; i < msgs->size(); ++i) {
    const std::string param = "messages[" + std::to_string(i) + "]";
    const json& m = (*msgs)[i];
    if (!m.is_object()) bad_request(param + " must be an object", param);
    ChatMessage cm;
    cm.role = check_role(m, param);
    const json* content = field(m, "content");
    if (!content) {
      if (cm.role != "assistant") bad_request(param + ".content is missing", param + ".content");
    } else if (content->is_string()) {
      cm.parts.push_back({ContentPart::Text, content->get<std::string>()});
    } else if (content->is_array()) {
      for (size_t j = 0; j < content->size(); ++j) {
        const std::string pp = param + ".content[" + std::to_string(j) + "]";
        const json& part = (*content)[j];
        if (!part.is_object()) bad_request(pp + " must be an object", pp);
        const json* type = field(part, "type");
        if (!type) bad_request(pp + ".type is missing", pp + ".type");
        const std::string t = need_string(*type, pp + ".type");
        const std::string name =
            "message " + std::to_string(i + 1) + ", part " + std::to_string(j + 1);
        auto url_of = [&](const char* key) {
          const json* u = field(part, key);
          if (!u) bad_request(pp + "." + key + " is missing", pp + "." + key);
          if (u->is_string()) return u->get<std::string>();
          if (!u->is_object() || !field(*u, "url"))
            bad_request(pp + "." + key + " must be an object with a url", pp + "." + key);
          return need_string((*u)["url"], pp + "." + key + ".url");
        };
        if (t == "text") {
          const json* text = field(part, "text");
          if (!text) bad_request(pp + ".text is missing", pp + ".text");
          cm.parts.push_back({ContentPart::Text, need_string(*text, pp + ".text")});
        } else if (t == "image_url") {
          in.media.push_back(
              media_from_url(url_of("image_url"), MediaInput::Image, name, pp + ".image_url", opt));
          cm.parts.push_back({ContentPart::Image, ""});
        } else if (t == "video_url") {
          in.media.push_back(
              media_from_url(url_of("video_url"), MediaInput::Video, name, pp + ".video_url", opt));
          cm.parts.push_back({ContentPart::Video, ""});
        } else if (t == "input_audio") {
          const json* a = field(part, "input_audio");
          if (!a || !a->is_object())
            bad_request(pp + ".input_audio must be an object {data, format}", pp + ".input_audio");
          const json* data = field(*a, "data");
          if (!data) bad_request(pp + ".input_audio.data is missing", pp + ".input_audio.data");
          if (const json* f = field(*a, "format")) need_string(*f, pp + ".input_audio.format");
          in.media.push_back(media_from_base64(need_string(*data, pp + ".input_audio.data"),
                                               MediaInput::Audio, name, pp + ".input_audio.data"));
          cm.parts.push_back({ContentPart::Audio, ""});
        } else {
          bad_request(pp + ".type: unsupported content part '" + t +
                          "' (expected text, image_url, input_audio or video_url)",
                      pp + ".type");
        }
      }
    } else {
      bad_request(
          param + ".content must be a string or an array of parts, got " + type_name(*content),
          param + ".content");
    }
    if (const json* r = field(m, "reasoning_content"))
      cm.reasoning = need_string(*r, param + ".reasoning_content");
    if (const json* tcs = field(m, "tool_calls")) {
      if (!tcs->is_array()) bad_request(param + ".tool_calls must be an array", param);
      for (size_t k = 0; k < tcs->size(); ++k)
        cm.tool_calls.push_back(
            parse_tool_call((*tcs)[k], param + ".tool_calls[" + std::to_string(k) + "]", false));
    }
    if (cm.role == "tool") {
      if (const json* id = field(m, "tool_call_id"))
        cm.tool_call_id = need_string(*id, param + ".tool_call_id");
      if (const json* n = field(m, "name")) cm.tool_name = need_string(*n, param + ".name");
    }
    in.messages.push_back(std::move(cm));
  }
  in.options.enable_thinking = openai_thinking(body);
  const json* tools = field(body, "tools");
  if (tools) {
    if (!tools->is_array()) bad_request("tools must be an array", "tools");
    for (size_t k = 0; k < tools->size(); ++k) {
      const json& t = (*tools)[k];
      const std::string tp = "tools[" + std::to_string(k) + "]";
      if (!t.is_object() || !field(t, "function") || !t["function"].is_object())
        bad_request(tp + " must be an object {type: \"function\", function: {...}}", tp);
      if (!field(t["function"], "name")) bad_request(tp + ".function.name is missing", tp);
      need_string(t["function"]["name"], tp + ".function.name");
    }
  }
  bool use_tools = tools && !tools->empty();
  if (const json* tc = field(body, "tool_choice")) {
    if (tc->is_string()) {
      const std::string v = tc->get<std::string>();
      if (v != "none" && v != "auto" && v != "required")
        bad_request("tool_choice must be none, auto, required or a function", "tool_choice");
      if (v == "none") use_tools = false;
    } else if (!tc->is_object()) {
      bad_request("tool_choice must be a string or an object", "tool_choice");
    }
  }
  if (use_tools) in.options.tools = *tools;
  return in;
}

bool openai_thinking(const json& body) {
  if (const json* k = field(body, "chat_template_kwargs")) {
    if (!k->is_object())
      bad_request("chat_template_kwargs must be an object", "chat_template_kwargs");
    if (const json* t = field(*k, "enable_thinking"))
      return need_bool(*t, "chat_template_kwargs.enable_thinking");
  }
  if (const json* e = field(body, "reasoning_effort")) {
    std::string v = need_string(*e, "reasoning_effort");
    if (v != "none" && v != "minimal" && v != "low" && v != "medium" && v != "high")
      bad_request("reasoning_effort must be none, minimal, low, medium or high",
                  "reasoning_effort");
    return v != "none";
  }
  return false;
}

GenParams parse_openai_params(const json& body, const Backend& b, const ServerOptions& opt) {
  return parse_openai_params(body, default_sampling(b), opt);
}

GenParams parse_openai_params(const json& body, const SamplingParams& defaults,
                              const ServerOptions& opt) {
  GenParams p;
  p.sampling = defaults;
  p.media = opt.media;
  parse_run_fields(body, "", p);
  for (const char* key : {"max_tokens", "max_completion_tokens"})
    if (const json* v = field(body, key)) {
      const int64_t n = need_int(*v, key, 1, INT32_MAX);
      if (n > opt.max_output_tokens)
        bad_request(std::string(key) + " is " + std::to_string(n) +
                        "; this server allows at most " + std::to_string(opt.max_output_tokens),
                    key);
      p.max_tokens = static_cast<int>(n);
    }
  // OpenAI refuses temperatures above 2; llama.cpp's extensions (top_k, min_p, repeat_*) too.
  parse_sampling(body, "", 2, p.sampling);
  if (const json* v = field(body, "stop")) p.stop = parse_stop(*v, "stop");
  if (const json* v = field(body, "n"))
    if (need_int(*v, "n", 1, 1) != 1) bad_request("only n = 1 is supported", "n");
  if (const json* v = field(body, "logprobs")) {
    // Chat: a boolean; legacy completions: the number of alternatives.
    if (v->is_boolean()) {
      p.logprobs = v->get<bool>();
    } else {
      p.logprobs = true;
      p.top_logprobs = static_cast<int>(need_int(*v, "logprobs", 0, kMaxTopLogprobs));
    }
  }
  if (const json* v = field(body, "top_logprobs")) {
    p.top_logprobs = static_cast<int>(need_int(*v, "top_logprobs", 0, kMaxTopLogprobs));
    if (p.top_logprobs > 0 && !p.logprobs)
      bad_request("top_logprobs needs logprobs to be true", "top_logprobs");
  }
  for (const char* key : {"stream", "parallel_tool_calls", "echo"})
    if (const json* v = field(body, key)) need_bool(*v, key);
  for (const char* key : {"model", "user"})
    if (const json* v = field(body, key)) need_string(*v, key);
  if (const json* v = field(body, "logit_bias")) {
    // Accepted for compatibility and not applied; its shape is still checked.
    if (!v->is_object()) bad_request("logit_bias must be an object", "logit_bias");
    for (const auto& [id, bias] : v->items()) need_number(bias, "logit_bias", -100, 100);
  }
  return p;
}

ChatInput parse_ollama_messages(const json& body) {
  const json* msgs = field(body, "messages");
  if (!msgs) bad_request("messages is missing", "messages");
  if (!msgs->is_array()) bad_request("messages must be an array", "messages");
  ChatInput in;
  for (size_t i = 0; i < msgs->size(); ++i) {
    const std::string param = "messages[" + std::to_string(i) + "]";
    const json& m = (*msgs)[i];
    if (!m.is_object()) bad_request(param + " must be an object", param);
    ChatMessage cm;
    cm.role = check_role(m, param);
    if (const json* c = field(m, "content"))
      cm.parts.push_back({ContentPart::Text, need_string(*c, param + ".content")});
    if (const json* imgs = field(m, "images")) {
      if (!imgs->is_array()) bad_request(param + ".images must be an array", param + ".images");
      for (size_t j = 0; j < imgs->size(); ++j) {
        const std::string pp = param + ".images[" + std::to_string(j) + "]";
        in.media.push_back(media_from_base64(
            need_string((*imgs)[j], pp), MediaInput::Image,
            "message " + std::to_string(i + 1) + ", image " + std::to_string(j + 1), pp));
        // Ollama puts images before the message text.
        cm.parts.insert(cm.parts.begin() + static_cast<long>(j), {ContentPart::Image, ""});
      }
    }
    if (const json* t = field(m, "thinking")) cm.reasoning = need_string(*t, param + ".thinking");
    if (const json* tcs = field(m, "tool_calls")) {
      if (!tcs->is_array()) bad_request(param + ".tool_calls must be an array", param);
      for (size_t k = 0; k < tcs->size(); ++k)
        cm.tool_calls.push_back(
            parse_tool_call((*tcs)[k], param + ".tool_calls[" + std::to_string(k) + "]", true));
    }
    if (const json* n = field(m, "tool_name")) cm.tool_name = need_string(*n, param + ".tool_name");
    in.messages.push_back(std::move(cm));
  }
  in.options.enable_thinking = ollama_thinking(body);
  if (const json* tools = field(body, "tools")) {
    if (!tools->is_array()) bad_request("tools must be an array", "tools");
    if (!tools->empty()) in.options.tools = *tools;
  }
  return in;
}

bool ollama_thinking(const json& body) {
  const json* t = field(body, "think");
  if (!t) return false;
  if (t->is_boolean()) return t->get<bool>();
  if (t->is_string()) return t->get<std::string>() != "none";  // "low", "medium", "high"
  bad_request("think must be a boolean or low/medium/high", "think");
}

GenParams parse_ollama_options(const json& body, const Backend& b, const ServerOptions& opt) {
  return parse_ollama_options(body, default_sampling(b), opt);
}

GenParams parse_ollama_options(const json& body, const SamplingParams& defaults,
                               const ServerOptions& opt) {
  GenParams p;
  p.sampling = defaults;
  p.media = opt.media;
  if (const json* k = field(body, "keep_alive"); k && !k->is_string() && !k->is_number())
    bad_request("keep_alive must be a duration string or a number of seconds", "keep_alive");
  const json* o = field(body, "options");
  if (!o) return p;
  if (!o->is_object()) bad_request("options must be an object", "options");
  const std::string pre = "options.";
  parse_run_fields(*o, pre, p);
  // Ollama sets no upper bound; above 100 the distribution is flat to float precision anyway.
  parse_sampling(*o, pre, 100, p.sampling);
  if (const json* v = field(*o, "stop")) p.stop = parse_stop(*v, pre + "stop");
  if (const json* v = field(*o, "num_ctx")) need_int(*v, pre + "num_ctx", 1, INT32_MAX);
  if (const json* v = field(*o, "num_predict")) {
    // Ollama: -1 unlimited, -2 fill the context; both mean "up to the server's cap" here.
    const int64_t n = need_int(*v, pre + "num_predict", -2, INT32_MAX);
    p.max_tokens = n <= 0 ? opt.max_output_tokens
                          : static_cast<int>(std::min<int64_t>(n, opt.max_output_tokens));
  }
  check_ignored_ollama_options(*o, pre);
  return p;
}

void parse_run_fields(const json& obj, const std::string& prefix, GenParams& p) {
  for (const char* key : {"draft_n", "speculative.n_max"})
    if (const json* v = field(obj, key))
      p.draft = static_cast<int>(need_int(*v, prefix + key, 0, 16));
  if (const json* v = field(obj, "image_tokens")) {
    const int64_t n = need_int(*v, prefix + "image_tokens", 70, 1120);
    if (n != 70 && n != 140 && n != 280 && n != 560 && n != 1120)
      bad_request(prefix + "image_tokens must be 70, 140, 280, 560 or 1120", prefix + "image_tokens");
    p.media.image_tokens = static_cast<int>(n);
  }
  if (const json* v = field(obj, "video_audio"))
    p.media.video_audio = need_bool(*v, prefix + "video_audio");
  if (const json* v = field(obj, "audio_block_seconds"))
    p.media.audio_block_seconds = need_number(*v, prefix + "audio_block_seconds", 1, 30);
  if (const json* v = field(obj, "repeat_last_n"))
    p.sampling.repeat_last_n =
        static_cast<int>(need_int(*v, prefix + "repeat_last_n", -1, 1 << 20));
}

}  // namespace ug::server
