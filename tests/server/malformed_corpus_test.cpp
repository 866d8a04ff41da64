// Sends every request of the malformed-request corpus over a plain socket and checks that each
// gets a 4xx JSON error in its route's shape and that the server still answers /health after it.
#include "malformed_corpus.h"

#include <set>

#include "raw_http.h"
#include "server_test_util.h"

namespace ug::test {
namespace {

bool is_ollama_path(const std::string& path) { return path.rfind("/api/", 0) == 0; }

// Ollama's shape {"error": "message"} on /api/..., OpenAI's {"error": {"message", "type", ...}}
// elsewhere. Returns what is wrong, or "".
std::string shape_problem(const std::string& path, const RawResponse& r) {
  const json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error"))
    return "not a JSON error body: " + r.body.substr(0, 200);
  const json& e = j["error"];
  if (is_ollama_path(path)) {
    if (!e.is_string() || e.get<std::string>().empty())
      return "Ollama routes answer {\"error\": \"message\"}, got " + j.dump().substr(0, 200);
  } else if (!e.is_object() || !e.contains("message") || !e["message"].is_string() ||
             !e.contains("type")) {
    return "OpenAI routes answer {\"error\": {\"message\", \"type\", ...}}, got " +
           j.dump().substr(0, 200);
  }
  return "";
}

TEST(MalformedCorpus, EveryRequestIsA4xxJsonErrorAndTheServerSurvives) {
  const std::vector<MalformedRequest> corpus = malformed_corpus();
  ASSERT_GE(corpus.size(), 500u);
  std::printf("  %zu malformed requests\n", corpus.size());
  std::set<std::string> names;
  for (const MalformedRequest& m : corpus) EXPECT_TRUE(names.insert(m.name).second) << m.name;

  TestServer server;
  const int port = server.port;
  for (const MalformedRequest& m : corpus) {
    SCOPED_TRACE(m.name);
    const RawResponse r = raw_exchange(port, raw_request(port, m.method, m.path, m.body));
    EXPECT_GE(r.status, 400) << r.body.substr(0, 300);
    EXPECT_LT(r.status, 500) << r.body.substr(0, 300);
    if (r.status != 0) {
      EXPECT_EQ(shape_problem(m.path, r), "");
    }
    const RawResponse health = raw_exchange(port, raw_request(port, "GET", "/health", ""));
    ASSERT_EQ(health.status, 200) << "the server stopped answering after: " << m.name;
  }
  // And it still generates.
  const RawResponse ok = raw_exchange(
      port, raw_request(port, "POST", "/v1/chat/completions", user_chat("still there?", 1).dump()));
  EXPECT_EQ(ok.status, 200) << ok.body;
}

}  // namespace
}  // namespace ug::test
