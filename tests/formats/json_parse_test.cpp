#include "formats/json_parse.h"

#include "format_test_util.h"

namespace ug {
namespace {

using nlohmann::json;

std::string arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string objects(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"k\":";
  s += "null";
  return s + std::string(depth, '}');
}

TEST(JsonParse, GivesWhatNlohmannGives) {
  const std::string text = R"({"a": [1, -2, 3.5, 1e3, 18446744073709551615, true, false, null],
    "b": {"c": "d\u00e9\ud83d\ude00\n", "e": []}, "": {}, "n": -9223372036854775808})";
  const json ours = parse_json(text, "doc");
  EXPECT_EQ(ours, json::parse(text));
  EXPECT_TRUE(ours["a"][4].is_number_unsigned());
  EXPECT_TRUE(ours["n"].is_number_integer());
  EXPECT_EQ(parse_json("  42 ", "x"), 42);
  EXPECT_EQ(parse_json("\"s\"", "x"), "s");
  EXPECT_EQ(parse_json("[[],[[]]]", "x"), json::parse("[[],[[]]]"));
}

TEST(JsonParse, DepthIsLimitedWhileParsing) {
  EXPECT_NO_THROW(parse_json(arrays(kMaxJsonDepth), "x"));
  EXPECT_NO_THROW(parse_json(objects(kMaxJsonDepth), "x"));
  EXPECT_THROW(parse_json(arrays(kMaxJsonDepth + 1), "x"), JsonDepthError);
  EXPECT_THROW(parse_json(objects(kMaxJsonDepth + 1), "x"), JsonDepthError);
  // Far too deep (the reports: 10^5 and 10^6 levels), even unterminated: refused at level 129.
  EXPECT_ERROR_HAS(parse_json(arrays(1000000), "the request body"), "the request body",
                   "nested more than 128 levels");
  EXPECT_ERROR_HAS(parse_json(std::string(1000000, '['), "x"), "nested more than 128");
  EXPECT_ERROR_HAS(parse_json(objects(100000), "config.json"), "config.json", "nested");
  JsonParseOptions shallow;
  shallow.max_depth = 2;
  EXPECT_NO_THROW(parse_json("[[1]]", "x", shallow));
  EXPECT_ERROR_HAS(parse_json("[[[1]]]", "x", shallow), "more than 2 levels");
}

TEST(JsonParse, SyntaxErrorsNameWhatWasParsed) {
  const std::string msg = test::error_of([] { parse_json("{\"a\": tru}", "config.json"); });
  EXPECT_EQ(msg.rfind("config.json: invalid JSON: parse error at line 1, column", 0), 0u) << msg;
  EXPECT_EQ(msg.find("[json.exception"), std::string::npos) << msg;
  EXPECT_ERROR_HAS(parse_json("", "x"), "x: invalid JSON");
  EXPECT_ERROR_HAS(parse_json("{} {}", "x"), "x: invalid JSON");
  EXPECT_ERROR_HAS(parse_json("\"\xFF\"", "x"), "invalid JSON");     // ill-formed UTF-8
  EXPECT_ERROR_HAS(parse_json("[1e400]", "x"), "invalid JSON");      // not a finite number
  EXPECT_ERROR_HAS(parse_json("\"\\ud800\"", "x"), "invalid JSON");  // lone surrogate
}

TEST(JsonParse, DuplicateKeys) {
  EXPECT_EQ(parse_json(R"({"a": 1, "a": 2})", "x")["a"], 2) << "the last one wins by default";
  JsonParseOptions strict;
  strict.reject_duplicate_keys = true;
  EXPECT_ERROR_HAS(parse_json(R"({"a": {"b": 1, "b": 2}})", "h", strict), "h: invalid JSON",
                   "key 'b' appears twice");
  EXPECT_NO_THROW(parse_json(R"({"a": {"b": 1}, "c": {"b": 2}})", "h", strict));
}

TEST(JsonParse, ExcerptStaysShort) {
  json big = json::array();
  for (int i = 0; i < 1000; ++i) big.push_back("élément");
  const std::string e = json_excerpt(big, 50);
  EXPECT_LE(e.size(), 53u);
  EXPECT_EQ(e.substr(e.size() - 3), "...");
  EXPECT_EQ(json_excerpt(json{{"a", 1}}), "{\"a\":1}");
  // Cut on a character boundary: the excerpt is valid UTF-8.
  EXPECT_NO_THROW(json(e).dump());
}

TEST(JsonParse, FilesNameTheirPath) {
  const std::string path = test::temp_path("deep.json");
  const std::string deep = objects(100000);
  test::write_bytes(path, deep.data(), deep.size());
  EXPECT_ERROR_HAS(read_json_file(path), path, "nested more than 128 levels");
  EXPECT_ERROR_HAS(read_json_file(path + ".missing"), "cannot open");
}

}  // namespace
}  // namespace ug
