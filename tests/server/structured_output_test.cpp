// Structured output through the server: with random weights only the constraint can make the
// answer valid, so a valid answer proves the constraint was applied.
#include <gtest/gtest.h>

#include <future>

#include "server_test_util.h"

namespace ug::test {
namespace {

const json kPerson = json::parse(R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 12},
    "age": {"type": "integer", "minimum": 0, "maximum": 120},
    "pet": {"enum": ["cat", "dog", null]},
    "tags": {"type": "array", "items": {"type": "boolean"}, "maxItems": 3}
  },
  "required": ["name", "age", "pet", "tags"],
  "additionalProperties": false
})");

// Checks what the schema above asks for, independently of the grammar.
void expect_person(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON: " << text;
  ASSERT_TRUE(j.is_object()) << text;
  EXPECT_EQ(j.size(), 4u) << text;
  ASSERT_TRUE(j["name"].is_string()) << text;
  EXPECT_LE(j["name"].get<std::string>().size(), 12u * 4) << text;  // characters, not bytes
  ASSERT_TRUE(j["age"].is_number_integer()) << text;
  EXPECT_GE(j["age"].get<int>(), 0);
  EXPECT_LE(j["age"].get<int>(), 120);
  EXPECT_TRUE(j["pet"].is_null() || j["pet"] == "cat" || j["pet"] == "dog") << text;
  ASSERT_TRUE(j["tags"].is_array()) << text;
  EXPECT_LE(j["tags"].size(), 3u);
  for (const auto& t : j["tags"]) EXPECT_TRUE(t.is_boolean()) << text;
}

json chat(const std::string& text, int seed) {
  json body = user_chat(text, 300, seed, 1.0);
  return body;
}

TEST(StructuredOutput, OpenAIJsonSchemaBatchedAndStreamed) {
  TestServer ts;
  auto ask = [&](int seed, bool stream) {
    auto c = ts.client(120);
    json body = chat("Describe someone", seed);
    body["response_format"] = {{"type", "json_schema"},
                               {"json_schema", {{"name", "person"}, {"schema", kPerson}}}};
    body["stream"] = stream;
    auto r = c.post("/v1/chat/completions", body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return std::string();
    EXPECT_EQ(r->status, 200) << r->body;
    if (!stream) {
      json j = parse_json(r->body);
      EXPECT_EQ(j["choices"][0]["finish_reason"], "stop") << r->body;
      return j["choices"][0]["message"]["content"].get<std::string>();
    }
    std::string text;
    for (const auto& e : sse_events(r->body)) {
      if (e == "[DONE]") break;
      json j = parse_json(e);
      if (!j["choices"].empty() && j["choices"][0]["delta"].contains("content") &&
          j["choices"][0]["delta"]["content"].is_string())
        text += j["choices"][0]["delta"]["content"].get<std::string>();
    }
    return text;
  };
  auto a = std::async(std::launch::async, ask, 1, false);
  auto b = std::async(std::launch::async, ask, 2, true);
  expect_person(a.get());
  expect_person(b.get());
}

TEST(StructuredOutput, JsonObjectGrammarAndOllamaFormat) {
  TestServer ts;
  auto c = ts.client(120);
  json body = chat("JSON please", 3);
  body["response_format"] = {{"type", "json_object"}};
  auto [status, j] = post(c, "/v1/chat/completions", body);
  ASSERT_EQ(status, 200) << j.dump();
  // Any JSON object: unbounded strings let random weights run to the token limit, so a valid
  // object is only required of a finished answer; either way it is an object's opening.
  const std::string any = j["choices"][0]["message"]["content"];
  EXPECT_EQ(any.substr(0, 1), "{") << any;
  if (j["choices"][0]["finish_reason"] == "stop")
    EXPECT_TRUE(json::parse(any, nullptr, false).is_object()) << any;

  body = chat("yes or no?", 4);
  body["grammar"] = "root ::= (\"yes\" | \"no\") \"!\"";
  std::tie(status, j) = post(c, "/v1/chat/completions", body);
  ASSERT_EQ(status, 200) << j.dump();
  const std::string yn = j["choices"][0]["message"]["content"];
  EXPECT_TRUE(yn == "yes!" || yn == "no!") << yn;

  json ollama = {{"model", "tiny"},
                 {"messages", json::array({{{"role", "user"}, {"content", "Someone"}}})},
                 {"stream", false},
                 {"format", kPerson},
                 {"options", {{"num_predict", 300}, {"seed", 5}}}};
  std::tie(status, j) = post(c, "/api/chat", ollama);
  ASSERT_EQ(status, 200) << j.dump();
  expect_person(j["message"]["content"].get<std::string>());
  ollama["format"] = "json";
  std::tie(status, j) = post(c, "/api/chat", ollama);
  ASSERT_EQ(status, 200) << j.dump();
  const std::string any2 = j["message"]["content"];
  EXPECT_EQ(any2.substr(0, 1), "{") << any2;
  if (j["done_reason"] == "stop")
    EXPECT_TRUE(json::parse(any2, nullptr, false).is_object()) << any2;
}

TEST(StructuredOutput, ForcedToolCallHasSchemaArguments) {
  TestServer ts;
  auto c = ts.client(120);
  json body = chat("What is the weather?", 6);
  body["tools"] = json::array(
      {{{"type", "function"},
        {"function",
         {{"name", "get_weather"},
          {"parameters",
           {{"type", "object"},
            {"properties",
             {{"city", {{"type", "string"}, {"maxLength", 10}}},
              {"unit", {{"enum", {"c", "f"}}}}}},
            {"required", {"city", "unit"}}}}}}}});
  body["tool_choice"] = "required";
  auto [status, j] = post(c, "/v1/chat/completions", body);
  ASSERT_EQ(status, 200) << j.dump();
  const json& msg = j["choices"][0]["message"];
  ASSERT_TRUE(msg.contains("tool_calls")) << j.dump();
  ASSERT_GE(msg["tool_calls"].size(), 1u) << j.dump();
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
  const json& call = msg["tool_calls"][0];
  EXPECT_EQ(call["function"]["name"], "get_weather");
  json args = json::parse(call["function"]["arguments"].get<std::string>(), nullptr, false);
  ASSERT_TRUE(args.is_object()) << call.dump();
  EXPECT_TRUE(args["city"].is_string()) << call.dump();
  EXPECT_TRUE(args["unit"] == "c" || args["unit"] == "f") << call.dump();

  body["tool_choice"] = {{"type", "function"}, {"function", {{"name", "nope"}}}};
  std::tie(status, j) = post(c, "/v1/chat/completions", body);
  EXPECT_EQ(status, 400) << j.dump();
}

TEST(StructuredOutput, UnsupportedKeywordIsA400NamingIt) {
  TestServer ts;
  auto c = ts.client();
  json body = chat("x", 1);
  body["response_format"] = json::parse(R"({"type": "json_schema", "json_schema": {"name": "x",
      "schema": {"type": "object", "properties": {"a": {"not": {"type": "null"}}}}}})");
  auto [status, j] = post(c, "/v1/chat/completions", body);
  EXPECT_EQ(status, 400);
  const std::string msg = j["error"]["message"];
  EXPECT_NE(msg.find("\"not\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("/properties/a"), std::string::npos) << msg;
  body["response_format"] = {{"type", "xml"}};
  std::tie(status, j) = post(c, "/v1/chat/completions", body);
  EXPECT_EQ(status, 400);
}

}  // namespace
}  // namespace ug::test
