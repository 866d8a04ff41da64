// The third-party fixtures (GGUF files written by llama.cpp's tools, llama.cpp's golden outputs,
// a WAV file) live in ../shared/fixtures beside the checkout, not in the repository. Tests that
// read them skip with one line saying so when that folder is absent (a plain clone).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace ug::test {

inline bool shared_fixtures_present() {
  std::error_code ec;
  return std::filesystem::is_directory(std::string(UG_SHARED_DIR) + "/fixtures", ec);
}

}  // namespace ug::test

// In a test body or SetUp(): returns from it, skipped, when the fixtures are absent.
#define UG_SKIP_WITHOUT_SHARED_FIXTURES()                            \
  if (!::ug::test::shared_fixtures_present())                        \
  GTEST_SKIP() << "needs the third-party fixtures in " UG_SHARED_DIR \
                  "/fixtures (the shared/ folder beside the checkout), which is absent"
