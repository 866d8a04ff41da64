// Tool calls end to end: a scripted model (scripted_model.h) greedily emits
// <|tool_call>call:get_weather{}<tool_call|><|tool_response>, and both API families must return it
// as a structured tool call, streamed and not.
#include <algorithm>

#include "model/decoder.h"
#include "model/kv_cache.h"
#include "scripted_model.h"
#include "server_test_util.h"
#include "text/chat_format.h"

namespace ug::test {
namespace {

json weather_tools() {
  return json::array({{{"type", "function"},
                       {"function",
                        {{"name", "get_weather"},
                         {"description", "Current weather"},
                         {"parameters", {{"type", "object"}, {"properties", json::object()}}}}}}});
}

const LoadedModel& scripted_loaded() {
  static LoadedModel m;
  static std::once_flag once;
  std::call_once(once, [] {
    LoadOptions lo;
    lo.threads = 2;
    m = load_model(scripted_model().path, lo);
  });
  return m;
}

// The prompt the server renders for one user message with the tools, thinking off.
std::vector<int32_t> rendered_prompt(const Tokenizer& tok) {
  ChatMessage user;
  user.role = "user";
  user.parts.push_back({ContentPart::Text, "What is the weather?"});
  ChatOptions opts;
  opts.tools = weather_tools();
  return tok.encode(render_chat({user}, opts), /*parse_special=*/true);
}

TEST(ToolCallScripted, ChainTokensAreTheExpectedSpecials) {
  const ScriptedModel& sm = scripted_model();
  const Tokenizer& tok = *scripted_loaded().tokenizer;
  ASSERT_GE(sm.chain.size(), 5u);
  EXPECT_EQ(tok.piece(sm.chain[0]), "<channel|>");
  EXPECT_EQ(tok.piece(sm.chain[1]), "<|tool_call>");
  EXPECT_EQ(tok.piece(sm.chain[sm.chain.size() - 2]), "<tool_call|>");
  EXPECT_EQ(tok.piece(sm.chain.back()), "<|tool_response>");
  const auto& stops = scripted_loaded().weights->config.stop_ids;
  EXPECT_NE(std::find(stops.begin(), stops.end(), sm.chain.back()), stops.end());
  std::vector<int32_t> out(sm.chain.begin() + 1, sm.chain.end() - 1);
  EXPECT_EQ(tok.decode(out), std::string("<|tool_call>") + kScriptedCall + "<tool_call|>");
  std::string ids;
  for (int32_t t : sm.chain) ids += std::to_string(t) + "(" + tok.piece(t) + ") ";
  std::cout << "scripted chain: " << ids << "\n";
}

TEST(ToolCallScripted, EmbeddingIsABigramOverTheWholeVocabulary) {
  const ScriptedModel& sm = scripted_model();
  const Gemma4Config& c = scripted_loaded().weights->config;
  GgufFile f(sm.path);
  const TensorView* emb = f.tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  ASSERT_EQ(emb->type, DType::F32);
  const float* p = static_cast<const float*>(emb->data);
  std::vector<float> e(p, p + emb->n_elements());
  for (size_t i = 0; i + 1 < sm.chain.size(); ++i) {
    BigramStep s = bigram_next(e, c.n_embd, sm.chain[i], c.suppress_tokens);
    EXPECT_EQ(s.next, sm.chain[i + 1]) << "after chain token " << i;
    EXPECT_GT(s.margin, 0.03) << "after chain token " << i;
  }
}

TEST(ToolCallScripted, GenerationPromptEndsWithTheChannelClose) {
  const Tokenizer& tok = *scripted_loaded().tokenizer;
  std::vector<int32_t> prompt = rendered_prompt(tok);
  ASSERT_FALSE(prompt.empty());
  EXPECT_EQ(prompt.back(), kChannelClose);
  EXPECT_EQ(prompt.back(), scripted_model().chain[0]);
}

TEST(ToolCallScripted, DecoderGreedilyEmitsTheToolCall) {
  const ScriptedModel& sm = scripted_model();
  const LoadedModel& m = scripted_loaded();
  const Gemma4Config& c = m.weights->config;
  Decoder dec(m.weights, 2);
  KvCache cache(c, 1024);
  Batch b;
  b.tokens = rendered_prompt(*m.tokenizer);
  std::vector<float> logits;
  std::vector<int32_t> out;
  for (size_t step = 0; step < sm.chain.size() + 4; ++step) {
    dec.forward(b, cache, logits);
    ASSERT_EQ(logits.size(), static_cast<size_t>(c.vocab_size));
    const int32_t next =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(next);
    if (std::find(c.stop_ids.begin(), c.stop_ids.end(), next) != c.stop_ids.end()) break;
    b.tokens = {next};
  }
  EXPECT_EQ(out, std::vector<int32_t>(sm.chain.begin() + 1, sm.chain.end()));
}

class ToolCallServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new TestServer({}, TestServer::default_engine(), /*load=*/false);
    server_->srv->set_model(scripted_loaded(), TestServer::default_engine(), scripted_model().path);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static json openai_body(bool stream) {
    json b = {{"model", "scripted"},
              {"messages", json::array({{{"role", "user"}, {"content", "What is the weather?"}}})},
              {"tools", weather_tools()},
              {"max_tokens", 32},
              {"temperature", 0}};
    if (stream) b["stream"] = true;
    return b;
  }
  static json ollama_body(bool stream) {
    return {{"model", "scripted"},
            {"messages", json::array({{{"role", "user"}, {"content", "What is the weather?"}}})},
            {"tools", weather_tools()},
            {"stream", stream},
            {"options", {{"temperature", 0}, {"num_predict", 32}}}};
  }
  static TestServer* server_;
};
TestServer* ToolCallServer::server_ = nullptr;

TEST_F(ToolCallServer, OpenAiChatReturnsTheToolCall) {
  auto c = server_->client();
  auto [status, j] = post(c, "/v1/chat/completions", openai_body(false));
  ASSERT_EQ(status, 200) << j.dump();
  const json& ch = j["choices"][0];
  const json& msg = ch["message"];
  ASSERT_TRUE(msg.contains("tool_calls")) << j.dump();
  ASSERT_EQ(msg["tool_calls"].size(), 1u) << j.dump();
  const json& call = msg["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_TRUE(call["id"].is_string() && !call["id"].get<std::string>().empty()) << call.dump();
  EXPECT_EQ(call["function"]["name"], "get_weather");
  EXPECT_EQ(call["function"]["arguments"], "{}");
  EXPECT_EQ(ch["finish_reason"], "tool_calls");
  EXPECT_TRUE(msg["content"].is_null() || msg["content"] == "") << msg.dump();
  // <|tool_call> … <tool_call|> and the stop token: every scripted token after the prompt.
  EXPECT_EQ(j["usage"]["completion_tokens"], scripted_model().chain.size() - 1);
  // The server rendered the tool declarations into the prompt exactly as render_chat does.
  EXPECT_EQ(j["usage"]["prompt_tokens"], rendered_prompt(*scripted_loaded().tokenizer).size());
}

TEST_F(ToolCallServer, OpenAiStreamCarriesToolCallDeltas) {
  auto c = server_->client();
  auto r = c.post("/v1/chat/completions", openai_body(true).dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto events = sse_events(r->body);
  ASSERT_GE(events.size(), 2u) << r->body;
  EXPECT_EQ(events.back(), "[DONE]");
  std::string content, name, arguments, id, finish;
  int call_deltas = 0;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    json e = parse_json(events[i]);
    if (!e.contains("choices") || e["choices"].empty()) continue;
    const json& ch = e["choices"][0];
    const json& d = ch["delta"];
    if (d.contains("content") && d["content"].is_string())
      content += d["content"].get<std::string>();
    if (d.contains("tool_calls")) {
      for (const json& tc : d["tool_calls"]) {
        ++call_deltas;
        EXPECT_EQ(tc["index"], 0) << tc.dump();
        if (tc.contains("id") && tc["id"].is_string()) id += tc["id"].get<std::string>();
        if (tc.contains("function")) {
          name += tc["function"].value("name", "");
          arguments += tc["function"].value("arguments", "");
        }
      }
    }
    if (!ch["finish_reason"].is_null()) finish = ch["finish_reason"];
  }
  EXPECT_GE(call_deltas, 1) << r->body;
  EXPECT_FALSE(id.empty()) << r->body;
  EXPECT_EQ(name, "get_weather");
  EXPECT_EQ(arguments, "{}");
  EXPECT_EQ(finish, "tool_calls");
  EXPECT_EQ(content.find("<|tool_call>"), std::string::npos) << content;
  EXPECT_EQ(content.find("tool_call"), std::string::npos) << content;
  EXPECT_EQ(content.find("get_weather"), std::string::npos) << content;
  EXPECT_EQ(r->body.find("<|tool_call>"), std::string::npos) << r->body;
}

TEST_F(ToolCallServer, OllamaChatReturnsTheToolCall) {
  auto c = server_->client();
  auto [status, j] = post(c, "/api/chat", ollama_body(false));
  ASSERT_EQ(status, 200) << j.dump();
  const json& msg = j["message"];
  ASSERT_TRUE(msg.contains("tool_calls")) << j.dump();
  ASSERT_EQ(msg["tool_calls"].size(), 1u) << j.dump();
  EXPECT_EQ(msg["tool_calls"][0]["function"]["name"], "get_weather");
  // Ollama's arguments are an object, not a JSON string.
  EXPECT_EQ(msg["tool_calls"][0]["function"]["arguments"], json::object()) << msg.dump();
  EXPECT_EQ(msg["content"], "");
  EXPECT_EQ(j["done"], true);
  EXPECT_EQ(j["prompt_eval_count"], rendered_prompt(*scripted_loaded().tokenizer).size());
  EXPECT_EQ(j["eval_count"], scripted_model().chain.size() - 1);
}

TEST_F(ToolCallServer, OllamaChatStreamsTheToolCallAsNdjson) {
  auto c = server_->client();
  auto r = c.post("/api/chat", ollama_body(true).dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::string content;
  json calls = json::array();
  json last;
  size_t start = 0;
  while (start < r->body.size()) {
    size_t end = r->body.find('\n', start);
    if (end == std::string::npos) end = r->body.size();
    std::string line = r->body.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    last = parse_json(line);
    if (last.contains("message")) {
      content += last["message"].value("content", "");
      if (last["message"].contains("tool_calls"))
        for (const json& tc : last["message"]["tool_calls"]) calls.push_back(tc);
    }
  }
  ASSERT_EQ(calls.size(), 1u) << r->body;
  EXPECT_EQ(calls[0]["function"]["name"], "get_weather");
  EXPECT_EQ(calls[0]["function"]["arguments"], json::object());
  EXPECT_EQ(content, "") << r->body;
  EXPECT_EQ(last["done"], true) << r->body;
}

// The Responses API: the flat tool shape, a function_call output item, and its stream events.
json responses_body(bool stream) {
  return {{"model", "scripted"},
          {"input", "What is the weather?"},
          {"tools",
           json::array({{{"type", "function"},
                         {"name", "get_weather"},
                         {"description", "Current weather"},
                         {"parameters", {{"type", "object"}, {"properties", json::object()}}}}})},
          {"max_output_tokens", 32},
          {"temperature", 0},
          {"stream", stream}};
}

TEST_F(ToolCallServer, ResponsesReturnsAFunctionCallItem) {
  auto c = server_->client();
  auto [status, j] = post(c, "/v1/responses", responses_body(false));
  ASSERT_EQ(status, 200) << j.dump();
  ASSERT_EQ(j["output"].size(), 1u) << j.dump();
  const json& call = j["output"][0];
  EXPECT_EQ(call["type"], "function_call");
  EXPECT_EQ(call["name"], "get_weather");
  EXPECT_EQ(call["arguments"], "{}");
  EXPECT_EQ(call["status"], "completed");
  EXPECT_EQ(call["call_id"].get<std::string>().rfind("call_", 0), 0u);
  EXPECT_EQ(j["usage"]["input_tokens"], rendered_prompt(*scripted_loaded().tokenizer).size());
  // Sending the call back with its output continues the conversation by previous_response_id.
  json next = {{"model", "scripted"},
               {"previous_response_id", j["id"]},
               {"input", json::array({{{"type", "function_call_output"},
                                       {"call_id", call["call_id"]},
                                       {"output", "sunny"}}})},
               {"tools", responses_body(false)["tools"]},
               {"max_output_tokens", 4},
               {"temperature", 0}};
  auto [status2, j2] = post(c, "/v1/responses", next);
  ASSERT_EQ(status2, 200) << j2.dump();
  EXPECT_GT(j2["usage"]["input_tokens"], j["usage"]["input_tokens"]);
}

TEST_F(ToolCallServer, ResponsesStreamSendsFunctionCallArgumentEvents) {
  auto c = server_->client();
  auto r = c.post("/v1/responses", responses_body(true).dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::vector<json> events;
  for (const std::string& data : sse_events(r->body)) events.push_back(parse_json(data));
  std::string args, done_args, name;
  for (const json& e : events) {
    if (e["type"] == "response.function_call_arguments.delta")
      args += e["delta"].get<std::string>();
    if (e["type"] == "response.function_call_arguments.done") done_args = e["arguments"];
    if (e["type"] == "response.output_item.added" && e["item"]["type"] == "function_call")
      name = e["item"]["name"];
  }
  EXPECT_EQ(name, "get_weather") << r->body;
  EXPECT_EQ(args, "{}");
  EXPECT_EQ(done_args, "{}");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["type"], "response.completed");
  EXPECT_EQ(events.back()["response"]["output"][0]["type"], "function_call");
  EXPECT_EQ(r->body.find("<|tool_call>"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace ug::test
