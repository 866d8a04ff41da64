// Load: many connections at once, cancellation by disconnect, and continuous batching speed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "server_test_util.h"

namespace ug::test {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int metric(TestServer& s, const std::string& name) {
  auto c = s.client();
  auto r = c.get("/metrics");
  size_t at = r->body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoi(r->body.substr(at + name.size() + 2));
}

TEST(Concurrency, ClientDisconnectCancelsAndFreesTheSlot) {
  EngineOptions eo = TestServer::default_engine();
  eo.parallel = 1;
  TestServer s({}, eo);
  auto c = s.client();
  json body = user_chat("Write forever", 900, 1, 1.0);
  body["stream"] = true;
  std::atomic<int> chunks{0};
  auto t0 = Clock::now();
  auto r = c.send("POST", "/v1/chat/completions", {{"Content-Type", "application/json"}},
                  body.dump(), [&](std::string_view) {
                    return ++chunks < 5;  // hang up after 5 chunks
                  });
  EXPECT_FALSE(r);  // we aborted it
  EXPECT_GE(chunks.load(), 5);
  // The only slot is free again at once: a new request is served without waiting for 900
  // tokens, and the engine reports no active slot.
  auto c2 = s.client();
  auto [status, j] = post(c2, "/v1/chat/completions", user_chat("next", 3));
  EXPECT_EQ(status, 200);
  for (int i = 0; i < 50 && metric(s, "unigemma_active_slots") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(metric(s, "unigemma_active_slots"), 0);
  auto m = c2.get("/metrics")->body;
  size_t at = m.find("\nunigemma_generated_tokens_total ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_LT(std::stod(m.substr(at + 33)), 600) << "the cancelled request kept generating";
  EXPECT_LT(since(t0), 60);
}

TEST(Concurrency, HundredConnectionsGet200Or503AndTheServerKeepsServing) {
  EngineOptions eo = TestServer::default_engine();
  eo.parallel = 2;
  eo.max_queue = 4;
  server::ServerOptions so;
  so.http_threads = 32;
  TestServer s(so, eo);
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i)
    threads.emplace_back([&, i] {
      http::ClientOptions co;
      co.read_timeout = std::chrono::seconds(120);
      co.connect_timeout = std::chrono::seconds(30);
      http::Client c("127.0.0.1", s.port, co);
      auto r = c.post("/v1/chat/completions", user_chat("load " + std::to_string(i), 3).dump(),
                      "application/json");
      if (r && r->status == 200)
        ++ok;
      else if (r && r->status == 503)
        ++busy;
      else {
        ++other;
        std::printf("[ info ] connection %d: %s\n", i,
                    r ? std::to_string(r->status).c_str() : c.error().c_str());
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok + busy, 100);
  EXPECT_GE(ok.load(), 6);  // at least the slots and the queue were served
  auto c = s.client();
  EXPECT_EQ(c.get("/health")->status, 200);
  EXPECT_EQ(post(c, "/v1/chat/completions", user_chat("after the storm", 2)).first, 200);
}

TEST(Concurrency, BatchedRequestsAreFasterThanSequentialAndEqualSolo) {
  EngineOptions eo = TestServer::default_engine();
  eo.parallel = 4;
  TestServer s({}, eo);
  const int n = 4;
  auto body = [](int i) {
    return user_chat("Request number " + std::to_string(i), 64, 50 + i, 1.0);
  };
  // The machine is shared: alternate the two ways three times and compare the best of each.
  std::vector<json> solo(n), together(n);
  double sequential = 1e9, concurrent = 1e9;
  for (int round = 0; round < 3; ++round) {
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto c = s.client();
      auto [st, j] = post(c, "/v1/chat/completions", body(i));
      ASSERT_EQ(st, 200);
      solo[i] = j;
    }
    sequential = std::min(sequential, since(t0));
    t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int i = 0; i < n; ++i)
      ts.emplace_back([&, i] {
        auto c = s.client();
        together[i] = post(c, "/v1/chat/completions", body(i)).second;
      });
    for (auto& t : ts) t.join();
    concurrent = std::min(concurrent, since(t0));
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(together[i]["choices"][0]["message"], solo[i]["choices"][0]["message"]) << i;
      EXPECT_EQ(together[i]["usage"]["completion_tokens"], solo[i]["usage"]["completion_tokens"]);
    }
  }
  std::printf("[ info ] %d requests, best of 3: sequential %.2f s, concurrent %.2f s\n", n,
              sequential, concurrent);
  EXPECT_LT(concurrent, sequential);
}

}  // namespace
}  // namespace ug::test
