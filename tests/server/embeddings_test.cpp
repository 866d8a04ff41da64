// Embeddings: /v1/embeddings, /api/embed and /api/embeddings against a reference computed here
// from the decoder's own hidden rows (Decoder::forward with all rows and logits), each pooling,
// batching, dimensions, base64 and the input limits.
#include <cmath>
#include <cstring>

#include "model/decoder.h"
#include "model/kv_cache.h"
#include "server/base64.h"
#include "server_test_util.h"

namespace ug::test {
namespace {

// The post-final-norm rows of every token, [n, n_embd], from the normal logits path.
std::vector<float> hidden_rows(const std::vector<int32_t>& tokens) {
  const LoadedModel& m = tiny_model();
  Decoder dec(m.weights, 2);
  KvCache cache(m.weights->config, static_cast<int64_t>(tokens.size()) + 1);
  Batch b;
  b.tokens = tokens;
  b.all_logits = true;
  std::vector<float> logits, hidden;
  dec.forward(b, cache, logits, &hidden);
  return hidden;
}

std::vector<float> normalized(std::vector<float> v) {
  double ss = 0;
  for (float x : v) ss += double(x) * x;
  for (float& x : v) x = static_cast<float>(x / std::sqrt(ss));
  return v;
}

std::vector<float> reference(const std::vector<int32_t>& tokens, const std::string& pooling) {
  const int64_t d = tiny_model().weights->config.n_embd;
  const int64_t n = static_cast<int64_t>(tokens.size());
  std::vector<float> h = hidden_rows(tokens), out(d, 0.f);
  for (int64_t j = 0; j < d; ++j) {
    if (pooling == "cls") {
      out[j] = h[j];
    } else if (pooling == "last") {
      out[j] = h[(n - 1) * d + j];
    } else {
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += h[i * d + j];
      out[j] = static_cast<float>(s / n);
    }
  }
  return normalized(out);
}

std::vector<int32_t> text_tokens(const std::string& text) {
  const Tokenizer& tok = *tiny_model().tokenizer;
  std::vector<int32_t> ids = tok.encode(text, false);
  if (tok.add_bos()) ids.insert(ids.begin(), tok.bos_id());
  return ids;
}

void expect_near(const json& got, const std::vector<float>& want, double tol = 1e-4) {
  ASSERT_EQ(got.size(), want.size());
  double norm = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i].get<double>(), want[i], tol) << "at " << i;
    norm += got[i].get<double>() * got[i].get<double>();
  }
  EXPECT_NEAR(norm, 1.0, 1e-4);
}

json embed(http::Client& c, json body, int expect = 200,
           const std::string& path = "/v1/embeddings") {
  auto [status, j] = post(c, path, body);
  EXPECT_EQ(status, expect) << j.dump().substr(0, 400);
  return j;
}

class Embeddings : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static TestServer* server_;
};
TestServer* Embeddings::server_ = nullptr;

TEST_F(Embeddings, MeanPoolingMatchesTheDecoderHiddenRows) {
  auto c = server_->client();
  json j =
      embed(c, {{"model", "tiny"}, {"input", "The quick brown fox"}, {"encoding_format", "float"}});
  ASSERT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["object"], "embedding");
  EXPECT_EQ(j["data"][0]["index"], 0);
  const auto ids = text_tokens("The quick brown fox");
  EXPECT_EQ(j["usage"]["prompt_tokens"], ids.size());
  expect_near(j["data"][0]["embedding"], reference(ids, "mean"));
}

TEST_F(Embeddings, ABatchEqualsItsSinglesAndTokenInputsEqualText) {
  auto c = server_->client();
  const std::vector<std::string> texts = {"alpha", "a somewhat longer second input", "third"};
  json batch = embed(c, {{"input", texts}, {"encoding_format", "float"}});
  ASSERT_EQ(batch["data"].size(), 3u);
  int64_t tokens = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    json one = embed(c, {{"input", texts[i]}, {"encoding_format", "float"}});
    EXPECT_EQ(batch["data"][i]["index"], i);
    expect_near(batch["data"][i]["embedding"],
                one["data"][0]["embedding"].get<std::vector<float>>(), 1e-6);
    tokens += one["usage"]["prompt_tokens"].get<int64_t>();
  }
  EXPECT_EQ(batch["usage"]["prompt_tokens"], tokens);
  // Token ids (one list, and a list of lists) embed like the text they encode.
  const auto ids = text_tokens("alpha");
  json as_ids = embed(c, {{"input", ids}, {"encoding_format", "float"}});
  expect_near(as_ids["data"][0]["embedding"],
              batch["data"][0]["embedding"].get<std::vector<float>>(), 1e-6);
  json as_lists = embed(c, {{"input", json::array({ids, ids})}, {"encoding_format", "float"}});
  EXPECT_EQ(as_lists["data"].size(), 2u);
}

TEST_F(Embeddings, Base64AndDimensions) {
  auto c = server_->client();
  json f = embed(c, {{"input", "hello"}, {"encoding_format", "float"}});
  json b = embed(c, {{"input", "hello"}, {"encoding_format", "base64"}});
  auto bytes = server::base64_decode(b["data"][0]["embedding"].get<std::string>());
  ASSERT_TRUE(bytes);
  const auto full = f["data"][0]["embedding"].get<std::vector<float>>();
  ASSERT_EQ(bytes->size(), full.size() * 4);
  std::vector<float> decoded(full.size());
  std::memcpy(decoded.data(), bytes->data(), bytes->size());
  EXPECT_EQ(decoded, full);
  // dimensions: the first N values, normalised again.
  json d = embed(c, {{"input", "hello"}, {"dimensions", 8}, {"encoding_format", "float"}});
  expect_near(d["data"][0]["embedding"],
              normalized(std::vector<float>(full.begin(), full.begin() + 8)), 1e-6);
  const int64_t n_embd = tiny_model().weights->config.n_embd;
  EXPECT_EQ(embed(c, {{"input", "x"}, {"dimensions", n_embd + 1}}, 400)["error"]["param"],
            "dimensions");
}

TEST_F(Embeddings, InputLimits) {
  auto c = server_->client();
  EXPECT_EQ(embed(c, {{"model", "tiny"}}, 400)["error"]["param"], "input");
  EXPECT_EQ(embed(c, {{"input", ""}}, 400)["error"]["param"], "input");
  EXPECT_EQ(embed(c, {{"input", json::array()}}, 400)["error"]["param"], "input");
  EXPECT_EQ(embed(c, {{"input", json::array({1, 99999999})}}, 400)["error"]["param"], "input");
  EXPECT_EQ(embed(c, {{"input", json::array({"ok", 3})}}, 400)["error"]["param"], "input[1]");
  // Longer than the context (1024): refused on /v1, truncated by default on /api/embed.
  std::vector<int32_t> long_ids(1100, 1000);
  json over = embed(c, {{"input", long_ids}}, 400);
  EXPECT_EQ(over["error"]["code"], "context_length_exceeded");
  json cut = embed(c, {{"model", "tiny"}, {"input", json::array({long_ids})}}, 200, "/api/embed");
  EXPECT_EQ(cut["prompt_eval_count"], 1023);
  embed(c, {{"input", json::array({long_ids})}, {"truncate", false}}, 400, "/api/embed");
}

TEST_F(Embeddings, OllamaShapes) {
  auto c = server_->client();
  json j = embed(c, {{"model", "tiny"}, {"input", json::array({"one", "two"})}}, 200, "/api/embed");
  ASSERT_EQ(j["embeddings"].size(), 2u);
  EXPECT_EQ(j["model"], "tiny");
  expect_near(j["embeddings"][0], reference(text_tokens("one"), "mean"));
  EXPECT_EQ(j["prompt_eval_count"], text_tokens("one").size() + text_tokens("two").size());
  json legacy = embed(c, {{"model", "tiny"}, {"prompt", "one"}}, 200, "/api/embeddings");
  expect_near(legacy["embedding"], reference(text_tokens("one"), "mean"));
  json missing = embed(c, {{"model", "no-such-model"}, {"input", "x"}}, 404, "/api/embed");
  EXPECT_EQ(missing["error"], "model 'no-such-model' not found");
}

TEST(EmbeddingsPooling, LastAndClsTakeThoseRows) {
  const auto ids = text_tokens("pooling takes one row");
  for (const char* name : {"last", "cls"}) {
    server::ServerOptions so;
    so.pooling = parse_pooling(name);
    TestServer srv(so);
    auto c = srv.client();
    json j = embed(c, {{"input", "pooling takes one row"}, {"encoding_format", "float"}});
    expect_near(j["data"][0]["embedding"], reference(ids, name));
  }
  server::ServerOptions none;
  none.pooling = Pooling::kNone;
  TestServer srv(none);
  auto c = srv.client();
  embed(c, {{"input", "x"}}, 400);
}

}  // namespace
}  // namespace ug::test
