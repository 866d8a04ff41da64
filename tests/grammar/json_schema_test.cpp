// GBNF parsing, JSON Schema conversion per keyword, regexes, number ranges and the tool-call
// grammar, checked through a matcher over a byte vocabulary (one token per byte, plus the
// Gemma 4 chat markers as special tokens).
#include <gtest/gtest.h>

#include <random>

#include "base/error.h"
#include "grammar/gbnf_parser.h"
#include "grammar/grammar.h"
#include "grammar/regex_to_gbnf.h"
#include "grammar/tool_call_grammar.h"
#include "text/output_parser.h"

namespace ug {
namespace {

using ojson = nlohmann::ordered_json;

std::shared_ptr<const TokenVocab> byte_vocab() {
  static const auto v = [] {
    std::vector<std::string> bytes, names;
    std::vector<TokenKind> kinds;
    for (int b = 0; b < 256; ++b) {
      bytes.push_back(std::string(1, static_cast<char>(b)));
      names.push_back("");
      kinds.push_back(b == 0 ? TokenKind::Never : TokenKind::Text);
    }
    for (const char* m :
         {"<|\"|>", "<|tool_call>", "<tool_call|>", "<|channel>", "<channel|>", "<eos>"}) {
      bytes.push_back(m);
      names.push_back(m);
      kinds.push_back(TokenKind::Special);
    }
    return std::make_shared<const TokenVocab>(
        bytes, kinds, std::vector<int32_t>{static_cast<int32_t>(bytes.size()) - 1}, names);
  }();
  return v;
}

// Whether `text` is a complete sentence of the grammar.
bool matches(const std::shared_ptr<const CompiledGrammar>& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.accept_bytes(text) && m.can_end();
}

std::shared_ptr<const CompiledGrammar> schema(const char* json_text) {
  return compile_json_schema(ojson::parse(json_text), byte_vocab());
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Gbnf, ParsesLlamaCppSyntax) {
  const char* text = R"(# comment
root ::= greeting ws (name | "x"{2,3}) [^\n]? "\x41\u00e9"
greeting ::= "hi" | "hello"   # trailing comment
ws ::= [ \t]*
name ::= [A-Z] [a-z-]+
)";
  auto g = compile_gbnf(text, byte_vocab());
  EXPECT_TRUE(matches(g,
                      "hi  Bob\xc3\xa9"
                      "A\xc3\xa9"));
  EXPECT_TRUE(matches(g, "helloxxx!A\xc3\xa9"));
  EXPECT_FALSE(matches(g, "hixA\xc3\xa9"));
  EXPECT_FALSE(matches(g, "hi Bo"));
}

TEST(Gbnf, ErrorsNameLineAndColumn) {
  EXPECT_NE(error_of([] { parse_gbnf("root ::= \"a\"\nx ::= [a-"); }).find("line 2"),
            std::string::npos);
  EXPECT_NE(
      error_of([] { parse_gbnf("root ::= foo"); }).find("rule 'foo' is used but never defined"),
      std::string::npos);
  EXPECT_NE(error_of([] { parse_gbnf("a ::= \"x\""); }).find("no 'root' rule"), std::string::npos);
  EXPECT_NE(error_of([] { parse_gbnf("root ::= \"\\q\""); }).find("unknown escape"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_gbnf("root ::= \"a\"\nroot ::= \"b\""); }).find("defined twice"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_gbnf("root ::= * \"a\""); }).find("column 10"), std::string::npos);
  EXPECT_NE(error_of([] {
              compile_gbnf("root ::= root \"a\" | \"b\"", byte_vocab());
            }).find("left-recursive"),
            std::string::npos);
  EXPECT_NE(error_of([] { compile_gbnf("root ::= <nosuch>", byte_vocab()); }).find("no token"),
            std::string::npos);
}

TEST(JsonSchema, TypesAndObjects) {
  auto g = schema(R"({"type":"object","properties":{"name":{"type":"string"},
      "age":{"type":"integer"},"ok":{"type":"boolean"},"none":{"type":"null"}},
      "required":["name"]})");
  EXPECT_TRUE(matches(g, R"({"name":"Ann"})"));
  EXPECT_TRUE(matches(g, "{ \"name\": \"A\\\"n\\u00e9\",\n  \"age\": -3, \"ok\": true }"));
  EXPECT_TRUE(matches(g, R"({"name":"x","none":null})"));
  EXPECT_FALSE(matches(g, R"({"age":3})"));           // name is required
  EXPECT_FALSE(matches(g, R"({"name":"x","z":1})"));  // no extra properties by default
  EXPECT_FALSE(matches(g, R"({"name":"x","age":1.5})"));
  EXPECT_FALSE(matches(g, R"( {"name":"x"})"));  // no leading whitespace
  auto any = schema(R"({"type":"object","additionalProperties":{"type":"number"}})");
  EXPECT_TRUE(matches(any, R"({"a":1,"b":2.5e3})"));
  EXPECT_FALSE(matches(any, R"({"a":"s"})"));
  auto extra =
      schema(R"({"type":"object","properties":{"a":{"const":1}},"additionalProperties":true})");
  EXPECT_TRUE(matches(extra, R"({"a":1,"b":[1,{"c":null}]})"));
  EXPECT_FALSE(matches(extra, R"({"a":1,"a":2})"));  // an extra key never repeats a declared one
}

TEST(JsonSchema, ArraysEnumsConstsCombinators) {
  auto arr = schema(R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3})");
  EXPECT_TRUE(matches(arr, "[1]"));
  EXPECT_TRUE(matches(arr, "[1, 2,3]"));
  EXPECT_FALSE(matches(arr, "[]"));
  EXPECT_FALSE(matches(arr, "[1,2,3,4]"));
  auto tuple = schema(R"({"prefixItems":[{"type":"string"},{"type":"number"}],"items":false})");
  EXPECT_TRUE(matches(tuple, R"(["a",1])"));
  EXPECT_TRUE(matches(tuple, R"(["a"])"));
  EXPECT_FALSE(matches(tuple, R"(["a",1,2])"));
  auto en = schema(R"({"enum":["red",1,null,{"k":[true]}]})");
  EXPECT_TRUE(matches(en, R"("red")"));
  EXPECT_TRUE(matches(en, R"({"k":[true]})"));
  EXPECT_FALSE(matches(en, R"("blue")"));
  auto any_of =
      schema(R"({"anyOf":[{"type":"string","maxLength":2},{"type":"number","minimum":5}]})");
  EXPECT_TRUE(matches(any_of, R"("ab")"));
  EXPECT_TRUE(matches(any_of, "7.5"));
  EXPECT_FALSE(matches(any_of, "4"));
  auto all_of = schema(R"({"allOf":[{"type":"object","properties":{"a":{"type":"string"}},
      "required":["a"]},{"properties":{"b":{"type":"integer"}},"required":["b"]}]})");
  EXPECT_TRUE(matches(all_of, R"({"a":"x","b":1})"));
  EXPECT_FALSE(matches(all_of, R"({"a":"x"})"));
  auto one_of = schema(R"({"oneOf":[{"type":"object","properties":{"kind":{"const":"a"}},
      "required":["kind"]},{"type":"object","properties":{"kind":{"const":"b"},"n":{"type":"integer"}},
      "required":["kind","n"]}]})");
  EXPECT_TRUE(matches(one_of, R"({"kind":"b","n":2})"));
  EXPECT_FALSE(matches(one_of, R"({"kind":"a","n":2})"));
  auto nullable = schema(R"({"type":"string","nullable":true})");
  EXPECT_TRUE(matches(nullable, "null"));
  auto type_list = schema(R"({"type":["integer","null"]})");
  EXPECT_TRUE(matches(type_list, "null"));
  EXPECT_TRUE(matches(type_list, "12"));
  EXPECT_TRUE(matches(schema("{}"), R"([{"x":"y"},1,"s",null])"));
  EXPECT_TRUE(matches(schema("true"), "false"));
}

TEST(JsonSchema, RefsIncludingRecursion) {
  auto g = schema(R"({"$ref":"#/$defs/node","$defs":{"node":{"type":"object",
      "properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},
      "required":["v"]}}})");
  EXPECT_TRUE(matches(g, R"({"v":1,"kids":[{"v":2,"kids":[{"v":3}]},{"v":4}]})"));
  EXPECT_FALSE(matches(g, R"({"v":1,"kids":[{"kids":[]}]})"));
  auto ptr = schema(
      R"({"definitions":{"a/b":{"const":"x"}},"properties":{"p":{"$ref":"#/definitions/a~1b"}}})");
  EXPECT_TRUE(matches(ptr, R"({"p":"x"})"));
}

TEST(JsonSchema, StringsLengthsPatternsFormats) {
  auto len = schema(R"({"type":"string","minLength":2,"maxLength":4})");
  EXPECT_TRUE(matches(len, R"("ab")"));
  EXPECT_TRUE(matches(len, R"("\u00e9\n\"x")"));  // escapes count as one character
  EXPECT_FALSE(matches(len, R"("a")"));
  EXPECT_FALSE(matches(len, R"("abcde")"));
  auto pat = schema(R"({"type":"string","pattern":"^[A-Z]{2}-\\d{3,}$"})");
  EXPECT_TRUE(matches(pat, R"("AB-1234")"));
  EXPECT_FALSE(matches(pat, R"("AB-12")"));
  auto quote = schema(R"({"type":"string","pattern":"^a\"b|\\\\$"})");
  EXPECT_TRUE(matches(quote, R"("a\"b")"));
  EXPECT_TRUE(matches(quote, R"("\\")"));
  auto folded = schema(R"({"type":"string","pattern":"^[a-z]+$","maxLength":3})");
  EXPECT_TRUE(matches(folded, R"("abc")"));
  EXPECT_FALSE(matches(folded, R"("abcd")"));
  const std::pair<const char*, const char*> formats[] = {
      {"date-time", R"("2024-02-28T13:05:09.5+01:00")"},
      {"date", R"("1999-12-31")"},
      {"time", R"("23:59:59Z")"},
      {"email", R"("a.b@example.com")"},
      {"uuid", R"("123e4567-e89b-12d3-a456-426614174000")"},
      {"uri", R"("https://example.com/a/b?x=1#f")"},
      {"ipv4", R"("192.168.0.255")"}};
  for (const auto& [f, good] : formats) {
    auto g = schema(("{\"type\":\"string\",\"format\":\"" + std::string(f) + "\"}").c_str());
    EXPECT_TRUE(matches(g, good)) << f;
    EXPECT_FALSE(matches(g, R"("nope nope")")) << f;
  }
  EXPECT_FALSE(matches(schema(R"({"format":"date"})"), R"("2023-02-30")"));
  EXPECT_FALSE(matches(schema(R"({"format":"ipv4"})"), R"("256.1.1.1")"));
}

TEST(JsonSchema, NumberBoundsAgreeWithArithmetic) {
  struct Case {
    const char* schema;
    double lo, hi;
    bool lo_excl, hi_excl, integer;
  };
  const Case cases[] = {
      {R"({"type":"integer","minimum":-17,"maximum":230})", -17, 230, false, false, true},
      {R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":100})", 0, 100, true, true,
       true},
      {R"({"type":"number","minimum":-1.5,"exclusiveMaximum":2.25})", -1.5, 2.25, false, true,
       false},
      {R"({"type":"number","exclusiveMinimum":0,"maximum":1})", 0, 1, true, false, false},
      {R"({"type":"integer","minimum":10,"exclusiveMinimum":true})", 10, 1e9, true, false, true},
  };
  for (const Case& c : cases) {
    auto g = schema(c.schema);
    for (int k = -2600; k <= 2600; ++k) {
      const double x = k / (c.integer ? 10.0 : 1000.0) * (c.integer ? 10 : 1);
      char text[64];
      std::snprintf(text, sizeof(text), c.integer ? "%.0f" : "%.3f", x);
      const double v = std::strtod(text, nullptr);
      const bool in = (c.lo_excl ? v > c.lo : v >= c.lo) && (c.hi_excl ? v < c.hi : v <= c.hi);
      ASSERT_EQ(matches(g, text), in) << c.schema << " " << text;
    }
  }
}

TEST(JsonSchema, UnsupportedKeywordsNameKeywordAndPath) {
  EXPECT_NE(
      error_of([] {
        schema(R"({"properties":{"a":{"not":{"type":"null"}}}})");
      }).find("unsupported JSON Schema keyword \"not\" ({\"type\":\"null\"}) at /properties/a"),
      std::string::npos);
  EXPECT_NE(error_of([] {
              schema(R"({"items":{"type":"string"},"uniqueItems":true})");
            }).find("\"uniqueItems\""),
            std::string::npos);
  EXPECT_NE(error_of([] {
              schema(R"({"$defs":{"x":{"if":{}}},"$ref":"#/$defs/x"})");
            }).find("\"if\" ({}) at /$defs/x"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              schema(R"({"type":"string","format":"color"})");
            }).find("unsupported JSON Schema format \"color\" at /"),
            std::string::npos);
  EXPECT_NE(error_of([] { schema(R"({"$ref":"https://example.com/s.json"})"); }).find("$ref"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              schema(R"({"oneOf":[{"type":"string"},{"type":"string","maxLength":3}]})");
            }).find("may both match"),
            std::string::npos);
  EXPECT_NE(
      error_of([] { schema(R"({"type":"string","pattern":"(a)\\1"})"); }).find("backreferences"),
      std::string::npos);
  // Annotations are accepted.
  EXPECT_EQ(error_of([] {
              schema(R"({"title":"t","description":"d","examples":[1],"default":2,"$comment":"c",
                  "readOnly":true,"x-vendor":{},"type":"integer"})");
            }),
            "");
  // Keywords outside the JSON Schema vocabularies are annotations (unknown keywords are
  // ignored by the specification): they neither fail nor constrain.
  auto g = schema(R"({"type":"object","cli":"nx","$default":{"$source":"argv"},
                      "maintainers":["a"],"properties":{"n":{"type":"integer","x-prompt":"?",
                      "optional":true}},"required":["n"],"additionalProperties":false})");
  EXPECT_TRUE(matches(g, R"({"n":1})"));
  EXPECT_FALSE(matches(g, R"({"n":"1"})"));
  EXPECT_FALSE(matches(g, R"({})"));
  auto any = schema(R"({"tsEnumNames":["A"],"meta:enum":{}})");
  EXPECT_TRUE(matches(any, R"([1,"x",{"a":null}])"));
  // So are formats no draft defines; standard ones without a regex ("color") stay refused.
  auto path = schema(R"({"type":"string","format":"html-selector"})");
  EXPECT_TRUE(matches(path, R"("div > p.x")"));
  EXPECT_FALSE(matches(path, "1"));
  auto small = schema(R"({"type":"integer","format":"uint8"})");
  EXPECT_TRUE(matches(small, "300"));
  // Vocabulary keywords stay refused until implemented, even beside vendor ones.
  for (const char* k : {"patternProperties", "dependentSchemas", "contains", "$dynamicRef"})
    EXPECT_NE(error_of([&] {
                schema((std::string(R"({"vendor":1,")") + k + R"(":{}})").c_str());
              }).find(std::string("\"") + k + "\""),
              std::string::npos)
        << k;
}

TEST(Regex, Translation) {
  EXPECT_EQ(regex_to_gbnf("^abc$", StringSyntax::Json).max_chars, 3);
  EXPECT_EQ(regex_to_gbnf("a{2,5}b?", StringSyntax::Json).min_chars, 2);
  EXPECT_EQ(regex_to_gbnf("a+", StringSyntax::Json).max_chars, -1);
  EXPECT_NE(error_of([] { regex_to_gbnf("(?=a)b", StringSyntax::Json); }).find("lookahead"),
            std::string::npos);
  EXPECT_NE(error_of([] { regex_to_gbnf("a^b", StringSyntax::Json); }).find("anchors"),
            std::string::npos);
  auto g = schema(R"({"pattern":"^(?:\\d+|[x-z]{2})(\\.[^\\s.]{1,2})*$"})");
  EXPECT_TRUE(matches(g, R"("42.ab.c")"));
  EXPECT_TRUE(matches(g, R"("yz")"));
  EXPECT_FALSE(matches(g, R"("42. ")"));
}

TEST(ThoughtPrefix, ThoughtStaysFreeAnswerIsConstrained) {
  ConstraintOptions o;
  o.allow_thought = true;
  auto g = compile_json_schema(ojson::parse(R"({"type":"boolean"})"), byte_vocab(), o);
  const TokenVocab& v = *byte_vocab();
  GrammarMatcher m(g);
  ASSERT_TRUE(m.accept(v.find_name("<|channel>")));
  ASSERT_TRUE(m.accept('{'));  // anything inside the thought
  ASSERT_TRUE(m.accept(v.find_name("<|tool_call>")));
  EXPECT_FALSE(m.accept(v.end_ids()[0]));  // cannot stop inside the thought
  ASSERT_TRUE(m.accept(v.find_name("<channel|>")));
  EXPECT_FALSE(m.accept('{'));
  EXPECT_TRUE(m.accept_bytes("true"));
  EXPECT_TRUE(m.can_end());
  EXPECT_TRUE(matches(g, "false"));  // the thought is optional
}

// Random tool calls under the grammar parse back through output_parser with valid arguments.
TEST(ToolCallGrammar, RandomCallsRoundTripThroughTheOutputParser) {
  const ojson tools = ojson::parse(R"([
    {"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
      "properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["c","f"]},
      "days":{"type":"integer","minimum":1,"maximum":7}},"required":["city"]}}},
    {"type":"function","function":{"name":"search","parameters":{"type":"object",
      "properties":{"query":{"type":"string"},"tags":{"type":"array","items":{"type":"string"},
      "maxItems":2},"strict":{"type":"boolean"}},"required":["query","strict"]}}}])");
  const TokenVocab& v = *byte_vocab();
  std::mt19937_64 rng(7);
  for (const char* choice : {"required", "auto", "search"}) {
    auto g = compile_gbnf(tool_call_gbnf(tools, ojson(choice), false), byte_vocab());
    int calls = 0;
    for (int trial = 0; trial < 40; ++trial) {
      GrammarMatcher m(g);
      std::string text;
      std::vector<uint64_t> bits(static_cast<size_t>(v.mask_words()));
      for (int step = 0; step < 400 && !m.is_done(); ++step) {
        m.fill_mask(bits.data());
        std::vector<int32_t> ids;
        for (int32_t id = 0; id < v.size(); ++id)
          if (bits[id >> 6] >> (id & 63) & 1) ids.push_back(id);
        ASSERT_FALSE(ids.empty());
        // Favour structure over endless strings: prefer special tokens and ASCII punctuation.
        int32_t t = ids[rng() % ids.size()];
        for (int tries = 0; tries < 3 && t >= 128 && t < 256; ++tries) t = ids[rng() % ids.size()];
        if (v.kind(t) == TokenKind::End) break;
        ASSERT_TRUE(m.accept(t));
        text += v.bytes(t);
      }
      if (!m.can_end()) continue;
      const ParsedOutput p = parse_output(text);
      for (const ToolCall& c : p.tool_calls) {
        ++calls;
        if (std::string(choice) == "search") EXPECT_EQ(c.name, "search");
        ASSERT_TRUE(c.arguments.is_object()) << text;
        if (c.name == "get_weather") {
          ASSERT_TRUE(c.arguments.contains("city")) << text;
          EXPECT_LE(c.arguments["city"].get<std::string>().size(), 12u * 4) << text;
          if (c.arguments.contains("days")) {
            EXPECT_GE(c.arguments["days"].get<int>(), 1);
            EXPECT_LE(c.arguments["days"].get<int>(), 7);
          }
        } else {
          ASSERT_EQ(c.name, "search");
          ASSERT_TRUE(c.arguments.contains("query") && c.arguments["strict"].is_boolean()) << text;
        }
        for (const auto& [k, val] : c.arguments.items())
          EXPECT_TRUE(k == "city" || k == "unit" || k == "days" || k == "query" || k == "tags" ||
                      k == "strict")
              << k;
      }
      if (std::string(choice) != "auto") EXPECT_GE(p.tool_calls.size(), 1u) << text;
      if (std::string(choice) == "required") EXPECT_TRUE(p.content.empty()) << text;
    }
    EXPECT_GT(calls, 5) << choice;
  }
}

}  // namespace
}  // namespace ug
