// What a new user runs on the first day: models from Ollama's store, -e escapes, quantizing on
// load with the mmproj, `quantize` of an HF folder (mmproj beside the output) and of an HF
// assistant folder, `info` of an assistant, `info -c` memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_test_util.h"

namespace {

using namespace ug::test;
namespace fs = std::filesystem;

// An HF folder (m) with its assistant beside it (m-assistant), as Google ships the pair.
std::string tiny_hf_with_assistant() {
  return tiny_model("cli-tiny-hf-asst", "--format hf --seed 5") + "/m";
}

std::string sha256_file(const std::string& path) {
  const std::string out = testing::TempDir() + "sha_" + std::to_string(::getpid());
  EXPECT_EQ(std::system(("sha256sum " + path + " | cut -c1-64 > " + out).c_str()), 0);
  std::ifstream in(out);
  std::string hex;
  in >> hex;
  fs::remove(out);
  return hex;
}

// The tiny GGUF and its mmproj laid out as `ollama pull` leaves them (blobs named by digest).
std::string ollama_store() {
  const std::string root = testing::TempDir() + "ollama-" + std::to_string(::getpid());
  const std::string model = tiny_gguf();
  const std::string mmproj = model.substr(0, model.size() - 5) + "-mmproj.gguf";
  fs::create_directories(root + "/blobs");
  fs::create_directories(root + "/manifests/registry.ollama.ai/library/gemma4");
  std::string layers;
  for (const auto& [file, type] : {std::pair{model, "model"}, std::pair{mmproj, "projector"}}) {
    const std::string hex = sha256_file(file);
    fs::copy_file(file, root + "/blobs/sha256-" + hex, fs::copy_options::overwrite_existing);
    layers += std::string(layers.empty() ? "" : ",") +
              R"({"mediaType":"application/vnd.ollama.image.)" + type + R"(","digest":"sha256:)" +
              hex + R"(","size":1})";
  }
  std::ofstream(root + "/manifests/registry.ollama.ai/library/gemma4/tiny")
      << R"({"schemaVersion":2,"layers":[)" << layers << "]}";
  return root;
}

TEST(FirstDay, OllamaModelsRunInPlaceByUrlOrName) {
  const std::string store = ollama_store();
  for (const char* name : {"ollama://gemma4:tiny", "gemma4:tiny"}) {
    Result r = run("run -m " + std::string(name) + " -p Hi -n 2 --temp 0 --json -t 1",
                   "OLLAMA_MODELS=" + store);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("ollama://gemma4:tiny: " + store + "/blobs/sha256-"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("mmproj: " + store + "/blobs/sha256-"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("vision, audio"), std::string::npos) << r.err;
  }
  Result missing = run("run -m gemma4:nope -p Hi -n 1", "OLLAMA_MODELS=" + store);
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("no such file or folder, and no Ollama model"), std::string::npos)
      << missing.err;
  fs::remove_all(store);
}

TEST(FirstDay, EscapeTurnsBackslashNIntoANewline) {
  const std::string m = tiny_gguf();
  // No trailing newline: $(...) would strip it from the reference.
  Result escaped =
      run("run -m " + m + " --raw -e -p '<|turn>user\\nHi<turn|>\\tok' -n 1 --temp 0 --json -t 1");
  Result literal = run("run -m " + m + " --raw -p \"$(printf '<|turn>user\\nHi<turn|>\\tok')\" " +
                       "-n 1 --temp 0 --json -t 1");
  Result plain =
      run("run -m " + m + " --raw -p '<|turn>user\\nHi<turn|>\\tok' -n 1 --temp 0 --json -t 1");
  ASSERT_EQ(escaped.code, 0) << escaped.err;
  ASSERT_EQ(literal.code, 0) << literal.err;
  ASSERT_EQ(plain.code, 0) << plain.err;
  const auto ids = nlohmann::json::parse(escaped.out)["prompt_ids"];
  EXPECT_EQ(ids, nlohmann::json::parse(literal.out)["prompt_ids"]);
  EXPECT_NE(ids, nlohmann::json::parse(plain.out)["prompt_ids"]);  // without -e: a '\' and an 'n'
}

// chat takes -e from the flags it shares with run: each typed message is unescaped, so a raw
// transcript typed on one line tokenizes as run -e's prompt does.
TEST(FirstDay, ChatEscapesEachMessage) {
  const std::string m = tiny_gguf();
  const std::string in = testing::TempDir() + "chat_escape_in_" + std::to_string(::getpid());
  { std::ofstream(in) << "<|turn>user\\nHi<turn|>\\tok\n/exit\n"; }
  const std::string flags = " --raw -n 1 --temp 0 --json -t 1";
  Result chat = run("chat -m " + m + " -e" + flags + " < " + in);
  Result chat_plain = run("chat -m " + m + flags + " < " + in);
  Result once = run("run -m " + m + " -e -p '<|turn>user\\nHi<turn|>\\tok'" + flags);
  std::remove(in.c_str());
  ASSERT_EQ(chat.code, 0) << chat.err;
  ASSERT_EQ(chat_plain.code, 0) << chat_plain.err;
  ASSERT_EQ(once.code, 0) << once.err;
  auto ids = [](const std::string& out) {
    // The first JSON document ("{" ... "}" lines); chat prints "> " prompts around it.
    const size_t at = out.find("{\n"), end = out.find("\n}", at);
    if (at == std::string::npos || end == std::string::npos) return nlohmann::json();
    return nlohmann::json::parse(out.substr(at, end + 2 - at))["prompt_ids"];
  };
  EXPECT_EQ(ids(chat.out), ids(once.out)) << chat.out;
  EXPECT_NE(ids(chat_plain.out), ids(once.out));
}

TEST(FirstDay, QuantizeOnLoadKeepsTheMmproj) {
  const std::string m = tiny_gguf();
  const std::string mmproj = m.substr(0, m.size() - 5) + "-mmproj.gguf";
  for (const char* type : {"q4_k", "q6_k"}) {
    Result r = run("run -m " + m + " --mmproj " + mmproj + " --quantize " + type +
                   " -p Hi -n 2 --temp 0 -t 1");
    EXPECT_EQ(r.code, 0) << type << ": " << r.err;
  }
}

TEST(FirstDay, QuantizeOfAnHfFolderWritesTheMmprojBeside) {
  const std::string hf = tiny_hf_with_assistant();
  const std::string dir = testing::TempDir() + "quant-" + std::to_string(::getpid());
  fs::create_directories(dir);
  Result r = run("quantize " + hf + " " + dir + "/m.gguf --type q8_0 --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir + "/m-mmproj.gguf")) << r.out;
  EXPECT_NE(r.out.find("m-mmproj.gguf"), std::string::npos) << r.out;
  Result loaded =
      run("run -m " + dir + "/m.gguf --mmproj " + dir + "/m-mmproj.gguf -p Hi -n 1 -t 1");
  EXPECT_EQ(loaded.code, 0) << loaded.err;
  EXPECT_NE(loaded.err.find("vision, audio"), std::string::npos) << loaded.err;
  Result without = run("quantize " + hf + " " + dir + "/n.gguf --type q8_0 --quiet --no-mmproj");
  ASSERT_EQ(without.code, 0) << without.err;
  EXPECT_FALSE(fs::exists(dir + "/n-mmproj.gguf"));
  EXPECT_NE(without.err.find("--no-mmproj"), std::string::npos) << without.err;
  fs::remove_all(dir);
}

TEST(FirstDay, InfoAndQuantizeTakeAnHfAssistantFolder) {
  const std::string hf = tiny_hf_with_assistant();
  const std::string asst = hf + "-assistant";
  Result info = run("info " + asst);
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("MTP assistant"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("drafter layers:"), std::string::npos) << info.out;
  const std::string out = testing::TempDir() + "asst-" + std::to_string(::getpid()) + ".gguf";
  Result q = run("quantize " + asst + " " + out + " --type bf16 --quiet");
  ASSERT_EQ(q.code, 0) << q.err;
  Result gguf_info = run("info " + out);
  ASSERT_EQ(gguf_info.code, 0) << gguf_info.err;
  EXPECT_NE(gguf_info.out.find("gemma4-assistant"), std::string::npos) << gguf_info.out;
  const std::string args = " -p 'Count to five' -n 12 --temp 0 --json -t 1";
  Result from_hf = run("run -m " + hf + " --assistant " + asst + args);
  Result from_gguf = run("run -m " + hf + " --assistant " + out + args);
  ASSERT_EQ(from_hf.code, 0) << from_hf.err;
  ASSERT_EQ(from_gguf.code, 0) << from_gguf.err;
  // Both draft (the draft length adapts to measured timings, so the counts may differ; that the
  // GGUF drafts exactly as the folder is tests/runtime/quantize_hf_assistant_test.cpp's job).
  EXPECT_NE(from_hf.err.find("speculative decoding:"), std::string::npos) << from_hf.err;
  EXPECT_NE(from_gguf.err.find("speculative decoding:"), std::string::npos) << from_gguf.err;
  EXPECT_EQ(nlohmann::json::parse(from_hf.out)["generated_ids"],
            nlohmann::json::parse(from_gguf.out)["generated_ids"]);
  fs::remove(out);
}

// The peak RSS of one unigemma run (wait4 reports the child's own maximum), in bytes.
double peak_rss_of(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {std::string(UG_BINARY_DIR) + "/unigemma"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  struct rusage ru {};
  EXPECT_EQ(wait4(pid, &status, 0, &ru), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return double(ru.ru_maxrss) * 1024;
}

// "  at   4096 tokens: 245.12 MiB = ..." -> bytes
double predicted_total(const std::string& info, int64_t ctx) {
  const std::string key = " " + std::to_string(ctx) + " tokens: ";
  const size_t at = info.find(key);
  if (at == std::string::npos) return 0;
  double v = 0;
  char unit[8] = "";
  std::sscanf(info.c_str() + at + key.size(), "%lf %7s", &v, unit);
  const std::string u = unit;
  return v * (u == "GiB" ? 1 << 30 : u == "MiB" ? 1 << 20 : u == "KiB" ? 1 << 10 : 1);
}

TEST(FirstDay, InfoMemoryIsWhatARunTakes) {
  const std::string m = tiny_gguf();
  Result info = run("info " + m + " -c 4096 -t 2");
  ASSERT_EQ(info.code, 0) << info.err;
  const double predicted = predicted_total(info.out, 4096);
  ASSERT_GT(predicted, 0) << info.out;
  const double measured = peak_rss_of(
      {"run", "-m", m, "-c", "4096", "-t", "2", "-n", "4", "-p", "Hello there", "--temp", "0"});
  // Trustworthy for "will it fit": not below what the run took, and not far above it.
  EXPECT_GE(predicted, 0.95 * measured) << info.out << "measured " << measured / 1048576 << " MiB";
  EXPECT_LE(predicted, 1.35 * measured) << info.out << "measured " << measured / 1048576 << " MiB";
}

}  // namespace

namespace {

// info counts what `run` would load: the mmproj and assistant given, or picked from an Ollama
// (or hf://) source.
TEST(FirstDay, InfoCountsTheFilesARunLoads) {
  const std::string m = tiny_gguf();
  const std::string stem = m.substr(0, m.size() - 5);
  const double mmproj = double(fs::file_size(stem + "-mmproj.gguf"));
  const double asst = double(fs::file_size(stem + "-assistant.gguf"));
  const double alone = predicted_total(run("info " + m + " -t 2").out, 4096);
  const double with_both = predicted_total(run("info " + m + " -t 2 --mmproj " + stem +
                                               "-mmproj.gguf --assistant " + stem +
                                               "-assistant.gguf")
                                               .out,
                                           4096);
  const std::string store = ollama_store();
  const double ollama =
      predicted_total(run("info gemma4:tiny -t 2", "OLLAMA_MODELS=" + store).out, 4096);
  fs::remove_all(store);
  ASSERT_GT(alone, 0);
  EXPECT_NEAR(with_both - alone, mmproj + asst, 0.01 * (mmproj + asst) + 20000);
  EXPECT_NEAR(ollama - alone, mmproj, 0.01 * mmproj + 20000);  // Ollama's projector layer
}

}  // namespace
