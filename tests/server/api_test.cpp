// Every route over loopback with the HTTP layer's client: shapes, streaming, both API families.
#include <thread>

#include "server_test_util.h"

namespace ug::test {
namespace {

class Api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static TestServer* server_;
};
TestServer* Api::server_ = nullptr;

TEST(ApiHealth, Answers503UntilTheModelIsLoaded) {
  TestServer s({}, TestServer::default_engine(), /*load=*/false);
  auto c = s.client();
  auto r = c.get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(parse_json(r->body)["error"]["type"], "unavailable_error");
  EXPECT_EQ(c.post("/v1/chat/completions", user_chat("hi", 2).dump(), "application/json")->status,
            503);
  s.srv->set_model(tiny_model(), TestServer::default_engine(), tiny_model_prefix() + ".gguf");
  r = c.get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(parse_json(r->body)["status"], "ok");
}

TEST_F(Api, ChatCompletionShapeAndUsage) {
  auto c = server_->client();
  auto [status, j] = post(c, "/v1/chat/completions", user_chat("Hello!", 6));
  ASSERT_EQ(status, 200) << j.dump();
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "tiny");
  ASSERT_EQ(j["choices"].size(), 1u);
  const json& ch = j["choices"][0];
  EXPECT_EQ(ch["message"]["role"], "assistant");
  EXPECT_TRUE(ch["message"]["content"].is_string());
  EXPECT_FALSE(ch["message"].contains("reasoning_content") &&
               ch["message"]["content"].get<std::string>().find("<|channel>") != std::string::npos);
  EXPECT_TRUE(ch["finish_reason"] == "stop" || ch["finish_reason"] == "length");
  // The prompt is the rendered chat: count it independently through /tokenize.
  auto [ts, tj] = post(c, "/tokenize",
                       {{"content",
                         "<bos><|turn>user\nHello!<turn|>\n<|turn>model\n"
                         "<|channel>thought\n<channel|>"}});
  ASSERT_EQ(ts, 200);
  EXPECT_EQ(j["usage"]["prompt_tokens"], tj["tokens"].size());
  const int completion = j["usage"]["completion_tokens"];
  EXPECT_GE(completion, 1);
  EXPECT_LE(completion, 6);
  EXPECT_EQ(j["usage"]["total_tokens"], tj["tokens"].size() + completion);
}

TEST_F(Api, StreamedChatEqualsTheNonStreamedAnswer) {
  auto c = server_->client();
  json body = user_chat("Tell me a story", 16, 5, 1.0);
  auto [status, whole] = post(c, "/v1/chat/completions", body);
  ASSERT_EQ(status, 200);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  auto r = c.post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->header("Content-Type").find("text/event-stream"), std::string::npos);
  auto events = sse_events(r->body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string content, reasoning, finish;
  json usage;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    json e = parse_json(events[i]);
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    if (e.contains("usage")) usage = e["usage"];
    if (e["choices"].empty()) continue;
    const json& d = e["choices"][0]["delta"];
    if (d.contains("content")) content += d["content"].get<std::string>();
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
  }
  const json& msg = whole["choices"][0]["message"];
  EXPECT_EQ(content, msg["content"].is_null() ? "" : msg["content"].get<std::string>());
  EXPECT_EQ(reasoning, msg.value("reasoning_content", ""));
  EXPECT_EQ(finish, whole["choices"][0]["finish_reason"]);
  EXPECT_EQ(usage["completion_tokens"], whole["usage"]["completion_tokens"]);
  EXPECT_EQ(usage["prompt_tokens"], whole["usage"]["prompt_tokens"]);
}

TEST_F(Api, ChatLogprobs) {
  auto c = server_->client();
  json body = user_chat("Hi", 5, 3, 1.0);
  body["logprobs"] = true;
  body["top_logprobs"] = 3;
  auto [status, j] = post(c, "/v1/chat/completions", body);
  ASSERT_EQ(status, 200) << j.dump();
  const json& lp = j["choices"][0]["logprobs"]["content"];
  ASSERT_GE(lp.size(), 1u);
  for (const json& e : lp) {
    EXPECT_LE(e["logprob"].get<double>(), 0.0);
    ASSERT_EQ(e["top_logprobs"].size(), 3u);
    // Most likely first, and the chosen token is never likelier than the best candidate.
    EXPECT_GE(e["top_logprobs"][0]["logprob"].get<double>(),
              e["top_logprobs"][2]["logprob"].get<double>());
    EXPECT_GE(e["top_logprobs"][0]["logprob"].get<double>() + 1e-5, e["logprob"].get<double>());
  }
}

TEST_F(Api, CompletionsWithTokenIdsAndLogprobs) {
  auto c = server_->client();
  json body = {{"prompt", json::array({2, 818, 5279, 529})},
               {"max_tokens", 4},
               {"temperature", 0},
               {"logprobs", 2}};
  auto [status, j] = post(c, "/v1/completions", body);
  ASSERT_EQ(status, 200) << j.dump();
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 4);
  const json& lp = j["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), lp["token_logprobs"].size());
  ASSERT_EQ(lp["tokens"].size(), lp["top_logprobs"].size());
  ASSERT_GE(lp["tokens"].size(), 1u);
  // Greedy: the chosen token is the most likely one.
  double best = -1e9;
  for (auto& [tok, v] : lp["top_logprobs"][0].items()) best = std::max(best, v.get<double>());
  EXPECT_NEAR(lp["token_logprobs"][0].get<double>(), best, 1e-4);
  std::string joined;
  for (const auto& t : lp["tokens"]) joined += t.get<std::string>();
  EXPECT_EQ(joined.substr(0, j["choices"][0]["text"].get<std::string>().size()),
            j["choices"][0]["text"].get<std::string>());

  body["stream"] = true;
  body.erase("logprobs");
  auto r = c.post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  auto events = sse_events(r->body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i)
    text += parse_json(events[i])["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, j["choices"][0]["text"]);
}

TEST_F(Api, StopStringCutsTheAnswer) {
  auto c = server_->client();
  json body = {{"prompt", "Once upon a time"}, {"max_tokens", 20}, {"temperature", 0}};
  auto [s1, free_run] = post(c, "/v1/completions", body);
  ASSERT_EQ(s1, 200);
  const std::string text = free_run["choices"][0]["text"];
  ASSERT_GE(text.size(), 6u);
  // Two whole characters from the middle (random weights produce multi-byte characters, and a
  // stop string must be valid UTF-8 to be sent at all).
  auto next_char = [&](size_t i) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    return i;
  };
  size_t b = text.size() / 2;
  while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
  const std::string stop = text.substr(b, next_char(next_char(b)) - b);
  body["stop"] = stop;
  auto [s2, cut] = post(c, "/v1/completions", body);
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(cut["choices"][0]["text"], text.substr(0, text.find(stop)));
  EXPECT_EQ(cut["choices"][0]["finish_reason"], "stop");
}

TEST_F(Api, ModelsTokenizeDetokenize) {
  auto c = server_->client();
  auto r = c.get("/v1/models");
  ASSERT_TRUE(r);
  json m = parse_json(r->body);
  EXPECT_EQ(m["object"], "list");
  EXPECT_EQ(m["data"][0]["id"], "tiny");
  auto [s1, t] = post(c, "/tokenize", {{"content", "Hello world"}, {"with_pieces", true}});
  ASSERT_EQ(s1, 200);
  ASSERT_GE(t["tokens"].size(), 2u);
  json ids = json::array();
  std::string pieces;
  for (const auto& e : t["tokens"]) {
    ids.push_back(e["id"]);
    pieces += e["piece"].get<std::string>();
  }
  EXPECT_EQ(pieces, "Hello world");
  auto [s2, d] = post(c, "/detokenize", {{"tokens", ids}});
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(d["content"], "Hello world");
  auto [s3, e] = post(c, "/detokenize", {{"tokens", json::array({-1})}});
  EXPECT_EQ(s3, 400);
}

TEST_F(Api, OllamaChatStreamsNdjsonAndMatchesNonStreamed) {
  auto c = server_->client();
  json body = {{"model", "tiny"},
               {"messages", json::array({{{"role", "user"}, {"content", "Hi"}}})},
               {"options", {{"temperature", 0.8}, {"seed", 4}, {"num_predict", 10}}}};
  auto r = c.post("/api/chat", body.dump(), "application/json");  // streams by default
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  std::string content;
  json last;
  size_t start = 0, lines = 0;
  while (start < r->body.size()) {
    size_t end = r->body.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "NDJSON lines end in \\n";
    last = parse_json(r->body.substr(start, end - start));
    if (!last["done"].get<bool>()) content += last["message"]["content"].get<std::string>();
    start = end + 1;
    ++lines;
  }
  EXPECT_GE(lines, 2u);
  EXPECT_TRUE(last["done"].get<bool>());
  EXPECT_GE(last["eval_count"].get<int>(), 1);
  EXPECT_GT(last["prompt_eval_count"].get<int>(), 3);
  body["stream"] = false;
  auto [s, j] = post(c, "/api/chat", body);
  ASSERT_EQ(s, 200);
  EXPECT_EQ(j["message"]["content"], content);
  EXPECT_EQ(j["eval_count"], last["eval_count"]);
}

TEST_F(Api, OllamaGenerateTagsShowVersion) {
  auto c = server_->client();
  auto [s, j] = post(c, "/api/generate",
                     {{"model", "tiny"},
                      {"prompt", "Why is the sky blue?"},
                      {"stream", false},
                      {"options", {{"num_predict", 3}, {"temperature", 0}}}});
  ASSERT_EQ(s, 200) << j.dump();
  EXPECT_TRUE(j["response"].is_string());
  EXPECT_TRUE(j["done"].get<bool>());
  EXPECT_LE(j["eval_count"].get<int>(), 3);
  auto tags = parse_json(c.get("/api/tags")->body);
  EXPECT_EQ(tags["models"][0]["name"], "tiny");
  EXPECT_GT(tags["models"][0]["size"].get<int64_t>(), 0);
  auto [ss, show] = post(c, "/api/show", {{"model", "tiny"}});
  ASSERT_EQ(ss, 200);
  EXPECT_EQ(show["model_info"]["gemma4.block_count"], 6);
  EXPECT_NE(std::find(show["capabilities"].begin(), show["capabilities"].end(), "vision"),
            show["capabilities"].end());
  EXPECT_TRUE(parse_json(c.get("/api/version")->body)["version"].is_string());
}

TEST_F(Api, ThinkingGoesToReasoningContent) {
  auto c = server_->client();
  // With thinking on the prompt ends without the empty thought block; whatever the random model
  // writes inside a channel is reasoning and must never reach content.
  json body = user_chat("Think first", 12, 8, 1.0);
  body["chat_template_kwargs"] = {{"enable_thinking", true}};
  auto [s, j] = post(c, "/v1/chat/completions", body);
  ASSERT_EQ(s, 200);
  const json& msg = j["choices"][0]["message"];
  if (!msg["content"].is_null()) {
    EXPECT_EQ(msg["content"].get<std::string>().find("<|channel>"), std::string::npos);
  }
  body["reasoning_effort"] = "bogus";
  body.erase("chat_template_kwargs");
  EXPECT_EQ(post(c, "/v1/chat/completions", body).first, 400);
}

TEST_F(Api, PrefixCacheIsReportedAsCachedTokens) {
  auto c = server_->client();
  json body = user_chat("A question that we ask twice in a row, to hit the prefix cache.", 3);
  auto [s1, a] = post(c, "/v1/chat/completions", body);
  auto [s2, b] = post(c, "/v1/chat/completions", body);
  ASSERT_EQ(s1, 200);
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(b["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(),
            b["usage"]["prompt_tokens"].get<int>() - 1);
  EXPECT_EQ(a["choices"][0]["message"], b["choices"][0]["message"]);
}

TEST_F(Api, MetricsCountRequestsAndTokens) {
  auto c = server_->client();
  ASSERT_EQ(post(c, "/v1/chat/completions", user_chat("count me", 2)).first, 200);
  auto r = c.get("/metrics");
  ASSERT_TRUE(r);
  const std::string& m = r->body;
  for (const char* name :
       {"unigemma_requests_total{route=\"/v1/chat/completions\",status=\"200\"}",
        "unigemma_prompt_tokens_total", "unigemma_generated_tokens_total",
        "unigemma_prefill_tokens_per_second", "unigemma_decode_tokens_per_second",
        "unigemma_queue_length", "unigemma_active_slots", "unigemma_kv_cache_bytes_in_use",
        "unigemma_time_to_first_token_seconds_bucket{le=\"+Inf\"}"})
    EXPECT_NE(m.find(name), std::string::npos) << name;
  EXPECT_EQ(m.find("unigemma_generated_tokens_total 0\n"), std::string::npos);
}

TEST_F(Api, WebPageIsServed) {
  auto c = server_->client();
  auto r = c.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->header("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(r->body.find("<html"), std::string::npos);
  EXPECT_NE(r->body.find("app.js"), std::string::npos);
  EXPECT_EQ(c.get("/app.js")->status, 200);
  EXPECT_EQ(c.get("/style.css")->status, 200);
  EXPECT_EQ(c.get("/nope")->status, 404);
}

}  // namespace
}  // namespace ug::test
