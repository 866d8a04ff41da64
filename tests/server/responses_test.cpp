// The OpenAI Responses API (/v1/responses): the answer and the prompt match the equivalent chat
// completion, the streamed event sequence, previous_response_id, item_reference, the store and
// its errors.
#include "server/response_store.h"
#include "server_test_util.h"

namespace ug::test {
namespace {

class Responses : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static json chat(http::Client& c, json messages, int max_tokens, json extra = json::object()) {
    json body = {{"model", "tiny"},
                 {"messages", std::move(messages)},
                 {"max_tokens", max_tokens},
                 {"temperature", 0},
                 {"seed", 1}};
    body.update(extra);
    auto [status, j] = post(c, "/v1/chat/completions", body);
    EXPECT_EQ(status, 200) << j.dump();
    return j;
  }
  static json respond(http::Client& c, json body, int expect = 200) {
    body["model"] = "tiny";
    if (!body.contains("temperature")) body["temperature"] = 0;
    if (!body.contains("seed")) body["seed"] = 1;
    auto [status, j] = post(c, "/v1/responses", body);
    EXPECT_EQ(status, expect) << j.dump();
    return j;
  }
  static std::string output_text(const json& r) {
    std::string s;
    for (const json& item : r["output"])
      if (item["type"] == "message")
        for (const json& part : item["content"]) s += part["text"].get<std::string>();
    return s;
  }
  static TestServer* server_;
};
TestServer* Responses::server_ = nullptr;

json user(const std::string& text) { return {{"role", "user"}, {"content", text}}; }

TEST_F(Responses, StringInputAnswersLikeTheChatCompletion) {
  auto c = server_->client();
  json r = respond(
      c, {{"input", "Hello there"}, {"instructions", "Be brief."}, {"max_output_tokens", 12}});
  ASSERT_EQ(r["object"], "response") << r.dump();
  EXPECT_EQ(r["id"].get<std::string>().rfind("resp_", 0), 0u);
  EXPECT_TRUE(r["status"] == "completed" || r["status"] == "incomplete") << r.dump();
  if (r["status"] == "incomplete")
    EXPECT_EQ(r["incomplete_details"]["reason"], "max_output_tokens");
  EXPECT_EQ(r["instructions"], "Be brief.");
  EXPECT_EQ(r["max_output_tokens"], 12);
  json ch = chat(
      c, json::array({{{"role", "system"}, {"content", "Be brief."}}, user("Hello there")}), 12);
  EXPECT_EQ(output_text(r), ch["choices"][0]["message"]["content"].get<std::string>());
  EXPECT_EQ(r["usage"]["input_tokens"], ch["usage"]["prompt_tokens"]);
  EXPECT_EQ(r["usage"]["output_tokens"], ch["usage"]["completion_tokens"]);
  EXPECT_EQ(r["usage"]["total_tokens"],
            r["usage"]["input_tokens"].get<int>() + r["usage"]["output_tokens"].get<int>());
  const json& msg = r["output"].back();
  EXPECT_EQ(msg["type"], "message");
  EXPECT_EQ(msg["role"], "assistant");
  EXPECT_EQ(msg["content"][0]["type"], "output_text");
}

TEST_F(Responses, StreamSendsTheTypedEventsInOrder) {
  auto c = server_->client();
  json body = {{"model", "tiny"},
               {"input", "Tell me something"},
               {"max_output_tokens", 10},
               {"temperature", 0},
               {"seed", 1},
               {"stream", true}};
  auto res = c.post("/v1/responses", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  std::vector<json> events;
  std::vector<std::string> names;
  size_t pos = 0;
  while ((pos = res->body.find("event: ", pos)) != std::string::npos) {
    const size_t eol = res->body.find('\n', pos);
    names.push_back(res->body.substr(pos + 7, eol - pos - 7));
    const size_t data = res->body.find("data: ", eol);
    const size_t end = res->body.find("\n\n", data);
    events.push_back(parse_json(res->body.substr(data + 6, end - data - 6)));
    pos = end;
  }
  ASSERT_GE(events.size(), 8u) << res->body;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["type"], names[i]);
    EXPECT_EQ(events[i]["sequence_number"], i);
  }
  EXPECT_EQ(names[0], "response.created");
  EXPECT_EQ(names[1], "response.in_progress");
  EXPECT_EQ(events[0]["response"]["status"], "in_progress");
  EXPECT_EQ(names[2], "response.output_item.added");
  EXPECT_EQ(names[3], "response.content_part.added");
  const std::string last = names.back();
  EXPECT_TRUE(last == "response.completed" || last == "response.incomplete") << last;
  std::string deltas;
  std::string done_text;
  for (size_t i = 0; i < events.size(); ++i) {
    if (names[i] == "response.output_text.delta") deltas += events[i]["delta"].get<std::string>();
    if (names[i] == "response.output_text.done") done_text = events[i]["text"];
  }
  EXPECT_EQ(deltas, done_text);
  const size_t n = names.size();
  EXPECT_EQ(names[n - 4], "response.output_text.done");
  EXPECT_EQ(names[n - 3], "response.content_part.done");
  EXPECT_EQ(names[n - 2], "response.output_item.done");
  const json& final_response = events.back()["response"];
  EXPECT_EQ(output_text(final_response), done_text);
  // The same request without streaming gives the same text.
  body.erase("stream");
  auto [status, plain] = post(c, "/v1/responses", body);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(output_text(plain), done_text);
  // The streamed response was stored.
  auto got = c.get("/v1/responses/" + final_response["id"].get<std::string>());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(output_text(parse_json(got->body)), done_text);
}

TEST_F(Responses, PreviousResponseIdContinuesTheConversation) {
  auto c = server_->client();
  json r1 = respond(c, {{"input", "First question"}, {"max_output_tokens", 6}});
  const std::string id = r1["id"];
  json r2 = respond(
      c, {{"input", "Second question"}, {"previous_response_id", id}, {"max_output_tokens", 6}});
  EXPECT_EQ(r2["previous_response_id"], id);
  json ch = chat(c,
                 json::array({user("First question"),
                              {{"role", "assistant"}, {"content", output_text(r1)}},
                              user("Second question")}),
                 6);
  EXPECT_EQ(r2["usage"]["input_tokens"], ch["usage"]["prompt_tokens"]);
  EXPECT_EQ(output_text(r2), ch["choices"][0]["message"]["content"].get<std::string>());
  // The same conversation by item_reference to the first answer's message.
  json ref = respond(
      c, {{"input", json::array({user("First question"),
                                 {{"type", "item_reference"}, {"id", r1["output"].back()["id"]}},
                                 user("Second question")})},
          {"max_output_tokens", 6}});
  EXPECT_EQ(ref["usage"]["input_tokens"], ch["usage"]["prompt_tokens"]);
}

TEST_F(Responses, StoreGetDeleteAndStoreFalse) {
  auto c = server_->client();
  json r = respond(c, {{"input", "Hi"}, {"max_output_tokens", 3}});
  const std::string path = "/v1/responses/" + r["id"].get<std::string>();
  auto got = c.get(path);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200);
  EXPECT_EQ(parse_json(got->body), r);
  auto del = c.send("DELETE", path, {}, "");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(parse_json(del->body)["deleted"], true);
  got = c.get(path);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 404);
  EXPECT_EQ(parse_json(got->body)["error"]["code"], "not_found");

  json unstored = respond(c, {{"input", "Hi"}, {"max_output_tokens", 3}, {"store", false}});
  EXPECT_EQ(unstored["store"], false);
  got = c.get("/v1/responses/" + unstored["id"].get<std::string>());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 404);
  json missing = respond(
      c, {{"input", "Hi"}, {"previous_response_id", unstored["id"]}, {"max_output_tokens", 3}},
      404);
  EXPECT_EQ(missing["error"]["param"], "previous_response_id");
}

TEST_F(Responses, FunctionCallItemsRenderLikeChatToolMessages) {
  auto c = server_->client();
  const json params = {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}};
  json r = respond(
      c, {{"input",
           json::array(
               {user("Weather in Paris?"),
                {{"type", "function_call"},
                 {"call_id", "call_1"},
                 {"name", "get_weather"},
                 {"arguments", "{\"city\":\"Paris\"}"}},
                {{"type", "function_call_output"}, {"call_id", "call_1"}, {"output", "sunny"}}})},
          {"tools", json::array({{{"type", "function"},
                                  {"name", "get_weather"},
                                  {"description", "weather"},
                                  {"parameters", params}}})},
          {"tool_choice", "none"},
          {"max_output_tokens", 4}});
  json ch = chat(
      c,
      json::array(
          {user("Weather in Paris?"),
           {{"role", "assistant"},
            {"tool_calls",
             json::array({{{"id", "call_1"},
                           {"type", "function"},
                           {"function",
                            {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}}})}},
           {{"role", "tool"},
            {"tool_call_id", "call_1"},
            {"name", "get_weather"},
            {"content", "sunny"}}}),
      4,
      {{"tools",
        json::array(
            {{{"type", "function"},
              {"function",
               {{"name", "get_weather"}, {"description", "weather"}, {"parameters", params}}}}})},
       {"tool_choice", "none"}});
  EXPECT_EQ(r["usage"]["input_tokens"], ch["usage"]["prompt_tokens"]);
  EXPECT_EQ(output_text(r), ch["choices"][0]["message"]["content"].get<std::string>());
}

TEST_F(Responses, ReasoningAndInputPartsMatchChat) {
  auto c = server_->client();
  json r = respond(
      c,
      {{"input",
        json::array({{{"role", "user"},
                      {"content", json::array({{{"type", "input_text"}, {"text", "Think"}}})}}})},
       {"reasoning", {{"effort", "high"}}},
       {"max_output_tokens", 4}});
  json ch = chat(c, json::array({user("Think")}), 4, {{"reasoning_effort", "high"}});
  EXPECT_EQ(r["usage"]["input_tokens"], ch["usage"]["prompt_tokens"]);
  json off = chat(c, json::array({user("Think")}), 4);
  EXPECT_NE(ch["usage"]["prompt_tokens"], off["usage"]["prompt_tokens"]);
}

TEST_F(Responses, TextFormatJsonSchemaConstrainsTheAnswer) {
  auto c = server_->client();
  json schema = {{"type", "object"},
                 {"properties", {{"n", {{"type", "integer"}, {"minimum", 0}, {"maximum", 9}}}}},
                 {"required", json::array({"n"})},
                 {"additionalProperties", false}};
  json r = respond(
      c, {{"input", "A number"},
          {"text",
           {{"format",
             {{"type", "json_schema"}, {"name", "num"}, {"schema", schema}, {"strict", true}}}}},
          {"max_output_tokens", 64}});
  json parsed = json::parse(output_text(r), nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << r.dump();
  ASSERT_TRUE(parsed.contains("n")) << parsed.dump();
  EXPECT_TRUE(parsed["n"].is_number_integer());
  EXPECT_EQ(r["text"]["format"]["type"], "json_schema");
}

TEST_F(Responses, BadRequestsNameTheField) {
  auto c = server_->client();
  EXPECT_EQ(respond(c, {{"max_output_tokens", 3}}, 400)["error"]["param"], "input");
  EXPECT_EQ(respond(c, {{"input", "x"}, {"tools", json::array({{{"type", "web_search"}}})}},
                    400)["error"]["param"],
            "tools[0].type");
  EXPECT_EQ(respond(c,
                    {{"input", json::array({{{"role", "user"},
                                             {"content", json::array({{{"type", "input_file"},
                                                                       {"file_id", "f"}}})}}})}},
                    400)["error"]["param"],
            "input[0].content[0].type");
  EXPECT_EQ(respond(c, {{"input", json::array({{{"type", "item_reference"}, {"id", "msg_x"}}})}},
                    400)["error"]["param"],
            "input[0].id");
  json zero = respond(c, {{"input", "x"}, {"max_output_tokens", 0}}, 400);
  EXPECT_EQ(zero["error"]["param"], "max_output_tokens");
  EXPECT_NE(zero["error"]["message"].get<std::string>().find("max_output_tokens"),
            std::string::npos);
}

TEST(ResponseStore, KeepsTheMostRecentlyUsedAndTheirItems) {
  server::ResponseStore store(2);
  auto entry = [](const std::string& item) {
    return server::StoredResponse{json{{"id", "r"}}, {json{{"id", item}, {"type", "message"}}}};
  };
  store.put("a", entry("ia"));
  store.put("b", entry("ib"));
  ASSERT_TRUE(store.get("a"));  // a is now the most recent
  store.put("c", entry("ic"));
  EXPECT_TRUE(store.get("a"));
  EXPECT_FALSE(store.get("b"));
  EXPECT_TRUE(store.get("c"));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.item("ia"));
  EXPECT_FALSE(store.item("ib"));
  EXPECT_TRUE(store.erase("a"));
  EXPECT_FALSE(store.erase("a"));
  EXPECT_FALSE(store.item("ia"));
}

}  // namespace
}  // namespace ug::test
