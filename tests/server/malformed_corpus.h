// The malformed-request corpus: several hundred requests that a server must refuse with a 4xx
// JSON error (and survive): broken JSON, wrong types for every field of the OpenAI and Ollama
// bodies, out-of-range values, deep nesting, huge numbers, invalid UTF-8, broken base64 and data
// URLs, broken image and audio bytes, absurd sizes, unknown roles, empty messages. Generated
// here rather than stored, so each case says what it breaks.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/base64.h"

namespace ug::test {

struct MalformedRequest {
  std::string name;  // what is wrong, for failure messages
  std::string method = "POST";
  std::string path;
  std::string body;
};

namespace corpus_detail {

using nlohmann::json;

inline std::string b64(const std::string& bytes) {
  return server::base64_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

inline void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline void put_be(std::string& s, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Broken image files, each starting with a real format's magic bytes.
inline std::vector<std::pair<std::string, std::string>> bad_images() {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string png_sig = "\x89PNG\r\n\x1a\n";
  auto ihdr = [&](uint32_t w, uint32_t h) {
    std::string s = png_sig;
    put_be(s, 13, 4);
    s += "IHDR";
    put_be(s, w, 4);
    put_be(s, h, 4);
    s += std::string("\x08\x02\x00\x00\x00", 5);
    put_be(s, 0, 4);  // CRC (wrong)
    return s;
  };
  out.push_back({"png signature only", png_sig});
  out.push_back({"png IHDR only", ihdr(64, 48)});
  out.push_back({"png 100000x100000", ihdr(100000, 100000)});
  out.push_back({"png 0x0", ihdr(0, 0)});
  out.push_back({"png IHDR then garbage", ihdr(8, 8) + std::string(200, '\x5a')});
  out.push_back({"jpeg SOI only", "\xFF\xD8\xFF"});
  out.push_back({"jpeg SOI + garbage", std::string("\xFF\xD8\xFF\xE0") + std::string(100, 'x')});
  out.push_back({"gif header only", "GIF89a"});
  std::string gif = "GIF89a";
  put_le(gif, 60000, 2);
  put_le(gif, 60000, 2);
  gif += std::string("\xF7\x00\x00", 3);
  out.push_back({"gif huge screen, no data", gif});
  out.push_back({"webp riff only", std::string("RIFF\x04\x00\x00\x00WEBP", 12)});
  std::string webp = "RIFF";
  put_le(webp, 30, 4);
  webp += "WEBPVP8 ";
  put_le(webp, 18, 4);
  webp += std::string(18, '\x01');
  out.push_back({"webp bad VP8", webp});
  // BMP: file header + BITMAPINFOHEADER for 16x16 24-bit, pixel data cut.
  std::string bmp = "BM";
  put_le(bmp, 54 + 16 * 16 * 3, 4);
  put_le(bmp, 0, 4);
  put_le(bmp, 54, 4);
  put_le(bmp, 40, 4);
  put_le(bmp, 16, 4);
  put_le(bmp, 16, 4);
  put_le(bmp, 1, 2);
  put_le(bmp, 24, 2);
  put_le(bmp, 0, 4);
  put_le(bmp, 16 * 16 * 3, 4);
  put_le(bmp, 2835, 4);
  put_le(bmp, 2835, 4);
  put_le(bmp, 0, 4);
  put_le(bmp, 0, 4);
  out.push_back({"bmp header only", bmp});
  out.push_back({"bmp truncated pixels", bmp + std::string(100, '\x7f')});
  std::string bmp_huge = bmp;
  bmp_huge[18] = '\xFF', bmp_huge[19] = '\xFF', bmp_huge[20] = '\xFF', bmp_huge[21] = '\x7F';
  out.push_back({"bmp absurd width", bmp_huge});
  out.push_back({"bm magic only", "BM"});
  out.push_back({"random bytes", std::string("\x13\x37\xC0\xDE\x00\xFF\x10\x20", 8)});
  out.push_back({"text", "this is not an image"});
  return out;
}

// Broken audio files.
inline std::vector<std::pair<std::string, std::string>> bad_audio() {
  std::vector<std::pair<std::string, std::string>> out;
  auto wav = [](uint32_t rate, uint16_t channels, uint16_t bits, uint32_t data_bytes,
                size_t actual) {
    std::string s = "RIFF";
    put_le(s, 36 + data_bytes, 4);
    s += "WAVEfmt ";
    put_le(s, 16, 4);
    put_le(s, 1, 2);
    put_le(s, channels, 2);
    put_le(s, rate, 4);
    put_le(s, uint64_t{rate} * channels * bits / 8, 4);
    put_le(s, channels * bits / 8, 2);
    put_le(s, bits, 2);
    s += "data";
    put_le(s, data_bytes, 4);
    return s + std::string(actual, '\x01');
  };
  out.push_back({"wav header only", wav(16000, 1, 16, 32000, 0).substr(0, 20)});
  out.push_back({"wav 0 Hz", wav(0, 1, 16, 100, 100)});
  out.push_back({"wav 0 channels", wav(16000, 0, 16, 100, 100)});
  out.push_back({"wav 65535 channels", wav(16000, 65535, 16, 100, 100)});
  out.push_back({"riff only", "RIFF"});
  out.push_back({"mp3 sync only", "\xFF\xFB"});
  out.push_back({"ogg magic only", "OggS"});
  out.push_back({"flac magic only", "fLaC"});
  out.push_back({"random bytes", std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9)});
  return out;
}

inline std::string nest(int depth, const std::string& open, const std::string& inner,
                        const std::string& close) {
  std::string s;
  s.reserve(static_cast<size_t>(depth) * (open.size() + close.size()) + inner.size());
  for (int i = 0; i < depth; ++i) s += open;
  s += inner;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

inline json user_message(const json& content) { return {{"role", "user"}, {"content", content}}; }
inline json chat_body(const json& messages) {
  return {{"messages", messages}, {"max_tokens", 2}, {"temperature", 0}};
}
inline json image_part(const std::string& url) {
  return {{"type", "image_url"}, {"image_url", {{"url", url}}}};
}

}  // namespace corpus_detail

inline std::vector<MalformedRequest> malformed_corpus() {
  using namespace corpus_detail;
  std::vector<MalformedRequest> out;
  auto add = [&](std::string name, std::string path, std::string body) {
    out.push_back({std::move(name), "POST", std::move(path), std::move(body)});
  };
  auto add_json = [&](std::string name, std::string path, const json& body) {
    add(std::move(name), std::move(path), body.dump());
  };
  const std::string chat = "/v1/chat/completions", completions = "/v1/completions",
                    ochat = "/api/chat", ogen = "/api/generate";
  const json hello = json::array({user_message("hi")});

  // 1. Text that is not one JSON object, on every JSON route.
  const std::vector<std::pair<std::string, std::string>> not_json = {
      {"empty", ""},
      {"whitespace", " \n\t "},
      {"truncated object", "{\"messages\": ["},
      {"truncated string", "{\"model\": \"ab"},
      {"trailing comma", "{\"model\": \"x\",}"},
      {"single quotes", "{'model': 'x'}"},
      {"unquoted key", "{model: \"x\"}"},
      {"NaN", "{\"temperature\": NaN}"},
      {"Infinity", "{\"temperature\": Infinity}"},
      {"comment", "{/* c */ \"model\": \"x\"}"},
      {"two objects", "{}{}"},
      {"trailing garbage", "{\"model\": \"x\"} x"},
      {"null", "null"},
      {"array", "[]"},
      {"number", "42"},
      {"string", "\"hello\""},
      {"true", "true"},
      {"raw control char in string", std::string("{\"model\": \"a\x01b\"}")},
      {"bad escape", "{\"model\": \"\\x41\"}"},
      {"lone high surrogate", "{\"model\": \"\\ud800\"}"},
      {"lone low surrogate", "{\"model\": \"\\udc00x\"}"},
      {"invalid utf-8 byte", "{\"model\": \"\xFF\"}"},
      {"overlong utf-8", "{\"model\": \"\xC0\xAF\"}"},
      {"utf-8 surrogate", "{\"model\": \"\xED\xA0\x80\"}"},
      {"truncated utf-8", "{\"model\": \"\xE2\x82\"}"},
      {"1e400", "{\"temperature\": 1e400}"},
      {"-1e400", "{\"temperature\": -1e400}"},
      {"leading zero", "{\"temperature\": 01}"},
      {"hex number", "{\"temperature\": 0x1}"},
      {"plus number", "{\"temperature\": +1}"},
      {"bare minus", "{\"temperature\": -}"},
      {"nul byte", std::string("{\"model\":\0\"x\"}", 14)},
      {"deep array 200", nest(200, "[", "", "]")},
      {"deep object 200", nest(200, "{\"a\":", "1", "}")},
      {"unclosed deep", std::string(5000, '[')},
      {"closing only", "}}}}"},
      {"xml", "<xml>hi</xml>"},
      {"form data", "messages=hi&model=x"},
  };
  for (const std::string& path : {chat, completions, ochat, ogen, std::string("/tokenize"),
                                  std::string("/detokenize"), std::string("/api/show")})
    for (const auto& [name, body] : not_json) add(path + ": " + name, path, body);

  // 2. Wrong types and out-of-range values for every OpenAI field.
  const std::vector<std::pair<std::string, std::vector<json>>> openai_fields = {
      {"model", {42, json::array(), json::object(), true}},
      {"messages", {"hi", 42, json::object(), true, json::array()}},
      {"temperature", {"hot", -1, -0.001, 2.5, 1e308, json::array(), true}},
      {"top_p", {"x", 2, -0.5, 1.0001, json::object()}},
      {"top_k", {"5", -1, 1.5, 1e12, json::array()}},
      {"min_p", {"x", -0.1, 1.5}},
      {"seed", {"42", -2, 1.5, 1e30, json::parse("18446744073709551616"), json::array()}},
      {"max_tokens", {"10", 0, -1, 1.5, 1e12, 100000, json::object()}},
      {"max_completion_tokens", {"10", 0, -5, 100000}},
      {"n", {2, 0, "1", 1.5}},
      {"stop",
       {42, json::array({1}), json::array({""}), "", std::string(2000, 's'),
        json::array(
            {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q"}),
        json::object()}},
      {"stream", {"yes", 1, json::object()}},
      {"stream_options", {"x", 1, json{{"include_usage", "yes"}}}},
      {"logprobs", {"x", -1, 21, json::object()}},
      {"top_logprobs", {-1, 21, "5", 1.5}},
      {"frequency_penalty", {"x", -2.5, 3}},
      {"presence_penalty", {"x", -3, 2.01}},
      {"repeat_penalty", {"x", 0, -1, 11}},
      {"repeat_last_n", {"x", -2, 1.5}},
      {"user", {42, json::array()}},
      {"logit_bias", {"x", 42, json{{"1", "x"}}, json{{"1", 101}}}},
      {"tools",
       {"x", 42, json::object(), json::array({42}), json::array({{{"type", "function"}}}),
        json::array({{{"function", {{"name", 42}}}}})}},
      {"tool_choice", {42, "sometimes", json::array()}},
      {"reasoning_effort", {42, "extreme"}},
      {"chat_template_kwargs", {"x", json{{"enable_thinking", "yes"}}}},
      {"parallel_tool_calls", {"x", 1}},
  };
  for (const auto& [key, values] : openai_fields)
    for (const json& v : values) {
      json body = chat_body(hello);
      body[key] = v;
      add_json(chat + ": " + key + " = " + v.dump().substr(0, 40), chat, body);
    }
  for (const char* key : {"temperature", "top_p", "seed", "max_tokens", "stop", "logprobs", "n"})
    for (const json& v : {json::array({json::object()}), json(-7), json::object()}) {
      json body = {{"prompt", "hi"}, {"max_tokens", 2}};
      body[key] = v;
      add_json(completions + ": " + key + " = " + v.dump(), completions, body);
    }

  // 3. Broken messages.
  const std::vector<std::pair<std::string, json>> bad_messages = {
      {"missing", json::object()},
      {"empty", json::array()},
      {"not objects", json::array({"hi"})},
      {"null element", json::array({nullptr})},
      {"no role", json::array({{{"content", "hi"}}})},
      {"role number", json::array({{{"role", 1}, {"content", "hi"}}})},
      {"unknown role", json::array({{{"role", "wizard"}, {"content", "hi"}}})},
      {"empty role", json::array({{{"role", ""}, {"content", "hi"}}})},
      {"role with NUL", json::array({{{"role", std::string("user\0", 5)}, {"content", "hi"}}})},
      {"user without content", json::array({{{"role", "user"}}})},
      {"content number", json::array({user_message(42)})},
      {"content object", json::array({user_message(json::object())})},
      {"content bool", json::array({user_message(true)})},
      {"part not object", json::array({user_message(json::array({"hi"}))})},
      {"part without type", json::array({user_message(json::array({{{"text", "hi"}}}))})},
      {"part type number", json::array({user_message(json::array({{{"type", 3}}}))})},
      {"part unknown type", json::array({user_message(json::array({{{"type", "hologram"}}}))})},
      {"text part without text", json::array({user_message(json::array({{{"type", "text"}}}))})},
      {"text part number",
       json::array({user_message(json::array({{{"type", "text"}, {"text", 1}}}))})},
      {"image part without url",
       json::array({user_message(json::array({{{"type", "image_url"}}}))})},
      {"image url number",
       json::array({user_message(json::array({{{"type", "image_url"}, {"image_url", 42}}}))})},
      {"image url object without url",
       json::array(
           {user_message(json::array({{{"type", "image_url"}, {"image_url", json::object()}}}))})},
      {"audio part not object",
       json::array({user_message(json::array({{{"type", "input_audio"}, {"input_audio", "x"}}}))})},
      {"audio without data",
       json::array({user_message(
           json::array({{{"type", "input_audio"}, {"input_audio", {{"format", "wav"}}}}}))})},
      {"audio data number",
       json::array({user_message(json::array(
           {{{"type", "input_audio"}, {"input_audio", {{"data", 5}, {"format", "wav"}}}}}))})},
      {"audio format number",
       json::array({user_message(json::array(
           {{{"type", "input_audio"}, {"input_audio", {{"data", "AAAA"}, {"format", 5}}}}}))})},
      {"reasoning number",
       json::array({{{"role", "assistant"}, {"content", "x"}, {"reasoning_content", 5}}})},
      {"tool_calls object", json::array({{{"role", "assistant"}, {"tool_calls", json::object()}}})},
      {"tool call not object", json::array({{{"role", "assistant"}, {"tool_calls", {1}}}})},
      {"tool call without function",
       json::array({{{"role", "assistant"}, {"tool_calls", {{{"id", "a"}}}}}})},
      {"tool call without name",
       json::array({{{"role", "assistant"}, {"tool_calls", {{{"function", json::object()}}}}}})},
      {"tool call name number",
       json::array({{{"role", "assistant"}, {"tool_calls", {{{"function", {{"name", 1}}}}}}}})},
      {"tool call arguments number",
       json::array({{{"role", "assistant"},
                     {"tool_calls", {{{"function", {{"name", "f"}, {"arguments", 1}}}}}}}})},
      {"tool call id number",
       json::array({{{"role", "assistant"},
                     {"tool_calls", {{{"id", 1}, {"function", {{"name", "f"}}}}}}}})},
      {"tool_call_id number",
       json::array({{{"role", "tool"}, {"content", "x"}, {"tool_call_id", 1}}})},
      {"tool name number", json::array({{{"role", "tool"}, {"content", "x"}, {"name", 1}}})},
  };
  for (const auto& [name, msgs] : bad_messages) {
    json body = chat_body(msgs);
    if (name == "missing") body.erase("messages");
    add_json(chat + ": messages " + name, chat, body);
  }

  // 4. Media: broken base64, data URLs, schemes, image and audio bytes.
  const std::vector<std::pair<std::string, std::string>> bad_urls = {
      {"base64 garbage", "data:image/png;base64,@@@!"},
      {"base64 bad padding", "data:image/png;base64,abc"},
      {"base64 padding only", "data:image/png;base64,===="},
      {"base64 empty", "data:image/png;base64,"},
      {"base64 inner padding", "data:image/png;base64,QQ==QQ=="},
      {"data url without comma", "data:image/png;base64"},
      {"data url not base64", "data:image/png,hello"},
      {"data url percent", "data:,%89PNG"},
      {"data url no mime", "data:;base64"},
      {"file url", "file:///etc/passwd"},
      {"remote url", "http://127.0.0.1:1/x.png"},
      {"https url", "https://example.com/x.png"},
      {"ftp url", "ftp://example.com/x.png"},
      {"javascript url", "javascript:alert(1)"},
      {"relative path", "/etc/passwd"},
      {"empty url", ""},
  };
  for (const auto& [name, url] : bad_urls) {
    add_json(chat + ": image " + name, chat,
             chat_body(json::array({user_message(json::array({image_part(url)}))})));
    json video = {{"type", "video_url"}, {"video_url", {{"url", url}}}};
    add_json(chat + ": video " + name, chat,
             chat_body(json::array({user_message(json::array({video}))})));
  }
  for (const auto& [name, bytes] : bad_images()) {
    add_json(chat + ": image bytes " + name, chat,
             chat_body(json::array({user_message(
                 json::array({image_part("data:image/png;base64," + b64(bytes))}))})));
    add_json(ochat + ": image bytes " + name, ochat,
             {{"stream", false},
              {"messages",
               json::array({{{"role", "user"}, {"content", "x"}, {"images", {b64(bytes)}}}})}});
    add_json(ogen + ": image bytes " + name, ogen,
             {{"stream", false}, {"prompt", "x"}, {"images", {b64(bytes)}}});
  }
  for (const auto& [name, bytes] : bad_audio()) {
    json part = {{"type", "input_audio"},
                 {"input_audio", {{"data", b64(bytes)}, {"format", "wav"}}}};
    add_json(chat + ": audio bytes " + name, chat,
             chat_body(json::array({user_message(json::array({part}))})));
    json video = {{"type", "video_url"},
                  {"video_url", {{"url", "data:video/mp4;base64," + b64(bytes)}}}};
    add_json(chat + ": video bytes " + name, chat,
             chat_body(json::array({user_message(json::array({video}))})));
  }
  for (const char* bad : {"not base64!", "", "====", "abc"}) {
    add_json(
        ochat + ": images " + bad, ochat,
        {{"messages", json::array({{{"role", "user"}, {"content", "x"}, {"images", {bad}}}})}});
    add_json(ogen + ": images " + std::string(bad), ogen, {{"prompt", "x"}, {"images", {bad}}});
  }

  // 5. Ollama fields and options.
  const std::vector<std::pair<std::string, std::vector<json>>> ollama_options = {
      {"temperature", {"hot", -1, 101, json::array()}},
      {"top_p", {"x", 2, -1}},
      {"top_k", {"5", -1, 0.5}},
      {"min_p", {-1, 2}},
      {"seed", {"1", -2, 1e30, 0.5}},
      {"repeat_penalty", {0, -1, "x"}},
      {"repeat_last_n", {-2, "x"}},
      {"presence_penalty", {5, "x"}},
      {"frequency_penalty", {-5, json::object()}},
      {"stop", {1, json::array({2}), json::array({""})}},
      {"num_ctx", {0, "x", -1}},
      {"num_predict", {-3, "x", 1.5}},
      {"num_keep", {"x"}},
      {"typical_p", {"x"}},
      {"mirostat", {"x", 0.5}},
      {"use_mmap", {"x", 1}},
      {"num_thread", {"x"}},
  };
  for (const auto& [key, values] : ollama_options)
    for (const json& v : values) {
      json body = {{"stream", false}, {"messages", hello}, {"options", {{key, v}}}};
      add_json(ochat + ": options." + key + " = " + v.dump(), ochat, body);
      json gen = {{"stream", false}, {"prompt", "hi"}, {"options", {{key, v}}}};
      add_json(ogen + ": options." + key + " = " + v.dump(), ogen, gen);
    }
  const std::vector<std::pair<std::string, json>> ollama_bodies = {
      {"options string", {{"messages", hello}, {"options", "x"}}},
      {"options array", {{"messages", hello}, {"options", json::array()}}},
      {"stream string", {{"messages", hello}, {"stream", "no"}}},
      {"think number", {{"messages", hello}, {"think", 3}}},
      {"model number", {{"messages", hello}, {"model", 3}}},
      {"keep_alive object", {{"messages", hello}, {"keep_alive", json::object()}}},
      {"messages missing", {{"model", "x"}}},
      {"messages string", {{"messages", "hi"}}},
      {"message not object", {{"messages", {1}}}},
      {"message unknown role", {{"messages", {{{"role", "god"}, {"content", "x"}}}}}},
      {"message no role", {{"messages", {{{"content", "x"}}}}}},
      {"message content number", {{"messages", {{{"role", "user"}, {"content", 1}}}}}},
      {"message images object", {{"messages", {{{"role", "user"}, {"images", json::object()}}}}}},
      {"message image number", {{"messages", {{{"role", "user"}, {"images", {1}}}}}}},
      {"message thinking number", {{"messages", {{{"role", "assistant"}, {"thinking", 1}}}}}},
      {"message tool_calls object",
       {{"messages", {{{"role", "assistant"}, {"tool_calls", json::object()}}}}}},
      {"message tool_name number", {{"messages", {{{"role", "tool"}, {"tool_name", 1}}}}}},
      {"tools object", {{"messages", hello}, {"tools", json::object()}}},
  };
  for (const auto& [name, body] : ollama_bodies) add_json(ochat + ": " + name, ochat, body);
  const std::vector<std::pair<std::string, json>> generate_bodies = {
      {"prompt number", {{"prompt", 1}}},
      {"prompt array", {{"prompt", {"a"}}}},
      {"system number", {{"prompt", "x"}, {"system", 1}}},
      {"raw string", {{"prompt", "x"}, {"raw", "yes"}}},
      {"images string", {{"prompt", "x"}, {"images", "abc"}}},
      {"images number element", {{"prompt", "x"}, {"images", {1}}}},
      {"stream number", {{"prompt", "x"}, {"stream", 1}}},
      {"think array", {{"prompt", "x"}, {"think", json::array()}}},
      {"options number", {{"prompt", "x"}, {"options", 1}}},
  };
  for (const auto& [name, body] : generate_bodies) add_json(ogen + ": " + name, ogen, body);

  // 6. /v1/completions prompts.
  const std::vector<std::pair<std::string, json>> bad_prompts = {
      {"missing", nullptr},
      {"number", 42},
      {"object", json::object()},
      {"bool", true},
      {"empty array", json::array()},
      {"two strings", json::array({"a", "b"})},
      {"string in ids", json::array({1, "x"})},
      {"negative id", json::array({-1})},
      {"id past vocab", json::array({262144})},
      {"float id", json::array({1.5})},
      {"huge id", json::array({1e30})},
      {"nested ids", json::array({json::array({1})})},
  };
  for (const auto& [name, p] : bad_prompts) {
    json body = {{"max_tokens", 2}};
    if (!p.is_null()) body["prompt"] = p;
    add_json(completions + ": prompt " + name, completions, body);
  }

  // 7. Deep nesting where each crash was reported, and elsewhere.
  for (int depth : {129, 1000, 100000}) {
    const std::string d = std::to_string(depth);
    const std::string deep_obj = nest(depth, "{\"a\":", "1", "}");
    const std::string deep_arr = nest(depth, "[", "", "]");
    add(chat + ": tools parameters nested " + d, chat,
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"parameters\":" +
            deep_obj + "}}]}");
    add(chat + ": tool_calls arguments object nested " + d, chat,
        "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
        "\"arguments\":" +
            deep_obj + "}}]}]}");
    add(chat + ": tool_calls arguments string nested " + d, chat,
        json{{"messages",
              {{{"role", "assistant"},
                {"tool_calls", {{{"function", {{"name", "f"}, {"arguments", deep_arr}}}}}}}}}}
            .dump());
    add(ochat + ": tools nested " + d, ochat,
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[" + deep_obj + "]}");
    add(ochat + ": options nested " + d, ochat,
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":" + deep_obj + "}");
    add(completions + ": prompt nested " + d, completions, "{\"prompt\":" + deep_arr + "}");
    add(chat + ": content nested " + d, chat,
        "{\"messages\":[{\"role\":\"user\",\"content\":" + deep_arr + "}]}");
    add(chat + ": stop nested " + d, chat,
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":" + deep_arr + "}");
    add(ogen + ": top level nested " + d, ogen, "{\"prompt\":\"x\",\"x\":" + deep_arr + "}");
    add("/tokenize: content nested " + d, "/tokenize", "{\"content\":" + deep_arr + "}");
  }
  add(completions + ": prompt nested 1000000", completions,
      "{\"prompt\":" + nest(1000000, "[", "", "]") + "}");

  // 8. Absurd sizes.
  add_json(chat + ": 2 MB one-word message", chat,
           chat_body(json::array({user_message(std::string(2u << 20, 'a'))})));
  add_json(completions + ": 2 MB prompt", completions,
           {{"prompt", std::string(2u << 20, 'x')}, {"max_tokens", 1}});
  add_json(ogen + ": 2 MB prompt", ogen,
           {{"prompt", std::string(2u << 20, 'y')}, {"stream", false}});
  add_json(
      ochat + ": 2 MB message", ochat,
      {{"stream", false}, {"messages", json::array({user_message(std::string(2u << 20, 'z'))})}});
  add_json("/tokenize: 2 MB content", "/tokenize", {{"content", std::string(2u << 20, 't')}});
  {
    json many = json::array();
    for (int i = 0; i < 5000; ++i) many.push_back(user_message("message " + std::to_string(i)));
    add_json(chat + ": 5000 messages", chat, chat_body(many));
  }
  add(chat + ": 21 MB body", chat, "{\"messages\":\"" + std::string(21u << 20, 'q') + "\"}");

  // 9. Small routes.
  const std::vector<std::pair<std::string, json>> tokenize_bodies = {
      {"content missing", json::object()},
      {"content number", {{"content", 1}}},
      {"add_special string", {{"content", "x"}, {"add_special", "yes"}}},
      {"with_pieces number", {{"content", "x"}, {"with_pieces", 1}}},
  };
  for (const auto& [name, body] : tokenize_bodies)
    add_json("/tokenize: " + name, "/tokenize", body);
  const std::vector<std::pair<std::string, json>> detokenize_bodies = {
      {"tokens missing", json::object()},     {"tokens string", {{"tokens", "1 2"}}},
      {"token negative", {{"tokens", {-1}}}}, {"token past vocab", {{"tokens", {262144}}}},
      {"token string", {{"tokens", {"1"}}}},  {"token float", {{"tokens", {1.5}}}},
  };
  for (const auto& [name, body] : detokenize_bodies)
    add_json("/detokenize: " + name, "/detokenize", body);
  add_json("/api/show: model number", "/api/show", {{"model", 1}});
  for (const char* path : {"/v1/nothing", "/api/nothing", "/v1/chat/completions/x",
                                  "/api/chat/x", "/%00", "/../etc/passwd"})
    add_json(std::string("unknown route ") + path, path, {{"model", "x"}});
  for (const std::string& path : {chat, completions, ochat, ogen, std::string("/tokenize")})
    out.push_back({"GET " + path, "GET", path, ""});
  return out;
}

}  // namespace ug::test
