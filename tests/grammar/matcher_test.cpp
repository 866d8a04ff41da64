// GrammarMatcher against the brute-force Earley reference on random grammars and a small
// vocabulary, plus rollback, end tokens and token syntax.
#include "grammar/matcher.h"

#include <gtest/gtest.h>

#include <random>

#include "base/error.h"
#include "grammar/gbnf_parser.h"
#include "grammar/grammar.h"
#include "grammar/pda.h"
#include "reference_recognizer.h"

namespace ug {
namespace {

// Tokens: every string of 1-2 letters over "ab[]" plus a few longer ones, a byte-token twin of
// "a", two special tokens (<s1>, <s2>) and an end token.
struct SmallVocab {
  std::shared_ptr<const TokenVocab> vocab;
  int32_t s1 = -1, s2 = -1, end = -1;
};

SmallVocab small_vocab() {
  const std::string alpha = "ab[]";
  std::vector<std::string> bytes;
  for (char c : alpha) bytes.push_back(std::string(1, c));
  for (char c : alpha)
    for (char d : alpha) bytes.push_back(std::string{c, d});
  for (const char* s : {"aab", "[a]", "]]]", "ab[a", "bbbb", "[[", "a"}) bytes.push_back(s);
  std::vector<TokenKind> kinds(bytes.size(), TokenKind::Text);
  std::vector<std::string> names(bytes.size());
  SmallVocab v;
  v.s1 = static_cast<int32_t>(bytes.size());
  bytes.push_back("<s1>");
  kinds.push_back(TokenKind::Special);
  names.push_back("<s1>");
  v.s2 = static_cast<int32_t>(bytes.size());
  bytes.push_back("<s2>");
  kinds.push_back(TokenKind::Special);
  names.push_back("<s2>");
  v.end = static_cast<int32_t>(bytes.size());
  bytes.push_back("</s>");
  kinds.push_back(TokenKind::Text);
  names.push_back("</s>");
  v.vocab = std::make_shared<const TokenVocab>(bytes, kinds, std::vector<int32_t>{v.end}, names);
  return v;
}

class RandomGrammar {
 public:
  RandomGrammar(std::mt19937& rng, const SmallVocab& v) : rng_(rng), v_(v) {}

  std::string make() {
    const int rules = 1 + pick(4);
    std::string out;
    for (int r = 0; r < rules; ++r) {
      out += name(r) + " ::= ";
      const int alts = 1 + pick(3);
      for (int a = 0; a < alts; ++a) {
        if (a) out += " | ";
        // The first alternative only refers to earlier rules, so every rule can complete.
        out += sequence(a == 0 ? r : rules, 2);
      }
      out += "\n";
    }
    return out;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<unsigned>(n)); }
  static std::string name(int r) { return r == 0 ? "root" : "r" + std::to_string(r); }

  std::string sequence(int max_rule, int depth) {
    std::string s;
    const int items = pick(4);
    for (int i = 0; i < items; ++i) s += item(max_rule, depth) + " ";
    return s.empty() ? "\"\"" : s;
  }

  // Quantifiers go on atoms and rule references only, and groups are never empty: random
  // grammars with starred empty groups are so ambiguous that the reference takes minutes.
  std::string item(int max_rule, int depth) {
    static const char* kLits[] = {"\"a\"", "\"b\"", "\"[\"", "\"]\"", "\"ab\"", "\"[a\""};
    static const char* kClasses[] = {"[ab]", "[^a]", "[a-b\\]]", "[\\[]", "."};
    // {5} and up become counted frames (kCountedRepeatMin) when the item is a prefix-free text.
    static const char* kQuant[] = {"",      "",      "",     "?",   "*",     "+",     "{2}",
                                   "{0,2}", "{1,3}", "{2,}", "{5}", "{0,6}", "{2,7}", "{6,}"};
    switch (pick(depth > 0 ? 7 : 5)) {
      case 0:
      case 1:
        return std::string(kLits[pick(6)]) + kQuant[pick(14)];
      case 2:
        return std::string(kClasses[pick(5)]) + kQuant[pick(14)];
      case 3:
        if (max_rule > 0) return name(pick(max_rule)) + kQuant[pick(4)];
        return kLits[pick(6)];
      case 4:
        return pick(2) ? "<[" + std::to_string(v_.s1) + "]>"
                       : "!<[" + std::to_string(v_.s2) + "]>" + kQuant[pick(4)];
      default:
        return "(" + item(max_rule, depth - 1) + " " + item(max_rule, depth - 1) + " | " +
               item(max_rule, depth - 1) + ")" +
               (pick(3) ? (pick(2) ? "?" : "") : kQuant[10 + pick(4)]);
    }
  }

  std::mt19937& rng_;
  const SmallVocab& v_;
};

std::vector<int32_t> mask_ids(const GrammarMatcher& m, const TokenVocab& v) {
  std::vector<uint64_t> bits(static_cast<size_t>(v.mask_words()));
  m.fill_mask(bits.data());
  std::vector<int32_t> ids;
  for (int32_t id = 0; id < v.size(); ++id)
    if (bits[id >> 6] >> (id & 63) & 1) ids.push_back(id);
  return ids;
}

TEST(GrammarMatcher, MasksEqualTheEarleyReferenceOnRandomGrammars) {
  const SmallVocab sv = small_vocab();
  const TokenVocab& v = *sv.vocab;
  std::mt19937 rng(12345);
  int compiled = 0, refused = 0, steps = 0, with_counted = 0;
  const int trials = getenv("UG_TRIALS") ? atoi(getenv("UG_TRIALS")) : 200;
  for (int trial = 0; trial < trials; ++trial) {
    RandomGrammar gen(rng, sv);
    const std::string text = gen.make();
    SCOPED_TRACE(text);
    if (getenv("UG_TRACE")) fprintf(stderr, "trial %d\n%s\n", trial, text.c_str());
    const Grammar g = parse_gbnf(text, &v);
    std::shared_ptr<const CompiledGrammar> cg;
    try {
      cg = compile_grammar(g, sv.vocab);
    } catch (const Error& e) {
      ASSERT_NE(std::string(e.what()).find("left-recursive"), std::string::npos) << e.what();
      ++refused;
      continue;
    }
    ++compiled;
    const auto& rc = cg->pda().rule_counted;
    if (std::find(rc.begin(), rc.end(), 1) != rc.end()) ++with_counted;
    test::ReferenceRecognizer ref(g, v);
    GrammarMatcher m(cg);
    std::vector<int32_t> prefix;
    std::vector<std::vector<int32_t>> masks;
    for (int step = 0; step < 8; ++step) {
      const std::vector<int32_t> got = mask_ids(m, v);
      std::vector<int32_t> want;
      const bool complete = ref.run(prefix).complete;
      for (int32_t id = 0; id < v.size(); ++id) {
        if (v.kind(id) == TokenKind::End) {
          if (complete) want.push_back(id);
          continue;
        }
        std::vector<int32_t> next = prefix;
        next.push_back(id);
        if (ref.run(next).viable) want.push_back(id);
      }
      ASSERT_EQ(got, want) << "after " << prefix.size() << " tokens";
      EXPECT_EQ(m.can_end(), complete);
      // Every masked-in token is accepted, every other refused (and leaves no trace).
      for (int32_t id = 0; id < v.size(); ++id) {
        const bool allowed = std::binary_search(want.begin(), want.end(), id);
        const bool ok = m.accept(id);
        ASSERT_EQ(ok, allowed) << "token " << id;
        if (ok) m.rollback(1);
      }
      masks.push_back(got);
      if (want.empty() || (want.size() == 1 && want[0] == sv.end)) break;
      std::vector<int32_t> choices;
      for (int32_t id : want)
        if (id != sv.end) choices.push_back(id);
      const int32_t t = choices[rng() % choices.size()];
      ASSERT_TRUE(m.accept(t));
      prefix.push_back(t);
      ++steps;
    }
    // Rolling back restores every earlier mask.
    for (int k = static_cast<int>(masks.size()) - 1; k >= 0 && m.accepted() > 0; --k) {
      if (m.accepted() > k) m.rollback(m.accepted() - k);
      ASSERT_EQ(mask_ids(m, v), masks[static_cast<size_t>(k)]);
    }
  }
  EXPECT_GT(compiled, trials * 2 / 3);
  EXPECT_GT(steps, trials * 2);
  EXPECT_GT(with_counted, trials / 5);  // counted repetition frames are exercised
  RecordProperty("refused", refused);
}

TEST(GrammarMatcher, EndTokensOnlyWhereTheGrammarMayEnd) {
  const SmallVocab sv = small_vocab();
  auto g = compile_gbnf("root ::= \"a\" \"b\"?", sv.vocab);
  GrammarMatcher m(g);
  EXPECT_FALSE(m.can_end());
  EXPECT_FALSE(m.accept(sv.end));
  ASSERT_TRUE(m.accept(0));  // "a"
  EXPECT_TRUE(m.can_end());
  EXPECT_FALSE(m.is_done());
  std::vector<int32_t> ids = mask_ids(m, *sv.vocab);
  EXPECT_TRUE(std::binary_search(ids.begin(), ids.end(), sv.end));
  ASSERT_TRUE(m.accept(1));  // "b"
  EXPECT_TRUE(m.is_done());
  ids = mask_ids(m, *sv.vocab);
  EXPECT_EQ(ids, std::vector<int32_t>{sv.end});
  ASSERT_TRUE(m.accept(sv.end));
  EXPECT_TRUE(m.is_done());
  EXPECT_TRUE(mask_ids(m, *sv.vocab).empty());
  EXPECT_FALSE(m.accept(0));
  m.rollback(1);
  EXPECT_EQ(mask_ids(m, *sv.vocab), std::vector<int32_t>{sv.end});
}

TEST(GrammarMatcher, SpecialTokensOnlyThroughTokenSyntax) {
  const SmallVocab sv = small_vocab();
  // <s1> is written as text: special tokens never match text, only <[id]> / <name>.
  auto as_text = compile_gbnf("root ::= \"<s1>\"", sv.vocab);
  GrammarMatcher a(as_text);
  EXPECT_FALSE(a.accept(sv.s1));
  auto by_name = compile_gbnf("root ::= <s1> \"a\"", sv.vocab);
  GrammarMatcher b(by_name);
  EXPECT_EQ(mask_ids(b, *sv.vocab), std::vector<int32_t>{sv.s1});
  EXPECT_TRUE(b.accept(sv.s1));
  // Free text until <s2>: any token but <s2> (and never the end token), then "a".
  auto lazy = compile_gbnf("root ::= !<s2>* <s2> \"a\"", sv.vocab);
  GrammarMatcher c(lazy);
  const std::vector<int32_t> ids = mask_ids(c, *sv.vocab);
  EXPECT_EQ(static_cast<int32_t>(ids.size()), sv.vocab->size() - 1);  // all but the end token
  ASSERT_TRUE(c.accept(sv.s1));
  ASSERT_TRUE(c.accept(5));
  ASSERT_TRUE(c.accept(sv.s2));
  EXPECT_EQ(mask_ids(c, *sv.vocab), (std::vector<int32_t>{0, 26}));  // "a" and its twin
}

TEST(GrammarMatcher, RollbackChecksItsArgument) {
  const SmallVocab sv = small_vocab();
  GrammarMatcher m(compile_gbnf("root ::= \"a\"*", sv.vocab));
  EXPECT_THROW(m.rollback(1), Error);
  ASSERT_TRUE(m.accept(0));
  EXPECT_EQ(m.accepted(), 1);
  EXPECT_THROW(m.rollback(-1), Error);
  m.rollback(1);
  EXPECT_EQ(m.accepted(), 0);
}

}  // namespace
}  // namespace ug

namespace ug {
namespace {

// A character-only rule used in two places (JSON's `char` in anyOf of two string lengths) is
// inlined: called, every mask walked the vocabulary trie below each character boundary (18 ms
// per token on the Gemma vocabulary); inlined, the mask comes from precomputed tables.
TEST(GrammarPda, CharacterRulesUsedTwiceAreInlined) {
  const nlohmann::ordered_json schema = nlohmann::ordered_json::parse(
      R"({"type": "string", "anyOf": [{"maxLength": 2}, {"minLength": 4}]})");
  const std::string gbnf = json_schema_to_gbnf(schema);
  ASSERT_NE(gbnf.find("char ::="), std::string::npos) << gbnf;
  const Grammar g = parse_gbnf(gbnf);
  const Pda p = build_pda(g, nullptr);
  for (size_t r = 0; r < p.rule_names.size(); ++r)
    if (p.rule_names[r] == "char") EXPECT_EQ(p.rule_start[r], -1) << "char has its own automaton";
  // Still the same language.
  const SmallVocab v = small_vocab();
  auto cg = compile_gbnf("root ::= x{0,2} \"b\" | x{4,9} \"a\"\nx ::= [a[] | \"]\" [ab]", v.vocab);
  GrammarMatcher m(cg);
  EXPECT_TRUE(m.accept_bytes("]ab"));
  EXPECT_TRUE(m.can_end());
  GrammarMatcher m2(cg);
  EXPECT_TRUE(m2.accept_bytes("aaa"));
  EXPECT_FALSE(m2.accept_bytes("b"));
  EXPECT_TRUE(m2.accept_bytes("aa"));
  EXPECT_TRUE(m2.can_end());
}

}  // namespace
}  // namespace ug
