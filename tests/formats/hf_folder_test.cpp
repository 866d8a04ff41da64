#include "formats/hf_folder.h"

#include "format_test_util.h"

namespace ug {
namespace {

std::string make_folder(const std::string& name,
                        const std::vector<std::pair<std::string, std::string>>& files) {
  const std::string dir = test::temp_path(name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& [file, text] : files)
    test::write_bytes(dir + "/" + file, text.data(), text.size());
  return dir;
}

TEST(HfFolder, LoadsAllFiles) {
  const std::string dir = make_folder(
      "hf_full",
      {{"config.json", R"({"model_type": "gemma4", "text_config": {"hidden_size": 64}})"},
       {"generation_config.json", R"({"eos_token_id": [1, 106]})"},
       {"tokenizer.json", R"({"model": {"type": "BPE"}})"},
       {"tokenizer_config.json", R"({"chat_template": "from config"})"},
       {"chat_template.jinja", "{{ bos_token }}"}});
  EXPECT_TRUE(is_hf_folder(dir));
  HfFolder hf = load_hf_folder(dir);
  EXPECT_EQ(hf.path, dir);
  EXPECT_EQ(hf.config["text_config"]["hidden_size"], 64);
  EXPECT_EQ(hf.generation_config["eos_token_id"][1], 106);
  EXPECT_EQ(hf.tokenizer["model"]["type"], "BPE");
  EXPECT_EQ(hf.tokenizer_config["chat_template"], "from config");
  EXPECT_EQ(hf.chat_template, "{{ bos_token }}") << "chat_template.jinja takes precedence";
}

TEST(HfFolder, OptionalFilesAbsent) {
  const std::string dir = make_folder("hf_min", {{"config.json", "{}"}});
  HfFolder hf = load_hf_folder(dir);
  EXPECT_TRUE(hf.config.is_object());
  EXPECT_TRUE(hf.generation_config.is_null());
  EXPECT_TRUE(hf.tokenizer.is_null());
  EXPECT_TRUE(hf.tokenizer_config.is_null());
  EXPECT_TRUE(hf.chat_template.empty());
}

TEST(HfFolder, TemplateFromTokenizerConfig) {
  const std::string dir = make_folder(
      "hf_tc", {{"config.json", "{}"}, {"tokenizer_config.json", R"({"chat_template": "T"})"}});
  EXPECT_EQ(load_hf_folder(dir).chat_template, "T");
}

TEST(HfFolder, Errors) {
  const std::string no_config = make_folder("hf_no_config", {{"tokenizer.json", "{}"}});
  EXPECT_FALSE(is_hf_folder(no_config));
  EXPECT_FALSE(is_hf_folder(no_config + "/tokenizer.json"));
  EXPECT_ERROR_HAS(load_hf_folder(no_config), "hf_no_config", "config.json");
  EXPECT_ERROR_HAS(load_hf_folder(no_config + "/nope"), "nope", "not a folder");

  const std::string bad =
      make_folder("hf_bad", {{"config.json", "{}"}, {"tokenizer_config.json", "{\"a\": tru}"}});
  EXPECT_ERROR_HAS(load_hf_folder(bad), "tokenizer_config.json", "invalid JSON");
  const std::string bad_config = make_folder("hf_bad_config", {{"config.json", "[1]"}});
  EXPECT_ERROR_HAS(load_hf_folder(bad_config), "config.json", "object", "array");
  const std::string bad_gen =
      make_folder("hf_bad_gen", {{"config.json", "{}"}, {"generation_config.json", ""}});
  EXPECT_ERROR_HAS(load_hf_folder(bad_gen), "generation_config.json", "invalid JSON");
}

// config.json or tokenizer.json nested 10^5 deep crashed info/run/serve (issue 12).
TEST(HfFolder, DeeplyNestedFilesAreRefused) {
  std::string deep = "{\"text_config\": ";
  for (int i = 0; i < 100000; ++i) deep += "{\"a\": ";
  for (const char* file : {"config.json", "tokenizer.json", "generation_config.json"}) {
    std::vector<std::pair<std::string, std::string>> files = {{"config.json", "{}"}};
    files.push_back({file, deep});
    const std::string dir = make_folder(std::string("hf_deep_") + file, files);
    EXPECT_ERROR_HAS(load_hf_folder(dir), file, "nested more than 128 levels");
  }
}

}  // namespace
}  // namespace ug
