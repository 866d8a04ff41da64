// Issue 12's request-level hardening: deeply nested bodies, sampling parameters, seeds, error
// shapes per route, prompts too long to tokenize. Requests go over a plain socket.
#include "raw_http.h"
#include "server_test_util.h"

namespace ug::test {
namespace {

std::string nested_object(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s.append(static_cast<size_t>(depth), '}');
  return s;
}

// A valid JSON Schema `depth` objects deep: arrays of arrays of anything.
std::string nested_items_schema(int depth) {
  std::string s;
  for (int i = 1; i < depth; ++i) s += "{\"items\":";
  s += "{}";
  s.append(static_cast<size_t>(depth - 1), '}');
  return s;
}

std::string nested_array(int depth) {
  return std::string(static_cast<size_t>(depth), '[') +
         std::string(static_cast<size_t>(depth), ']');
}

class Validation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::pair<int, json> send(const std::string& path, const std::string& body) {
    const RawResponse r =
        raw_exchange(server_->port, raw_request(server_->port, "POST", path, body), 120);
    const json j = json::parse(r.body, nullptr, false);
    return {r.status, j.is_discarded() ? json(nullptr) : j};
  }
  static std::pair<int, json> send(const std::string& path, const json& body) {
    return send(path, body.dump());
  }
  static bool alive() {
    return raw_exchange(server_->port, raw_request(server_->port, "GET", "/health", "")).status ==
           200;
  }
  // The error's message, whichever the shape.
  static std::string message(const json& j) {
    if (!j.is_object() || !j.contains("error")) return "";
    const json& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    return e.value("message", std::string());
  }
  static TestServer* server_;
};
TestServer* Validation::server_ = nullptr;

// The four bodies that ended the process with a stack overflow (issue 12, item 1).
TEST_F(Validation, DeeplyNestedBodiesAreRefusedAndTheServerSurvives) {
  const std::string deep = nested_object(100000);
  const std::string user = "{\"role\":\"user\",\"content\":\"hi\"}";
  const std::pair<std::string, std::string> cases[] = {
      {"/v1/chat/completions",
       "{\"messages\":[" + user +
           "],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":" +
           deep + "}}]}"},
      {"/v1/chat/completions",
       "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
       "\"arguments\":" +
           deep + "}}]}," + user + "]}"},
      {"/api/chat", "{\"messages\":[" + user + "],\"tools\":[" + deep + "]}"},
      {"/v1/completions", "{\"prompt\":" + nested_array(1000000) + "}"},
  };
  for (const auto& [path, body] : cases) {
    auto [status, j] = send(path, body);
    EXPECT_EQ(status, 400) << path << ": " << j.dump().substr(0, 300);
    EXPECT_NE(message(j).find("nested more than 128 levels"), std::string::npos) << j.dump();
    ASSERT_TRUE(alive()) << path;
  }
}

TEST_F(Validation, DeepToolCallArgumentsStringIsRefusedNamingTheField) {
  json body = user_chat("hi", 1);
  body["messages"] = json::array(
      {{{"role", "assistant"},
        {"tool_calls", {{{"function", {{"name", "f"}, {"arguments", nested_array(5000)}}}}}}},
       {{"role", "user"}, {"content", "hi"}}});
  auto [status, j] = send("/v1/chat/completions", body);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(j["error"]["param"], "messages[0].tool_calls[0].function.arguments") << j.dump();
  // Arguments that are not JSON at all still go into the prompt as text.
  body["messages"][0]["tool_calls"][0]["function"]["arguments"] = "{not json";
  EXPECT_EQ(send("/v1/chat/completions", body).first, 200);
}

TEST_F(Validation, NestingUpToTheLimitIsAccepted) {
  // 128 levels in all: the body (1), tools (2), the tool (3), function (4), and parameters with
  // the schema objects inside it (5..128), a valid schema (arrays of arrays).
  json body = user_chat("hi", 1);
  json params = json::parse(nested_items_schema(124));
  body["tools"] = {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", params}}}}};
  auto [ok_status, ok_body] = send("/v1/chat/completions", body);
  EXPECT_EQ(ok_status, 200) << ok_body.dump().substr(0, 2000);
  body["tools"][0]["function"]["parameters"] = json::parse(nested_items_schema(125));
  EXPECT_EQ(send("/v1/chat/completions", body).first, 400);
}

TEST_F(Validation, EverySamplingParameterIsCheckedOnBothApis) {
  struct Bad {
    const char* field;
    json value;
  };
  const Bad openai[] = {{"temperature", -1},
                        {"temperature", 2.5},
                        {"top_p", 2},
                        {"top_p", -0.1},
                        {"top_k", -1},
                        {"min_p", 1.5},
                        {"seed", -2},
                        {"seed", 1.5},
                        {"max_tokens", 0},
                        {"frequency_penalty", 3},
                        {"presence_penalty", -3},
                        {"repeat_penalty", 0},
                        {"repeat_last_n", -2},
                        {"n", 2},
                        {"top_logprobs", 21},
                        {"logprobs", 21},
                        {"stop", std::string(1025, 's')},
                        {"logit_bias", {{"1", 101}}},
                        {"parallel_tool_calls", "yes"}};
  for (const Bad& b : openai) {
    for (const char* path : {"/v1/chat/completions", "/v1/completions"}) {
      json body = std::string(path) == "/v1/chat/completions"
                      ? user_chat("hi", 1)
                      : json{{"prompt", "hi"}, {"max_tokens", 1}};
      body[b.field] = b.value;
      auto [status, j] = send(path, body);
      EXPECT_EQ(status, 400) << path << " " << b.field << "=" << b.value.dump();
      EXPECT_EQ(j["error"]["param"], b.field) << j.dump();
    }
  }
  const Bad ollama[] = {{"temperature", -1},   {"temperature", 101},  {"top_p", 2},
                        {"top_k", -1},         {"min_p", -0.5},       {"seed", -2},
                        {"repeat_penalty", 0}, {"repeat_last_n", -2}, {"presence_penalty", 3},
                        {"num_predict", -3},   {"num_ctx", 0},        {"mirostat", "x"}};
  for (const Bad& b : ollama) {
    for (const char* path : {"/api/chat", "/api/generate"}) {
      json body = {{"stream", false}, {"options", {{b.field, b.value}}}};
      if (std::string(path) == "/api/chat")
        body["messages"] = {{{"role", "user"}, {"content", "hi"}}};
      else
        body["prompt"] = "hi";
      auto [status, j] = send(path, body);
      EXPECT_EQ(status, 400) << path << " " << b.field << "=" << b.value.dump();
      ASSERT_TRUE(j["error"].is_string()) << j.dump();
      EXPECT_NE(message(j).find(std::string("options.") + b.field), std::string::npos) << j.dump();
    }
  }
  ASSERT_TRUE(alive());
}

TEST_F(Validation, SeedsTakeEveryUnsigned64BitValueAndMinusOne) {
  for (const char* seed : {"-1", "0", "9223372036854775808", "18446744073709551615", "7.0"}) {
    const std::string body =
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        "\"max_tokens\":1,\"seed\":" +
        std::string(seed) + "}";
    EXPECT_EQ(send("/v1/chat/completions", body).first, 200) << seed;
  }
  for (const char* seed : {"-2", "18446744073709551616", "1e30", "0.5", "\"1\""}) {
    const std::string body =
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        "\"max_tokens\":1,\"seed\":" +
        std::string(seed) + "}";
    auto [status, j] = send("/v1/chat/completions", body);
    EXPECT_EQ(status, 400) << seed;
    EXPECT_EQ(j["error"]["param"], "seed") << j.dump();
  }
  // The same seed gives the same text; -1 is not one fixed seed.
  json body = user_chat("Tell me a story", 8, 0, 1.0);
  body["seed"] = json::parse("18446744073709551615");
  auto a = send("/v1/chat/completions", body), b = send("/v1/chat/completions", body);
  EXPECT_EQ(a.second["choices"][0]["message"]["content"],
            b.second["choices"][0]["message"]["content"]);
}

TEST_F(Validation, OllamaRoutesAnswerErrorsInOllamasShape) {
  auto [s1, j1] = send("/api/chat", std::string("{\"messages\": ["));
  EXPECT_EQ(s1, 400);
  ASSERT_TRUE(j1["error"].is_string()) << j1.dump();
  EXPECT_EQ(j1.size(), 1u) << j1.dump();
  auto [s2, j2] = send("/api/generate", json{{"prompt", "x"}, {"options", {{"top_k", "5"}}}});
  EXPECT_EQ(s2, 400);
  EXPECT_EQ(j2, json({{"error", "options.top_k must be an integer, got string"}}));
  auto [s3, j3] = send("/api/unknown", json::object());
  EXPECT_EQ(s3, 404);
  EXPECT_TRUE(j3["error"].is_string()) << j3.dump();
  // OpenAI routes keep OpenAI's shape.
  auto [s4, j4] = send("/v1/chat/completions", std::string("{\"messages\": ["));
  EXPECT_EQ(s4, 400);
  EXPECT_TRUE(j4["error"]["message"].is_string()) << j4.dump();
  EXPECT_TRUE(j4["error"].contains("type"));
}

TEST(ValidationLoading, OllamaShapeWhileTheModelLoads) {
  TestServer s({}, TestServer::default_engine(), false);
  const RawResponse r =
      raw_exchange(s.port, raw_request(s.port, "POST", "/api/chat",
                                       "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(json::parse(r.body)["error"].is_string()) << r.body;
  const RawResponse o =
      raw_exchange(s.port, raw_request(s.port, "POST", "/v1/chat/completions",
                                       "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
  EXPECT_EQ(o.status, 503);
  EXPECT_TRUE(json::parse(o.body)["error"]["message"].is_string()) << o.body;
}

// A one-word message or /tokenize text that cannot fit the context is refused from its length,
// before the tokenizer runs (issue 12, item 6: 29 s and 26 s of CPU before the 400).
TEST_F(Validation, TextThatCannotFitTheContextIsRefusedBeforeTokenizing) {
  const std::string word(19u << 20, 'a');
  const std::pair<std::string, json> cases[] = {
      {"/v1/chat/completions", user_chat(word, 1)},
      {"/v1/completions", {{"prompt", word}, {"max_tokens", 1}}},
      {"/api/chat", {{"stream", false}, {"messages", {{{"role", "user"}, {"content", word}}}}}},
      {"/api/generate", {{"stream", false}, {"prompt", word}}},
      {"/tokenize", {{"content", word}}},
  };
  for (const auto& [path, body] : cases) {
    auto [status, j] = send(path, body);
    EXPECT_EQ(status, 400) << path;
    // "the prompt is N bytes, at least M tokens": decided from the length alone.
    EXPECT_NE(message(j).find("bytes, at least"), std::string::npos) << j.dump();
    if (path.rfind("/v1/", 0) == 0) {
      EXPECT_EQ(j["error"]["code"], "context_length_exceeded");
    }
  }
  // Text that fits is tokenized as before.
  auto [status, j] = send("/tokenize", json{{"content", "Hello world"}});
  EXPECT_EQ(status, 200);
  EXPECT_EQ(j["tokens"].size(), 2u) << j.dump();
}

}  // namespace
}  // namespace ug::test
