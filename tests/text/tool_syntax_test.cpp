#include "text/tool_syntax.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace ug {
namespace {

using nlohmann::json;

TEST(ToolSyntax, JsonToDslFollowsFormatArgument) {
  EXPECT_EQ(json_to_gemma_dsl(json("Paris")), "<|\"|>Paris<|\"|>");
  EXPECT_EQ(json_to_gemma_dsl(json(true)), "true");
  EXPECT_EQ(json_to_gemma_dsl(json(false)), "false");
  EXPECT_EQ(json_to_gemma_dsl(json(nullptr)), "None");  // Python's str(None)
  EXPECT_EQ(json_to_gemma_dsl(json(-7)), "-7");
  EXPECT_EQ(json_to_gemma_dsl(json::parse("[1,\"a\",[]]")), "[1,<|\"|>a<|\"|>,[]]");
  EXPECT_EQ(json_to_gemma_dsl(json::parse(R"({"b":{"y":1,"X":2},"A":"s"})")),
            "{A:<|\"|>s<|\"|>,b:{X:2,y:1}}");
  EXPECT_EQ(json_to_gemma_dsl(json::parse(R"({"k":"v"})"), true), "{<|\"|>k<|\"|>:<|\"|>v<|\"|>}");
}

TEST(ToolSyntax, FloatsPrintLikePython) {
  EXPECT_EQ(python_float_repr(1.5), "1.5");
  EXPECT_EQ(python_float_repr(2.0), "2.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(0.00001), "1e-05");
  EXPECT_EQ(python_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(python_float_repr(123456.789), "123456.789");
  EXPECT_EQ(python_float_repr(-0.0), "-0.0");
  EXPECT_EQ(python_float_repr(1.0 / 3.0), "0.3333333333333333");
}

TEST(ToolSyntax, PythonStrOfContainers) {
  EXPECT_EQ(python_str(json::parse(R"(["STRING","null",1,true,null])")),
            "['STRING', 'null', 1, True, None]");
  EXPECT_EQ(python_str(json::parse(R"({"a":"it's"})")), "{'a': \"it's\"}");
}

TEST(ToolSyntax, ParsesModelCallArguments) {
  const json v = gemma_dsl_to_json(
      "{city:<|\"|>Paris, FR<|\"|>,days:3,ratio:-0.25,exp:1e3,ok:true,no:false,nothing:null,"
      "list:[1,<|\"|>a,b<|\"|>,{x:1}],nested:{deep:{k:<|\"|>{not:json}<|\"|>}}}");
  EXPECT_EQ(v, json::parse(R"({"city":"Paris, FR","days":3,"ratio":-0.25,"exp":1000.0,"ok":true,
      "no":false,"nothing":null,"list":[1,"a,b",{"x":1}],"nested":{"deep":{"k":"{not:json}"}}})"));
  EXPECT_TRUE(v["days"].is_number_integer());
  EXPECT_TRUE(v["exp"].is_number_float());
}

TEST(ToolSyntax, RoundTripsThroughDsl) {
  const json v = json::parse(
      R"({"a":[1,2.5,"x",{"q":[true,false]}],"b":{"c":"multi\nline \"quotes\" {braces}"},
          "d":-3,"e":18446744073709551615,"Big":"ünïcödé"})");
  EXPECT_EQ(gemma_dsl_to_json(json_to_gemma_dsl(v)), v);
  EXPECT_EQ(gemma_dsl_to_json(json_to_gemma_dsl(v, true)), v);
}

TEST(ToolSyntax, ForgivingInputs) {
  EXPECT_EQ(gemma_dsl_to_json(" { a : 1 , b : [ 1 , 2 , ] , } "),
            json::parse(R"({"a":1,"b":[1,2]})"));
  EXPECT_EQ(gemma_dsl_to_json(R"({"a":"json \"str\"","b":None,"c":True})"),
            json::parse(R"({"a":"json \"str\"","b":null,"c":true})"));
  EXPECT_EQ(gemma_dsl_to_json("{}"), json::object());
  EXPECT_EQ(gemma_dsl_to_json("{my key:1}"), json::parse(R"({"my key":1})"));
}

TEST(ToolSyntax, ErrorsNameThePosition) {
  auto message_of = [](std::string_view text) {
    try {
      gemma_dsl_to_json(text);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of("{a:<|\"|>open").find("closing <|\"|>"), std::string::npos);
  EXPECT_NE(message_of("{a 1}").find("':' after key 'a 1'"), std::string::npos);
  EXPECT_NE(message_of("{a:1").find("at byte 4"), std::string::npos);
  EXPECT_NE(message_of("{a:1} x").find("at byte 6"), std::string::npos);
  EXPECT_NE(message_of("{a:maybe}").find("at byte 3"), std::string::npos);
  EXPECT_NE(message_of("[1 2]").find("',' or ']'"), std::string::npos);
  EXPECT_NE(message_of("{a:1.2.3}").find("a number"), std::string::npos);
  EXPECT_NE(message_of("").find("end of the text"), std::string::npos);
  EXPECT_NE(message_of("{:1}").find("a key"), std::string::npos);
}

TEST(ToolSyntax, StripAndDictsort) {
  EXPECT_EQ(python_strip(" \t\na b\r\n\xe2\x80\x83"), "a b");
  EXPECT_EQ(python_strip("\xc3\xa9"), "\xc3\xa9");
  const json o = json::parse(R"({"b":1,"C":2,"a":3})");
  std::string order;
  for (const auto& [k, v] : dictsort(o)) order += k;
  EXPECT_EQ(order, "abC");
}

// Generated text can be as long as the token limit: nesting is bounded like JSON's, not by the
// stack (issue 12).
TEST(ToolSyntax, DslNestingIsBounded) {
  const std::string ok = std::string(128, '[') + std::string(128, ']');
  EXPECT_NO_THROW(gemma_dsl_to_json(ok));
  for (int depth : {129, 100000}) {
    const std::string deep = std::string(depth, '[') + std::string(depth, ']');
    try {
      gemma_dsl_to_json(deep);
      ADD_FAILURE() << "accepted depth " << depth;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("at most 128 nested"), std::string::npos) << e.what();
    }
  }
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{a:";
  EXPECT_THROW(gemma_dsl_to_json(objects), Error);
}

}  // namespace
}  // namespace ug
