// One test per rule of input spec §7, with expected strings written by reading the canonical
// template text (GGUF tokenizer.chat_template of the fixture).
#include "text/chat_format.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace ug {
namespace {

using nlohmann::json;

ChatMessage msg(std::string role, std::string text) {
  ChatMessage m;
  m.role = std::move(role);
  m.parts.push_back({ContentPart::Text, std::move(text)});
  return m;
}

ChatOptions opts(bool thinking = false, bool gen = true) {
  ChatOptions o;
  o.enable_thinking = thinking;
  o.add_generation_prompt = gen;
  return o;
}

TEST(ChatFormat, SingleUserTurnMatchesSpecTokenExample) {
  // §4.1/§7.1: <bos><|turn>user\nHello<turn|>\n<|turn>model\n, then the big-family empty thought.
  EXPECT_EQ(render_chat({msg("user", "Hello")}, opts()),
            "<bos><|turn>user\nHello<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
}

TEST(ChatFormat, SmallFamilyOmitsEmptyThought) {
  ChatOptions o = opts();
  o.big_family = false;
  EXPECT_EQ(render_chat({msg("user", "Hi")}, o), "<bos><|turn>user\nHi<turn|>\n<|turn>model\n");
}

TEST(ChatFormat, NoGenerationPrompt) {
  EXPECT_EQ(render_chat({msg("user", "Hi")}, opts(false, false)), "<bos><|turn>user\nHi<turn|>\n");
}

TEST(ChatFormat, SystemTurnOnlyWhenNeeded) {
  // No system message, no thinking, no tools: no system turn at all.
  EXPECT_EQ(render_chat({msg("user", "a")}, opts(false, false)).find("system"), std::string::npos);
  // A leading system message is trimmed and moved into the system turn.
  EXPECT_EQ(render_chat({msg("system", "  Be brief.\n"), msg("user", "a")}, opts(false, false)),
            "<bos><|turn>system\nBe brief.<turn|>\n<|turn>user\na<turn|>\n");
  // "developer" counts as system too.
  EXPECT_EQ(render_chat({msg("developer", "D"), msg("user", "a")}, opts(false, false)),
            "<bos><|turn>system\nD<turn|>\n<|turn>user\na<turn|>\n");
  // A system message that is not first is an ordinary turn with its role kept.
  EXPECT_EQ(render_chat({msg("user", "a"), msg("system", " s ")}, opts(false, false)),
            "<bos><|turn>user\na<turn|>\n<|turn>system\ns<turn|>\n");
}

TEST(ChatFormat, ThinkingTokenOpensSystemTurn) {
  EXPECT_EQ(render_chat({msg("user", "Q")}, opts(true)),
            "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nQ<turn|>\n<|turn>model\n");
  EXPECT_EQ(render_chat({msg("system", "S"), msg("user", "Q")}, opts(true)),
            "<bos><|turn>system\n<|think|>\nS<turn|>\n<|turn>user\nQ<turn|>\n<|turn>model\n");
}

TEST(ChatFormat, SystemUserModelUserThinkingOff) {
  std::vector<ChatMessage> conv = {msg("system", "You are helpful."), msg("user", "Hi"),
                                   msg("assistant", "Hello! How can I help?"),
                                   msg("user", "Tell me a joke.")};
  EXPECT_EQ(render_chat(conv, opts()),
            "<bos><|turn>system\nYou are helpful.<turn|>\n"
            "<|turn>user\nHi<turn|>\n"
            "<|turn>model\nHello! How can I help?<turn|>\n"
            "<|turn>user\nTell me a joke.<turn|>\n"
            "<|turn>model\n<|channel>thought\n<channel|>");
}

TEST(ChatFormat, TextPartsTrimmedAndJoinedWithoutSeparator) {
  ChatMessage m = msg("user", "  one ");
  m.parts.push_back({ContentPart::Text, "\ttwo\n"});
  EXPECT_EQ(render_chat({m}, opts(false, false)), "<bos><|turn>user\nonetwo<turn|>\n");
}

TEST(ChatFormat, MediaPlaceholdersInPartOrderWithoutNewlines) {
  ChatMessage m;
  m.role = "user";
  m.parts = {{ContentPart::Audio, ""},
             {ContentPart::Text, " Transcribe, then describe: "},
             {ContentPart::Image, ""},
             {ContentPart::Video, ""}};
  EXPECT_EQ(render_chat({m}, opts()),
            "<bos><|turn>user\n<|audio|>Transcribe, then describe:<|image|><|video|><turn|>\n"
            "<|turn>model\n<|channel>thought\n<channel|>");
}

TEST(ChatFormat, AssistantHistoryLosesThoughts) {
  std::vector<ChatMessage> conv = {
      msg("user", "Q"), msg("assistant", "<|channel>thought\nlet me think<channel|>  Answer. "),
      msg("user", "Q2")};
  EXPECT_EQ(render_chat(conv, opts(false, false)),
            "<bos><|turn>user\nQ<turn|>\n<|turn>model\nAnswer.<turn|>\n<|turn>user\nQ2<turn|>\n");
}

TEST(ChatFormat, StripThinkingRules) {
  EXPECT_EQ(strip_thinking("a<|channel>x<channel|>b<|channel>y<channel|>c"), "abc");
  EXPECT_EQ(strip_thinking("  <|channel>thought\n...<channel|>\nfinal\n"), "final");
  // A stray close keeps the text before it; an unclosed open drops everything after it.
  EXPECT_EQ(strip_thinking("a<channel|>b"), "ab");
  EXPECT_EQ(strip_thinking("a<|channel>never closed"), "a");
  EXPECT_EQ(strip_thinking("\xc2\xa0 x \xe3\x80\x80"), "x");  // Unicode spaces trimmed too
}

TEST(ChatFormat, ReasoningFieldReplayedOnlyForToolCallTurnsAfterLastUser) {
  ChatMessage plain = msg("assistant", "A1");
  plain.reasoning = "R1";
  std::vector<ChatMessage> conv = {msg("user", "Q"), plain};
  // Plain answer after the last user message: reasoning not replayed.
  EXPECT_EQ(render_chat(conv, opts(true, false)),
            "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nQ<turn|>\n"
            "<|turn>model\nA1<turn|>\n");
  ChatMessage call;
  call.role = "assistant";
  call.reasoning = "need weather";
  call.tool_calls.push_back({"", "get_weather", json{{"city", "Paris"}}});
  conv = {msg("user", "Q"), call};
  EXPECT_EQ(render_chat(conv, opts(true, false)),
            "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nQ<turn|>\n"
            "<|turn>model\n<|channel>thought\nneed weather\n<channel|>"
            "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|><|tool_response>");
  // Before the last user message even a tool-call turn loses its reasoning.
  conv = {msg("user", "Q"), call, msg("user", "Q2")};
  EXPECT_EQ(render_chat(conv, opts(false, false)).find("need weather"), std::string::npos);
  // preserve_thinking replays every assistant message's reasoning.
  ChatOptions keep = opts(false, false);
  keep.preserve_thinking = true;
  conv = {msg("user", "Q"), plain, msg("user", "Q2")};
  EXPECT_EQ(render_chat(conv, keep),
            "<bos><|turn>user\nQ<turn|>\n<|turn>model\n<|channel>thought\nR1\n<channel|>A1"
            "<turn|>\n<|turn>user\nQ2<turn|>\n");
}

json weather_tool() {
  return json::parse(R"({"type":"function","function":{"name":"get_weather",
    "description":"Get the weather","parameters":{"type":"object","properties":{
      "city":{"type":"string","description":"City name"},
      "unit":{"type":"string","enum":["celsius","fahrenheit"]},
      "when":{"type":"object","description":"Time","properties":{
          "day":{"type":"integer"},"hour":{"type":"integer","nullable":true}},"required":["day"]},
      "fields":{"type":"array","items":{"type":"string"}},
      "points":{"type":"array","items":{"type":"object","properties":{"x":{"type":"number"}},
                                        "required":["x"]}}},
    "required":["city"]}}})");
}

TEST(ChatFormat, ToolDeclarationsWithNestedParameters) {
  ChatOptions o = opts(false, false);
  o.tools = json::array({weather_tool()});
  const std::string q = "<|\"|>";
  const std::string expected =
      "<bos><|turn>system\n<|tool>declaration:get_weather{description:" + q + "Get the weather" +
      q + ",parameters:{properties:{" +
      // keys sorted: city, fields, points, unit, when
      "city:{description:" + q + "City name" + q + ",type:" + q + "STRING" + q + "}," +
      "fields:{items:{type:" + q + "STRING" + q + "},type:" + q + "ARRAY" + q + "}," +
      "points:{items:{properties:{x:{type:" + q + "NUMBER" + q + "}},required:[" + q + "x" + q +
      "],type:" + q + "OBJECT" + q + "},type:" + q + "ARRAY" + q + "}," + "unit:{enum:[" + q +
      "celsius" + q + "," + q + "fahrenheit" + q + "],type:" + q + "STRING" + q + "}," +
      "when:{description:" + q + "Time" + q + ",properties:{day:{type:" + q + "INTEGER" + q +
      "},hour:{nullable:true,type:" + q + "INTEGER" + q + "}},required:[" + q + "day" + q +
      "],type:" + q + "OBJECT" + q + "}" + "},required:[" + q + "city" + q + "],type:" + q +
      "OBJECT" + q + "}}<tool|><turn|>\n" + "<|turn>user\nweather?<turn|>\n";
  EXPECT_EQ(render_chat({msg("user", "weather?")}, o), expected);
}

TEST(ChatFormat, ToolsAfterSystemTextAndThink) {
  ChatOptions o = opts(true, false);
  o.tools = json::parse(R"([{"type":"function","function":{"name":"a","description":"A"}},
                            {"type":"function","function":{"name":"b","description":"B"}}])");
  EXPECT_EQ(render_chat({msg("system", "S"), msg("user", "u")}, o),
            "<bos><|turn>system\n<|think|>\nS<|tool>declaration:a{description:<|\"|>A<|\"|>}"
            "<tool|><|tool>declaration:b{description:<|\"|>B<|\"|>}<tool|><turn|>\n"
            "<|turn>user\nu<turn|>\n");
}

TEST(ChatFormat, ToolCallResponseAndContinuation) {
  ChatMessage call;
  call.role = "assistant";
  call.tool_calls.push_back(
      {"c1", "get_weather", json{{"unit", "celsius"}, {"city", "Paris"}, {"days", 2}}});
  ChatMessage result = msg("tool", "{\"temp\": 21}");
  result.tool_call_id = "c1";
  ChatMessage final_answer = msg("assistant", "It is 21 degrees.");
  std::vector<ChatMessage> conv = {msg("user", "Weather in Paris?"), call, result};
  const std::string head =
      "<bos><|turn>user\nWeather in Paris?<turn|>\n<|turn>model\n"
      "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:2,unit:<|\"|>celsius<|\"|>}"
      "<tool_call|><|tool_response>response:get_weather{value:<|\"|>{\"temp\": 21}<|\"|>}"
      "<tool_response|>";
  // Waiting for the model to continue: no <turn|>, no new generation prompt (thinking on or off).
  EXPECT_EQ(render_chat(conv, opts()), head);
  EXPECT_EQ(render_chat(conv, opts(true)),
            "<bos><|turn>system\n<|think|>\n<turn|>\n" + head.substr(5));
  // The final answer continues the same model turn.
  conv.push_back(final_answer);
  conv.push_back(msg("user", "Thanks"));
  EXPECT_EQ(render_chat(conv, opts()), head +
                                           "It is 21 degrees.<turn|>\n<|turn>user\nThanks<turn|>\n"
                                           "<|turn>model\n<|channel>thought\n<channel|>");
}

TEST(ChatFormat, ToolResultNameFromTheMessageOrUnknown) {
  ChatMessage call;
  call.role = "assistant";
  call.tool_calls.push_back({"id1", "f", json::object()});
  ChatMessage named = msg("tool", "ok");
  named.tool_name = "g";
  named.tool_call_id = "other";
  EXPECT_EQ(render_chat({msg("user", "u"), call, named}, opts()),
            "<bos><|turn>user\nu<turn|>\n<|turn>model\n<|tool_call>call:f{}<tool_call|>"
            "<|tool_response>response:g{value:<|\"|>ok<|\"|>}<tool_response|>");
  named.tool_name.clear();
  EXPECT_NE(render_chat({msg("user", "u"), call, named}, opts()).find("response:unknown{"),
            std::string::npos);
}

TEST(ChatFormat, ToolCallArgumentValuesInDsl) {
  ChatMessage call;
  call.role = "assistant";
  call.tool_calls.push_back(
      {"", "f",
       json::parse(R"({"b":true,"n":null,"f":1.5,"l":[1,"x"],"o":{"Z":1,"a":false},"s":"q"})")});
  call.tool_calls.push_back({"", "g", json("raw:1")});  // a string is inserted verbatim
  EXPECT_EQ(render_chat({msg("user", "u"), call}, opts()),
            "<bos><|turn>user\nu<turn|>\n<|turn>model\n"
            "<|tool_call>call:f{b:true,f:1.5,l:[1,<|\"|>x<|\"|>],n:None,o:{a:false,Z:1},"
            "s:<|\"|>q<|\"|>}<tool_call|><|tool_call>call:g{raw:1}<tool_call|><|tool_response>");
}

TEST(ChatFormat, ToolCallWithContentAndResponses) {
  // Content after the responses closes the model turn; the template still counts the turn as
  // ending in a tool response, so no generation prompt follows.
  ChatMessage call = msg("assistant", "Checking.");
  call.tool_calls.push_back({"", "f", json::object()});
  ChatMessage r = msg("tool", "done");
  EXPECT_EQ(render_chat({msg("user", "u"), call, r}, opts()),
            "<bos><|turn>user\nu<turn|>\n<|turn>model\n<|tool_call>call:f{}<tool_call|>"
            "<|tool_response>response:f{value:<|\"|>done<|\"|>}<tool_response|>Checking.<turn|>\n");
}

TEST(ChatFormat, OrphanToolMessagesAreDropped) {
  ChatMessage r = msg("tool", "x");
  EXPECT_EQ(render_chat({msg("user", "u"), r}, opts(false, false)), "<bos><|turn>user\nu<turn|>\n");
}

TEST(ChatFormat, RejectsToolsThatAreNotAnArray) {
  ChatOptions o = opts();
  o.tools = json{{"name", "f"}};
  EXPECT_THROW(render_chat({msg("user", "u")}, o), Error);
  o.tools = json::array({json{{"type", "function"}}});
  EXPECT_THROW(render_chat({msg("user", "u")}, o), Error);
}

}  // namespace
}  // namespace ug
