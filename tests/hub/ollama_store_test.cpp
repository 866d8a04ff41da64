// Models Ollama downloaded: names, manifests and blobs laid out as Ollama lays them out.
#include "hub/ollama_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "hub/model_source.h"
#include "hub_test_util.h"

namespace ug::hub {
namespace {

namespace fs = std::filesystem;

std::string digest_of(const std::string& content) { return testing::sha256_of(content); }

// Writes a blob and returns its "sha256:<hex>" digest.
std::string put_blob(const fs::path& root, const std::string& content) {
  const std::string hex = digest_of(content);
  fs::create_directories(root / "blobs");
  std::ofstream(root / "blobs" / ("sha256-" + hex), std::ios::binary) << content;
  return "sha256:" + hex;
}

void put_manifest(const fs::path& root, const std::string& rel, const std::string& json) {
  const fs::path p = root / "manifests" / rel;
  fs::create_directories(p.parent_path());
  std::ofstream(p) << json;
}

std::string layer(const std::string& type, const std::string& digest) {
  return R"({"mediaType":"application/vnd.ollama.image.)" + type + R"(","digest":")" + digest +
         R"(","size":1})";
}

// A gemma4:12b tree: model, projector, template and params layers.
fs::path ollama_tree() {
  const fs::path root = testing::fresh_dir("ollama");
  const std::string model = put_blob(root, "GGUF model bytes");
  const std::string proj = put_blob(root, "GGUF projector bytes");
  const std::string tmpl = put_blob(root, "{{ .Prompt }}");
  const std::string params = put_blob(root, R"({"stop":["<turn|>"]})");
  const std::string config = put_blob(root, R"({"model_format":"gguf"})");
  put_manifest(
      root, "registry.ollama.ai/library/gemma4/12b",
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
          config + R"(","size":1},"layers":[)" + layer("model", model) + "," +
          layer("projector", proj) + "," + layer("template", tmpl) + "," + layer("params", params) +
          "]}");
  put_manifest(root, "registry.ollama.ai/someone/gemma4/latest",
               R"({"layers":[)" + layer("model", model) + "]}");
  put_manifest(root, "registry.ollama.ai/library/gemma4/12b-mlx-bf16",
               R"({"layers":[{"mediaType":"application/vnd.ollama.image.tensor","digest":")" +
                   model + R"("}]})");
  put_manifest(
      root, "registry.ollama.ai/library/gemma4/evil",
      R"({"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"../../etc/passwd"}]})");
  put_manifest(root, "registry.ollama.ai/library/gemma4/gone",
               R"({"layers":[)" + layer("model", "sha256:" + std::string(64, 'a')) + "]}");
  return root;
}

TEST(OllamaStore, NamesParseAsOllamaParsesThem) {
  auto n = parse_ollama_name("gemma4:12b");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->host, "registry.ollama.ai");
  EXPECT_EQ(n->ns, "library");
  EXPECT_EQ(n->model, "gemma4");
  EXPECT_EQ(n->tag, "12b");
  EXPECT_EQ(n->display(), "gemma4:12b");
  auto u = parse_ollama_name("someone/gemma4");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->ns, "someone");
  EXPECT_EQ(u->tag, "latest");
  EXPECT_EQ(u->display(), "someone/gemma4:latest");
  auto h = parse_ollama_name("example.com:5000/ns/m:t");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->host, "example.com:5000");
  for (const char* bad : {"", "a/b/c/d", "../x", "m:", "/abs/path.gguf", "a b"})
    EXPECT_FALSE(parse_ollama_name(bad)) << bad;
}

TEST(OllamaStore, ManifestLayersGiveTheModelAndProjectorBlobsInPlace) {
  const fs::path root = ollama_tree();
  auto m = find_ollama_model(*parse_ollama_name("gemma4:12b"), root);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->model, root / "blobs" / ("sha256-" + digest_of("GGUF model bytes")));
  EXPECT_EQ(m->projector, root / "blobs" / ("sha256-" + digest_of("GGUF projector bytes")));
  EXPECT_EQ(testing::slurp(m->params), R"({"stop":["<turn|>"]})");
  auto other = find_ollama_model(*parse_ollama_name("someone/gemma4"), root);
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->projector.empty());
  EXPECT_FALSE(find_ollama_model(*parse_ollama_name("gemma4:27b"), root));
}

TEST(OllamaStore, BrokenManifestsAreClearErrors) {
  const fs::path root = ollama_tree();
  auto expect_error = [&](const char* name, const char* words) {
    try {
      find_ollama_model(*parse_ollama_name(name), root);
      ADD_FAILURE() << name << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_error("gemma4:12b-mlx-bf16", "no GGUF model layer");
  expect_error("gemma4:evil", "is not sha256");
  expect_error("gemma4:gone", "is missing");
}

TEST(OllamaStore, ModelSourcesFindOllamaModelsByUrlOrPlainName) {
  const fs::path root = ollama_tree();
  ::setenv("OLLAMA_MODELS", root.c_str(), 1);
  ModelSource a = resolve_model_source("ollama://gemma4:12b");
  ModelSource b = resolve_model_source("gemma4:12b");
  SourceOptions no_mmproj;
  no_mmproj.mmproj = false;
  ModelSource c = resolve_model_source("gemma4:12b", no_mmproj);
  EXPECT_THROW(resolve_model_source("ollama://gemma4:27b"), Error);
  bool named = false;
  try {
    resolve_model_source("no-such-model.gguf");
  } catch (const Error& e) {
    named = std::string(e.what()).find("no such file") != std::string::npos;
  }
  ::unsetenv("OLLAMA_MODELS");
  EXPECT_EQ(a.model, (root / "blobs" / ("sha256-" + digest_of("GGUF model bytes"))).string());
  EXPECT_EQ(a.mmproj, (root / "blobs" / ("sha256-" + digest_of("GGUF projector bytes"))).string());
  EXPECT_EQ(a.origin, "ollama://gemma4:12b");
  EXPECT_EQ(b.model, a.model);
  EXPECT_TRUE(c.mmproj.empty());
  EXPECT_TRUE(named);
  // A path that exists is a path, whatever it looks like.
  const fs::path file = testing::fresh_dir("files") / "gemma4:12b";
  std::ofstream(file) << "x";
  EXPECT_EQ(resolve_model_source(file.string()).model, file.string());
}

}  // namespace
}  // namespace ug::hub
