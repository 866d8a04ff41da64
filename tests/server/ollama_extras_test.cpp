// Ollama and model-listing details clients rely on: model names (404 for unknown ones, aliases,
// the file name), /v1/models/{id}, /api/ps, keep_alive 0, /api/generate's context, and
// logprobs on /api/chat and /api/generate.
#include "server_test_util.h"

namespace ug::test {
namespace {

class OllamaExtras : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server::ServerOptions so;
    so.model_name = "gemma4:12b";
    so.model_aliases = {"gemma4:12b", "my-gemma"};
    server_ = new TestServer(so);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static TestServer* server_;
};
TestServer* OllamaExtras::server_ = nullptr;

std::vector<json> ndjson(const std::string& body) {
  std::vector<json> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    if (end > start) out.push_back(parse_json(body.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

TEST_F(OllamaExtras, UnknownModelsAre404AndAliasesAndTheFileNameMatch) {
  auto c = server_->client();
  json gen = {{"prompt", "Hi"}, {"stream", false}, {"options", {{"num_predict", 2}}}};
  for (const char* name : {"gemma4:12b", "my-gemma", "my-gemma:latest", "tiny", "tiny.gguf"}) {
    gen["model"] = name;
    EXPECT_EQ(post(c, "/api/generate", gen).first, 200) << name;
  }
  for (const char* path : {"/api/generate", "/api/chat", "/api/show", "/api/embed"}) {
    auto [status, j] =
        post(c, path,
             {{"model", "llama3"}, {"prompt", "x"}, {"input", "x"}, {"messages", json::array()}});
    EXPECT_EQ(status, 404) << path;
    EXPECT_EQ(j, json({{"error", "model 'llama3' not found"}})) << path;
  }
}

TEST_F(OllamaExtras, OpenAiModelById) {
  auto c = server_->client();
  auto r = c.get("/v1/models/my-gemma");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  json j = parse_json(r->body);
  EXPECT_EQ(j["id"], "my-gemma");
  EXPECT_EQ(j["object"], "model");
  r = c.get("/v1/models/gpt-4o");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  j = parse_json(r->body);
  EXPECT_EQ(j["error"]["code"], "model_not_found");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
}

TEST_F(OllamaExtras, PsListsTheLoadedModel) {
  auto c = server_->client();
  auto r = c.get("/api/ps");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json j = parse_json(r->body);
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["name"], "gemma4:12b");
  EXPECT_GT(j["models"][0]["size"], 0);
  EXPECT_EQ(j["models"][0]["context_length"], 1024);
}

TEST_F(OllamaExtras, KeepAliveZeroWithNothingToDoUnloads) {
  auto c = server_->client();
  auto [s1, g] = post(c, "/api/generate", {{"model", "my-gemma"}, {"keep_alive", 0}});
  ASSERT_EQ(s1, 200);
  EXPECT_EQ(g["done_reason"], "unload");
  EXPECT_EQ(g["response"], "");
  auto [s2, ch] = post(c, "/api/chat",
                       {{"model", "my-gemma"}, {"messages", json::array()}, {"keep_alive", "0s"}});
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(ch["done_reason"], "unload");
  auto [s3, load] = post(c, "/api/generate", {{"model", "my-gemma"}});
  ASSERT_EQ(s3, 200);
  EXPECT_EQ(load["done_reason"], "load");
}

TEST_F(OllamaExtras, GenerateContextIsReturnedAndContinuesTheConversation) {
  auto c = server_->client();
  json first = {{"model", "my-gemma"},
                {"prompt", "Hello"},
                {"stream", false},
                {"options", {{"num_predict", 4}, {"temperature", 0}}}};
  auto [s1, a] = post(c, "/api/generate", first);
  ASSERT_EQ(s1, 200) << a.dump();
  ASSERT_TRUE(a["context"].is_array()) << a.dump();
  EXPECT_EQ(a["context"].size(),
            a["prompt_eval_count"].get<size_t>() + a["eval_count"].get<size_t>());
  json second = first;
  second["prompt"] = "Again";
  second["context"] = a["context"];
  auto [s2, b] = post(c, "/api/generate", second);
  ASSERT_EQ(s2, 200) << b.dump();
  // The new prompt is the old context plus the new turn, and it starts with the old context.
  EXPECT_GT(b["prompt_eval_count"], a["context"].size());
  for (size_t i = 0; i < a["context"].size(); ++i) ASSERT_EQ(b["context"][i], a["context"][i]);
  // Streamed: the last line carries it.
  second["stream"] = true;
  auto r = c.post("/api/generate", second.dump(), "application/json");
  ASSERT_TRUE(r);
  auto lines = ndjson(r->body);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["context"], b["context"]);
  // Bad ids are refused.
  second["context"] = json::array({-1});
  auto [s3, bad] = post(c, "/api/generate", second);
  EXPECT_EQ(s3, 400);
  EXPECT_NE(bad["error"].get<std::string>().find("context[0]"), std::string::npos) << bad.dump();
}

TEST_F(OllamaExtras, LogprobsOnChatAndGenerate) {
  auto c = server_->client();
  json chat = {
      {"model", "my-gemma"}, {"messages", json::array({{{"role", "user"}, {"content", "Hi"}}})},
      {"stream", false},     {"logprobs", true},
      {"top_logprobs", 3},   {"options", {{"num_predict", 5}, {"temperature", 0}}}};
  auto [s1, j] = post(c, "/api/chat", chat);
  ASSERT_EQ(s1, 200) << j.dump();
  ASSERT_TRUE(j["logprobs"].is_array()) << j.dump();
  ASSERT_FALSE(j["logprobs"].empty());
  std::string joined;
  for (const json& e : j["logprobs"]) {
    EXPECT_LE(e["logprob"].get<double>(), 0.0);
    EXPECT_EQ(e["top_logprobs"].size(), 3u);
    joined += e["token"].get<std::string>();
  }
  // Greedy: the chosen token is the most likely one.
  EXPECT_EQ(j["logprobs"][0]["token"], j["logprobs"][0]["top_logprobs"][0]["token"]);
  EXPECT_EQ(joined.substr(0, j["message"]["content"].get<std::string>().size()),
            j["message"]["content"]);
  // Streamed generate: the chunks' logprobs together cover every answer token.
  json gen = {{"model", "my-gemma"},
              {"prompt", "Hi"},
              {"logprobs", true},
              {"options", {{"num_predict", 5}, {"temperature", 0}}}};
  auto r = c.post("/api/generate", gen.dump(), "application/json");
  ASSERT_TRUE(r);
  size_t n = 0;
  json last;
  for (const json& line : ndjson(r->body)) {
    if (line.contains("logprobs")) n += line["logprobs"].size();
    last = line;
  }
  EXPECT_EQ(n, last["eval_count"].get<size_t>() - (last["done_reason"] == "stop" ? 1 : 0));
}

}  // namespace
}  // namespace ug::test
