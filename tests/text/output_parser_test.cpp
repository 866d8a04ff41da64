#include "text/output_parser.h"

#include <gtest/gtest.h>

namespace ug {
namespace {

using nlohmann::json;

TEST(OutputParser, PlainContentIsTrimmed) {
  const ParsedOutput p = parse_output("\n Hello there! \n");
  EXPECT_EQ(p.content, "Hello there!");
  EXPECT_EQ(p.reasoning, "");
  EXPECT_TRUE(p.tool_calls.empty());
}

TEST(OutputParser, SplitsThoughtAndAnswer) {
  const ParsedOutput p =
      parse_output("<|channel>thought\nThe user greets me.\nBe nice.\n<channel|>Hi! How are you?");
  EXPECT_EQ(p.reasoning, "The user greets me.\nBe nice.");
  EXPECT_EQ(p.content, "Hi! How are you?");
}

TEST(OutputParser, EmptyThoughtAndExtraEmptyBlocksAreDropped) {
  EXPECT_EQ(parse_output("<|channel>thought\n<channel|>Answer").content, "Answer");
  const ParsedOutput p = parse_output(
      "<|channel>thought\nR<channel|><|channel><channel|>\nAnswer<|channel>thought "
      "<channel|>");
  EXPECT_EQ(p.reasoning, "R");
  EXPECT_EQ(p.content, "Answer");
}

TEST(OutputParser, SeveralThoughtBlocksJoinedByNewline) {
  EXPECT_EQ(
      parse_output("<|channel>thought\nA<channel|>x<|channel>thought\nB<channel|>y").reasoning,
      "A\nB");
}

TEST(OutputParser, StrayCloseMarkerDropped) {
  const ParsedOutput p = parse_output("Answer<channel|> more");
  EXPECT_EQ(p.content, "Answer more");
  EXPECT_EQ(p.reasoning, "");
}

TEST(OutputParser, UnclosedChannelIsAllReasoning) {
  const ParsedOutput p = parse_output("<|channel>thought\nstill thinking about it");
  EXPECT_EQ(p.reasoning, "still thinking about it");
  EXPECT_EQ(p.content, "");
  EXPECT_EQ(parse_output("<|channel>thou").reasoning, "thou");
}

TEST(OutputParser, StopMarkersEndTheAnswer) {
  EXPECT_EQ(parse_output("Done.<turn|>\n<|turn>user\nignored").content, "Done.");
  EXPECT_EQ(parse_output("<|channel>thought\nr<turn|>x").reasoning, "r");
}

TEST(OutputParser, ToolCallsBecomeJson) {
  const ParsedOutput p = parse_output(
      "<|channel>thought\nNeed two tools.<channel|>"
      "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:2}<tool_call|>"
      "<|tool_call>call:now{}<tool_call|><|tool_response>");
  EXPECT_EQ(p.reasoning, "Need two tools.");
  EXPECT_EQ(p.content, "");
  ASSERT_EQ(p.tool_calls.size(), 2u);
  EXPECT_EQ(p.tool_calls[0].id, "call_0");
  EXPECT_EQ(p.tool_calls[0].name, "get_weather");
  EXPECT_EQ(p.tool_calls[0].arguments, json::parse(R"({"city":"Paris","days":2})"));
  EXPECT_EQ(p.tool_calls[1].id, "call_1");
  EXPECT_EQ(p.tool_calls[1].name, "now");
  EXPECT_EQ(p.tool_calls[1].arguments, json::object());
}

TEST(OutputParser, ContentAroundToolCall) {
  const ParsedOutput p =
      parse_output("Let me check. <|tool_call>call:f{a:[1,2]}<tool_call|> Thanks");
  EXPECT_EQ(p.content, "Let me check.  Thanks");
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_EQ(p.tool_calls[0].arguments, json::parse(R"({"a":[1,2]})"));
}

TEST(OutputParser, UnclosedButCompleteToolCallAtEndIsAccepted) {
  const ParsedOutput p = parse_output("<|tool_call>call:f{x:<|\"|>y<|\"|>}");
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_EQ(p.tool_calls[0].arguments, json::parse(R"({"x":"y"})"));
}

TEST(OutputParser, BrokenToolSyntaxStaysContent) {
  for (std::string bad : {"<|tool_call>call:f{x:<|\"|>unterminated}<tool_call|>",
                          "<|tool_call>call:f{x 1}<tool_call|>", "<|tool_call>f{x:1}<tool_call|>",
                          "<|tool_call>call:{x:1}<tool_call|>", "<|tool_call>call:f[1]<tool_call|>",
                          "<|tool_call>call:f{x:1} trailing<tool_call|>"}) {
    const ParsedOutput p = parse_output("ok " + bad);
    EXPECT_TRUE(p.tool_calls.empty()) << bad;
    EXPECT_EQ(p.content, "ok " + bad);
  }
  const ParsedOutput open = parse_output("<|tool_call>call:f{x:");
  EXPECT_TRUE(open.tool_calls.empty());
  EXPECT_EQ(open.content, "<|tool_call>call:f{x:");
}

TEST(OutputParser, PartialMarkerAtEndIsText) {
  EXPECT_EQ(parse_output("a <|chan").content, "a <|chan");
  EXPECT_EQ(parse_output("a <tool_call").content, "a <tool_call");
}

StreamingOutputParser::Delta merged(std::vector<StreamingOutputParser::Delta> ds) {
  StreamingOutputParser::Delta all;
  for (auto& d : ds) {
    all.content += d.content;
    all.reasoning += d.reasoning;
    for (auto& c : d.tool_calls) all.tool_calls.push_back(c);
  }
  return all;
}

void expect_same(const StreamingOutputParser::Delta& d, const ParsedOutput& p,
                 const std::string& where) {
  EXPECT_EQ(d.content, p.content) << where;
  EXPECT_EQ(d.reasoning, p.reasoning) << where;
  ASSERT_EQ(d.tool_calls.size(), p.tool_calls.size()) << where;
  for (std::size_t i = 0; i < p.tool_calls.size(); ++i) {
    EXPECT_EQ(d.tool_calls[i].id, p.tool_calls[i].id) << where;
    EXPECT_EQ(d.tool_calls[i].name, p.tool_calls[i].name) << where;
    EXPECT_EQ(d.tool_calls[i].arguments, p.tool_calls[i].arguments) << where;
  }
}

const std::vector<std::string>& samples() {
  static const std::vector<std::string> s = {
      "<|channel>thought\nthinking hard\n<channel|>The answer is 42.",
      "<|channel>thought\nR<channel|><|channel><channel|> A <|tool_call>call:f{a:<|\"|>x y<|\"|>,"
      "b:[1,{c:null}]}<tool_call|>\n<|tool_call>call:g{}<tool_call|><|tool_response>junk",
      "stray<channel|> <|chan not a marker <tool_call| <|\"|> end  ",
      "<|channel>thought\nnever closed <|tool_call>call:f{}",
      "x<|tool_call>call:f{a:<|\"|>broken}<tool_call|>y<turn|>after",
      "<|channel>thoughtful<channel|>c",
      "  \n<|channel>thought\n\n  spaced  \n\n<channel|>\n\n  answer\n\n",
  };
  return s;
}

TEST(StreamingOutputParser, EveryTwoPieceSplitMatchesWholeParse) {
  for (const std::string& text : samples()) {
    const ParsedOutput whole = parse_output(text);
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      StreamingOutputParser p;
      auto a = p.push(std::string_view(text).substr(0, cut));
      auto b = p.push(std::string_view(text).substr(cut));
      auto c = p.finish();
      expect_same(merged({a, b, c}), whole, "cut " + std::to_string(cut) + " of " + text);
    }
  }
}

TEST(StreamingOutputParser, ByteByByteNeverLeaksMarkersOrThoughts) {
  for (const std::string& text : samples()) {
    const ParsedOutput whole = parse_output(text);
    StreamingOutputParser p;
    std::vector<StreamingOutputParser::Delta> ds;
    std::string content_so_far, reasoning_so_far;
    for (char ch : text) {
      ds.push_back(p.push(std::string_view(&ch, 1)));
      content_so_far += ds.back().content;
      reasoning_so_far += ds.back().reasoning;
      // What was streamed is always a prefix of the final answer: nothing is taken back.
      EXPECT_TRUE(whole.content.starts_with(content_so_far)) << content_so_far << " | " << text;
      EXPECT_TRUE(whole.reasoning.starts_with(reasoning_so_far)) << reasoning_so_far;
    }
    ds.push_back(p.finish());
    expect_same(merged(ds), whole, "bytewise " + text);
  }
}

TEST(StreamingOutputParser, HoldsPartialMarker) {
  StreamingOutputParser p;
  auto d = p.push("Hello <|chan");
  EXPECT_EQ(d.content, "Hello");
  d = p.push("nel>thought\nsecret");
  EXPECT_EQ(d.content, "");
  EXPECT_EQ(d.reasoning, "secret");
  d = p.push(" plan<chan");
  EXPECT_EQ(d.reasoning, " plan");
  d = p.push("nel|>World");
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.content, " World");
  d = p.push("<|tool_call>call:f{a:1}");
  EXPECT_EQ(d.content, "");
  EXPECT_TRUE(d.tool_calls.empty());
  d = p.push("<tool_call|>");
  ASSERT_EQ(d.tool_calls.size(), 1u);
  EXPECT_EQ(d.tool_calls[0].name, "f");
  d = p.finish();
  EXPECT_EQ(d.content, "");
}

TEST(OutputParser, DeeplyNestedToolCallStaysContent) {
  const std::string call = "<|tool_call>call:f{x:" + std::string(100000, '[') +
                           std::string(100000, ']') + "}<tool_call|>";
  const ParsedOutput p = parse_output(call);
  EXPECT_TRUE(p.tool_calls.empty());
  EXPECT_EQ(p.content, call);
}

}  // namespace
}  // namespace ug
