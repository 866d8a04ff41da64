// Hostile and broken requests: every one gets a JSON error with the right status, and media
// inputs go through the multimodal front end.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

#include <cmath>

#include "server/base64.h"
#include "server_test_util.h"

namespace ug::test {
namespace {

std::vector<uint8_t> png_bytes(int w, int h) {
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 37) % 251);
  std::vector<uint8_t> out;
  stbi_write_png_to_func(
      [](void* ctx, void* data, int n) {
        auto* v = static_cast<std::vector<uint8_t>*>(ctx);
        v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + n);
      },
      &out, w, h, 3, px.data(), w * 3);
  return out;
}

std::vector<uint8_t> wav_bytes(double seconds, int rate = 16000) {
  const uint32_t n = static_cast<uint32_t>(seconds * rate);
  std::vector<uint8_t> b;
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  auto u16 = [&](uint16_t v) {
    b.push_back(static_cast<uint8_t>(v));
    b.push_back(static_cast<uint8_t>(v >> 8));
  };
  auto tag = [&](const char* t) { b.insert(b.end(), t, t + 4); };
  tag("RIFF");
  u32(36 + n * 2);
  tag("WAVE");
  tag("fmt ");
  u32(16);
  u16(1);
  u16(1);
  u32(rate);
  u32(rate * 2);
  u16(2);
  u16(16);
  tag("data");
  u32(n * 2);
  for (uint32_t i = 0; i < n; ++i)
    u16(static_cast<uint16_t>(static_cast<int16_t>(8000 * std::sin(i * 0.05))));
  return b;
}

std::string data_url(const std::string& mime, const std::vector<uint8_t>& bytes) {
  return "data:" + mime + ";base64," + server::base64_encode(bytes.data(), bytes.size());
}

json image_chat(const std::string& url) {
  json content = json::array({{{"type", "text"}, {"text", "What is this?"}},
                              {{"type", "image_url"}, {"image_url", {{"url", url}}}}});
  return {{"messages", json::array({{{"role", "user"}, {"content", content}}})},
          {"max_tokens", 2},
          {"temperature", 0}};
}

class Errors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server::ServerOptions so;
    so.max_body_bytes = 20u << 20;
    so.media.max_pixels = 1'000'000;
    so.media.max_audio_seconds = 5;
    server_ = new TestServer(so);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static void expect_error(int want, const std::pair<int, json>& got, const char* param = nullptr) {
    EXPECT_EQ(got.first, want) << got.second.dump();
    ASSERT_TRUE(got.second.is_object()) << "error bodies are JSON";
    ASSERT_TRUE(got.second.contains("error")) << got.second.dump();
    const json& e = got.second["error"];
    EXPECT_TRUE(e["message"].is_string());
    EXPECT_FALSE(e["message"].get<std::string>().empty());
    EXPECT_TRUE(e["type"].is_string());
    EXPECT_TRUE(e.contains("param"));
    EXPECT_TRUE(e.contains("code"));
    if (param) {
      EXPECT_EQ(e["param"], param) << e.dump();
    }
  }
  // Ollama's routes answer {"error": "message"}; the message names the field.
  static void expect_ollama_error(int want, const std::pair<int, json>& got,
                                  const char* field = nullptr) {
    EXPECT_EQ(got.first, want) << got.second.dump();
    ASSERT_TRUE(got.second.is_object()) << "error bodies are JSON";
    ASSERT_TRUE(got.second["error"].is_string()) << got.second.dump();
    if (field) {
      EXPECT_NE(got.second["error"].get<std::string>().find(field), std::string::npos)
          << got.second.dump();
    }
  }
  static TestServer* server_;
};
TestServer* Errors::server_ = nullptr;

TEST_F(Errors, InvalidJsonAndWrongTypes) {
  auto c = server_->client();
  auto r = c.post("/v1/chat/completions", "{\"messages\": [", "application/json");
  ASSERT_TRUE(r);
  expect_error(400, {r->status, parse_json(r->body)});
  r = c.post("/v1/chat/completions", "[1,2]", "application/json");
  expect_error(400, {r->status, parse_json(r->body)});
  json body = user_chat("hi", 2);
  body["temperature"] = "hot";
  expect_error(400, post(c, "/v1/chat/completions", body), "temperature");
  body = user_chat("hi", 2);
  body["max_tokens"] = 1.5;
  expect_error(400, post(c, "/v1/chat/completions", body), "max_tokens");
  body = user_chat("hi", 2);
  body["max_tokens"] = 100000;  // above the server's --max-tokens
  expect_error(400, post(c, "/v1/chat/completions", body), "max_tokens");
  body = user_chat("hi", 2);
  body["messages"][0]["content"] = 42;
  expect_error(400, post(c, "/v1/chat/completions", body), "messages[0].content");
  body = user_chat("hi", 2);
  body["stop"] = json::array({1});
  expect_error(400, post(c, "/v1/chat/completions", body), "stop[0]");
  expect_error(400, post(c, "/v1/chat/completions", {{"messages", json::array()}}), "messages");
  expect_ollama_error(400, post(c, "/api/chat", {{"messages", "nope"}}), "messages");
  expect_error(400, post(c, "/v1/completions", {{"prompt", json::array({1, "x"})}}), "prompt");
  expect_ollama_error(400,
                      post(c, "/api/generate", {{"prompt", "x"}, {"options", {{"top_k", "5"}}}}),
                      "options.top_k");
}

TEST_F(Errors, UnknownRoleAndPartType) {
  auto c = server_->client();
  json body = user_chat("hi", 2);
  body["messages"][0]["role"] = "wizard";
  expect_error(400, post(c, "/v1/chat/completions", body), "messages[0].role");
  body = user_chat("hi", 2);
  body["messages"][0]["content"] = json::array({{{"type", "hologram"}}});
  expect_error(400, post(c, "/v1/chat/completions", body), "messages[0].content[0].type");
}

TEST_F(Errors, BrokenMedia) {
  auto c = server_->client();
  expect_error(400, post(c, "/v1/chat/completions", image_chat("data:image/png;base64,@@@!")));
  std::vector<uint8_t> png = png_bytes(64, 48);
  std::vector<uint8_t> truncated(png.begin(), png.begin() + static_cast<long>(png.size() / 2));
  expect_error(400, post(c, "/v1/chat/completions", image_chat(data_url("image/png", truncated))));
  // No file access, no network: other schemes and remote URLs are refused.
  expect_error(400, post(c, "/v1/chat/completions", image_chat("file:///etc/passwd")));
  expect_error(400, post(c, "/v1/chat/completions", image_chat("http://127.0.0.1:1/x.png")));
  // Ollama images must be base64 too.
  expect_ollama_error(400,
                      post(c, "/api/generate", {{"prompt", "x"}, {"images", {"not base64!"}}}));
  // Over the pixel limit (1 MP here): refused before decoding the pixels.
  expect_error(400, post(c, "/v1/chat/completions",
                         image_chat(data_url("image/png", png_bytes(1200, 1000)))));
  // Over the audio limit (5 s here).
  json content =
      json::array({{{"type", "input_audio"},
                    {"input_audio",
                     {{"data", server::base64_encode(wav_bytes(6).data(), wav_bytes(6).size())},
                      {"format", "wav"}}}}});
  expect_error(400, post(c, "/v1/chat/completions",
                         {{"messages", json::array({{{"role", "user"}, {"content", content}}})},
                          {"max_tokens", 1}}));
}

TEST_F(Errors, ValidImageAndAudioAreAccepted) {
  auto c = server_->client();
  auto [s1, j1] =
      post(c, "/v1/chat/completions", image_chat(data_url("image/png", png_bytes(64, 48))));
  EXPECT_EQ(s1, 200) << j1.dump();
  // The image's soft tokens are part of the prompt.
  auto [s0, j0] = post(c, "/v1/chat/completions", user_chat("What is this?", 2));
  EXPECT_GT(j1["usage"]["prompt_tokens"].get<int>(), j0["usage"]["prompt_tokens"].get<int>() + 3);
  std::vector<uint8_t> wav = wav_bytes(1.0);
  json content =
      json::array({{{"type", "input_audio"},
                    {"input_audio",
                     {{"data", server::base64_encode(wav.data(), wav.size())}, {"format", "wav"}}}},
                   {{"type", "text"}, {"text", "Transcribe"}}});
  auto [s2, j2] = post(
      c, "/v1/chat/completions",
      {{"messages", json::array({{{"role", "user"}, {"content", content}}})}, {"max_tokens", 2}});
  EXPECT_EQ(s2, 200) << j2.dump();
  std::vector<uint8_t> png = png_bytes(32, 32);
  auto [s3, j3] = post(
      c, "/api/chat",
      {{"stream", false},
       {"options", {{"num_predict", 2}}},
       {"messages", json::array({{{"role", "user"},
                                  {"content", "see"},
                                  {"images", {server::base64_encode(png.data(), png.size())}}}})}});
  EXPECT_EQ(s3, 200) << j3.dump();
}

TEST_F(Errors, HugeTextFieldAndBodyLimit) {
  auto c = server_->client(120);
  // 10 MB of text fits the body limit but not the context: 400, not a crash or a hang.
  json body = user_chat(std::string(10u << 20, 'a'), 2);
  expect_error(400, post(c, "/v1/chat/completions", body));
  // 21 MB does not fit the body limit.
  body = user_chat(std::string(21u << 20, 'a'), 2);
  auto r = c.post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // Still serving.
  EXPECT_EQ(post(c, "/v1/chat/completions", user_chat("still there?", 1)).first, 200);
}

TEST_F(Errors, UnknownRouteIsJson404) {
  auto c = server_->client();
  auto r = c.get("/v1/unknown");
  ASSERT_TRUE(r);
  expect_error(404, {r->status, parse_json(r->body)});
}

TEST(Auth, ApiKeyGuardsEveryRouteButHealth) {
  server::ServerOptions so;
  so.api_key = "s3cret";
  TestServer s(so);
  auto c = s.client();
  EXPECT_EQ(c.get("/health")->status, 200);
  for (const char* path : {"/v1/models", "/metrics", "/api/tags", "/api/version"}) {
    auto r = c.get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << path;
    const json e = parse_json(r->body)["error"];
    if (std::string(path).rfind("/api/", 0) == 0) {
      EXPECT_NE(e.get<std::string>().find("API key"), std::string::npos) << e.dump();
    } else {
      EXPECT_EQ(e["code"], "invalid_api_key");
    }
  }
  EXPECT_EQ(post(c, "/v1/chat/completions", user_chat("hi", 1)).first, 401);
  EXPECT_EQ(post(c, "/v1/chat/completions", user_chat("hi", 1), {{"Authorization", "Bearer wrong"}})
                .first,
            401);
  EXPECT_EQ(
      post(c, "/v1/chat/completions", user_chat("hi", 1), {{"Authorization", "Bearer s3cret"}})
          .first,
      200);
  EXPECT_EQ(c.get("/v1/models", {{"Authorization", "Bearer s3cret"}})->status, 200);
}

}  // namespace
}  // namespace ug::test
