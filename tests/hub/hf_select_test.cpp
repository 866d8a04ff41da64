// The rules that pick a repository's files, names and paths (no network).
#include "hub/hf_select.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "hub/hf_cache.h"
#include "hub/hf_pull.h"

namespace ug::hub {
namespace {

TEST(HfSelect, QuantTagsMatchWholeNamePartsOnly) {
  const std::vector<std::string> files = {"gemma-4-12b-it-Q4_K_M.gguf",
                                          "gemma-4-12b-it-Q4_K_S.gguf",
                                          "gemma-4-12b-it-IQ4_XS.gguf",
                                          "gemma-4-12b-it-Q4_0.gguf",
                                          "mmproj-F16.gguf",
                                          "mmproj-BF16.gguf"};
  EXPECT_EQ(choose_gguf(files, "Q4_K_S").model, "gemma-4-12b-it-Q4_K_S.gguf");
  EXPECT_EQ(choose_gguf(files, "q4_0").model, "gemma-4-12b-it-Q4_0.gguf");
  EXPECT_EQ(choose_gguf(files, "IQ4_XS").model, "gemma-4-12b-it-IQ4_XS.gguf");
  EXPECT_THROW(choose_gguf(files, "Q4_K"), Error);             // not a prefix match of Q4_K_M
  EXPECT_THROW(choose_gguf(files, "mmproj-F16.gguf"), Error);  // a sidecar is not a model
  EXPECT_EQ(choose_gguf(files, "").model, "gemma-4-12b-it-Q4_K_M.gguf");
  // Both projectors are 16 bits; the first listed wins among equals.
  EXPECT_EQ(choose_gguf(files, "").mmproj, "mmproj-F16.gguf");
}

TEST(HfSelect, SidecarsComeFromTheModelsFolder) {
  const std::vector<std::string> files = {"Q4_K_M/model-Q4_K_M.gguf", "Q8_0/model-Q8_0.gguf",
                                          "Q8_0/mmproj-Q8_0.gguf", "Q4_K_M/mmproj-f16.gguf",
                                          "model-mtp-Q8_0.gguf"};
  GgufChoice c = choose_gguf(files, "Q4_K_M");
  EXPECT_EQ(c.model, "Q4_K_M/model-Q4_K_M.gguf");
  EXPECT_EQ(c.mmproj, "Q4_K_M/mmproj-f16.gguf");
  EXPECT_EQ(c.assistant, "model-mtp-Q8_0.gguf");
}

TEST(HfSelect, SplitGgufIsRefusedWithAHint) {
  const std::vector<std::string> files = {"m-Q8_0-00001-of-00002.gguf",
                                          "m-Q8_0-00002-of-00002.gguf"};
  try {
    choose_gguf(files, "Q8_0");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("split"), std::string::npos) << e.what();
  }
}

TEST(HfSelect, QuantBitsReadsTheTypeFromTheName) {
  EXPECT_EQ(quant_bits("gemma-4-12b-it-Q4_K_M.gguf"), 4);
  EXPECT_EQ(quant_bits("mmproj-model-f16.gguf"), 16);
  EXPECT_EQ(quant_bits("x-BF16.gguf"), 16);
  EXPECT_EQ(quant_bits("x.Q8_0.gguf"), 8);
  EXPECT_EQ(quant_bits("gemma-4-12b-it.gguf"), 0);
}

TEST(HfSelect, SafetensorsFilesAndShards) {
  const std::vector<std::string> files = {
      "config.json", "model.safetensors.index.json",     "tokenizer.json", "chat_template.jinja",
      "README.md",   "model-00001-of-00002.safetensors", "sub/extra.json"};
  EXPECT_TRUE(is_safetensors_repo(files));
  EXPECT_FALSE(is_gguf_repo(files));
  auto meta = safetensors_metadata_files(files);
  EXPECT_EQ(meta, (std::vector<std::string>{"config.json", "model.safetensors.index.json",
                                            "tokenizer.json", "chat_template.jinja"}));
  EXPECT_EQ(shards_from_index(R"({"weight_map":{"a":"s2.safetensors","b":"s1.safetensors",)"
                              R"("c":"s2.safetensors"}})",
                              "idx"),
            (std::vector<std::string>{"s1.safetensors", "s2.safetensors"}));
  EXPECT_THROW(shards_from_index(R"({"weight_map":{"a":"../../etc/passwd.safetensors"}})", "idx"),
               Error);
  EXPECT_THROW(shards_from_index("{", "idx"), Error);
}

TEST(HfSelect, RepoIdsRevisionsAndPathsAreValidated) {
  EXPECT_TRUE(is_valid_repo_id("google/gemma-4-12B-it"));
  EXPECT_TRUE(is_valid_repo_id("ggml-org/gemma_4.gguf"));
  for (const char* bad : {"gemma", "a/b/c", "../x", "a/..", "a/-b", "a/b--c", "a/b c", "/b", "a/"})
    EXPECT_FALSE(is_valid_repo_id(bad)) << bad;
  EXPECT_TRUE(is_safe_repo_path("sub/dir/model.gguf"));
  for (const char* bad : {"", "/etc/passwd", "a/../b", "a//b", "..", "a\\b"})
    EXPECT_FALSE(is_safe_repo_path(bad)) << bad;
}

TEST(HfSelect, ModelReferencesParse) {
  HfModelRef r = parse_hf_ref("hf://org/name-GGUF:Q4_K_M@v1.0");
  EXPECT_EQ(r.repo, "org/name-GGUF");
  EXPECT_EQ(r.tag, "Q4_K_M");
  EXPECT_EQ(r.revision, "v1.0");
  EXPECT_EQ(parse_hf_ref("https://huggingface.co/google/gemma-4-12B-it").repo,
            "google/gemma-4-12B-it");
  EXPECT_EQ(parse_hf_ref("org/name").revision, "main");
  EXPECT_THROW(parse_hf_ref("hf://justaname"), Error);
  EXPECT_THROW(parse_hf_ref("org/name:"), Error);
  EXPECT_THROW(parse_hf_ref("org/name@../x"), Error);
  EXPECT_EQ(known_assistant_repo("google/gemma-4-12B-it"), "google/gemma-4-12B-it-assistant");
  EXPECT_EQ(known_assistant_repo("someone/other"), "");
}

}  // namespace
}  // namespace ug::hub
