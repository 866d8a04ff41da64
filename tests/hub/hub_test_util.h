// Shared by the hub tests: a fresh cache folder per test and settings that point at a FakeHub.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fake_hub.h"
#include "hub/hub_settings.h"

namespace ug::hub::testing {

// The folders fresh_dir made, removed when the test binary exits (a failed test's files stay
// until then, for a look with --gtest_break_on_failure).
struct DirsToRemove {
  std::vector<std::filesystem::path> dirs;
  ~DirsToRemove() {
    std::error_code ec;
    for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};

inline DirsToRemove& dirs_to_remove() {
  static DirsToRemove d;
  return d;
}

inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path p =
      std::filesystem::path(::testing::TempDir()) /
      ("ug_hub_" + std::to_string(::getpid()) + "_" + info->name() + "_" + name);
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  dirs_to_remove().dirs.push_back(p);
  return p;
}

inline HubSettings settings_for(const FakeHub& hub, const std::filesystem::path& cache) {
  HubSettings s;
  s.endpoint = hub.endpoint();
  s.cache_dir = cache;
  s.progress = false;
  s.retry_delay_s = 0;
  return s;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Deterministic bytes that do not compress or repeat (so a wrong offset shows).
inline std::string pseudo_random_bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    s[i] = static_cast<char>(seed >> 24);
  }
  return s;
}

}  // namespace ug::hub::testing
