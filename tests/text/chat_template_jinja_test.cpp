// Renders conversations with the fixture's real chat template through Python jinja2 (the engine
// transformers uses, with its settings) and compares byte for byte with render_chat.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "shared_fixtures.h"
#include "text/chat_format.h"

namespace ug {
namespace {

using nlohmann::json;

// Reads tokenizer.chat_template from the GGUF header and renders each case like
// transformers' apply_chat_template does.
constexpr const char* kRenderScript = R"PY(
import json, struct, sys
import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

def read_template(path):
    with open(path, 'rb') as f:
        def r(fmt):
            n = struct.calcsize('<' + fmt)
            return struct.unpack('<' + fmt, f.read(n))
        def rs():
            (n,) = r('Q')
            return f.read(n).decode('utf-8')
        sizes = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?', 10: 'Q', 11: 'q', 12: 'd'}
        def skip(t):
            if t == 8:
                rs()
            elif t == 9:
                et, n = r('IQ')
                if et == 8:
                    for _ in range(n): rs()
                elif et == 9:
                    raise ValueError('nested arrays')
                else:
                    f.seek(struct.calcsize('<' + sizes[et]) * n, 1)
            else:
                r(sizes[t])
        if f.read(4) != b'GGUF':
            raise ValueError('not a GGUF file')
        r('I')
        _, nkv = r('QQ')
        for _ in range(nkv):
            key = rs()
            (t,) = r('I')
            if key == 'tokenizer.chat_template' and t == 8:
                return rs()
            skip(t)
    raise ValueError('no tokenizer.chat_template')

def main():
    template = read_template(sys.argv[1])
    cases = json.load(open(sys.argv[2]))
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    tmpl = env.from_string(template)
    out = []
    for c in cases:
        kw = dict(messages=c['messages'], bos_token='<bos>',
                  add_generation_prompt=c['add_generation_prompt'])
        if c.get('tools') is not None:
            kw['tools'] = c['tools']
        if c.get('enable_thinking'):
            kw['enable_thinking'] = True
        out.append(tmpl.render(**kw))
    json.dump(out, open(sys.argv[3], 'w'))

main()
)PY";

constexpr const char* kPython = "/usr/bin/python3";

json part_json(const ContentPart& p) {
  switch (p.kind) {
    case ContentPart::Image:
      return {{"type", "image"}};
    case ContentPart::Audio:
      return {{"type", "audio"}};
    case ContentPart::Video:
      return {{"type", "video"}};
    default:
      return {{"type", "text"}, {"text", p.text}};
  }
}

// The OpenAI-style message the template expects.
json message_json(const ChatMessage& m) {
  json j = {{"role", m.role}};
  std::string text;
  bool only_text = true;
  for (const auto& p : m.parts) {
    only_text &= p.kind == ContentPart::Text;
    text += p.text;
  }
  if (m.role == "tool" || ((m.role == "system" || m.role == "developer") && only_text)) {
    j["content"] = text;
  } else if (!m.parts.empty()) {
    j["content"] = json::array();
    for (const auto& p : m.parts) j["content"].push_back(part_json(p));
  }
  if (!m.reasoning.empty()) j["reasoning"] = m.reasoning;
  if (!m.tool_calls.empty()) {
    j["tool_calls"] = json::array();
    for (const auto& c : m.tool_calls) {
      json call = {{"type", "function"},
                   {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
      if (!c.id.empty()) call["id"] = c.id;
      j["tool_calls"].push_back(call);
    }
  }
  if (!m.tool_name.empty()) j["name"] = m.tool_name;
  if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
  return j;
}

ChatMessage text_msg(std::string role, std::string text) {
  ChatMessage m;
  m.role = std::move(role);
  m.parts.push_back({ContentPart::Text, std::move(text)});
  return m;
}

struct Case {
  std::vector<ChatMessage> messages;
  ChatOptions options;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  auto add = [&](std::vector<ChatMessage> m, bool thinking, bool gen, json tools = nullptr) {
    Case c;
    c.messages = std::move(m);
    c.options.enable_thinking = thinking;
    c.options.add_generation_prompt = gen;
    c.options.tools = std::move(tools);
    out.push_back(std::move(c));
  };
  const json tools = json::parse(R"([
    {"type":"function","function":{"name":"get_weather","description":"Weather now",
      "parameters":{"type":"object","properties":{
        "location":{"type":"string","description":"City, country"},
        "unit":{"type":"string","enum":["celsius","fahrenheit"],"description":"Unit"},
        "options":{"type":"object","properties":{"days":{"type":"integer","description":"Days"},
                   "hourly":{"type":"boolean","nullable":true}},"required":["days"]},
        "tags":{"type":"array","description":"Tags","items":{"type":"string","enum":["a","b"]}},
        "points":{"type":"array","items":{"type":"object","properties":{
                  "lat":{"type":"number"},"lon":{"type":"number"}},"required":["lat","lon"]}},
        "Zeta":{"type":"string"},"alpha":{"type":"number","nullable":true}},
      "required":["location","unit"]}}},
    {"type":"function","function":{"name":"now","description":"Current time",
      "parameters":{"type":"object","properties":{}}}},
    {"type":"function","function":{"name":"lookup","description":"Look up",
      "parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]},
      "response":{"description":"Result","type":"object"}}}])");

  add({text_msg("user", "Hello")}, false, true);
  add({text_msg("system", " You are terse.\n"), text_msg("user", "Hi"),
       text_msg("assistant", "Hello!"), text_msg("user", "Joke?")},
      false, true);
  add({text_msg("system", "S"), text_msg("user", "Hi"),
       text_msg("assistant", "<|channel>thought\nplan<channel|>Hello!  "),
       text_msg("user", "More")},
      true, true);
  add({text_msg("user", "What's the weather in Paris?")}, false, true, tools);
  add({text_msg("developer", "Use tools."), text_msg("user", "Weather?")}, true, true, tools);

  ChatMessage mm;
  mm.role = "user";
  mm.parts = {
      {ContentPart::Image, ""}, {ContentPart::Text, " Compare with "}, {ContentPart::Image, ""},
      {ContentPart::Audio, ""}, {ContentPart::Text, "and the clip"},   {ContentPart::Video, ""}};
  add({mm, text_msg("assistant", "They differ."), text_msg("user", "why")}, false, true);

  ChatMessage call;
  call.role = "assistant";
  call.reasoning = "I should call the tool.";
  call.tool_calls = {
      {"call_0", "get_weather", json::parse(R"({"location":"Paris, FR","unit":"celsius",
                        "options":{"days":3,"hourly":null},"tags":["a","b"],"alpha":0.00001,
                        "big":1e16,"mid":1e15,"neg":-2.5,"flag":false})")},
      {"call_1", "now", json::object()}};
  ChatMessage r0 = text_msg("tool", "{\"temp\": 18, \"sky\": \"clear\"}");
  r0.tool_call_id = "call_0";
  ChatMessage r1 = text_msg("tool", "12:00");
  r1.tool_call_id = "call_1";
  ChatMessage user = text_msg("user", "Weather in Paris and the time?");
  add({user, call, r0, r1}, true, true, tools);
  add({user, call, r0, r1}, false, true, tools);
  add({user, call, r0, r1, text_msg("assistant", "18C and clear; it is noon."),
       text_msg("user", "Thanks")},
      true, true, tools);
  add({user, call}, false, true, tools);  // call without results yet
  add({user, call, r0, r1, text_msg("assistant", "Done."), text_msg("user", "again"), call, r0},
      false, false, tools);

  ChatMessage named = text_msg("tool", "found it");
  named.tool_name = "lookup";
  ChatMessage lookup;
  lookup.role = "assistant";
  lookup.parts = {{ContentPart::Text, "Let me look."}};
  lookup.tool_calls = {{"x1", "lookup", json{{"q", "it's \"quoted\""}}}};
  add({text_msg("user", "find"), lookup, named, text_msg("assistant", "Found.")}, false, true,
      tools);
  add({text_msg("user", "a"), text_msg("assistant", "b"), text_msg("assistant", "c")}, false,
      false);
  return out;
}

TEST(ChatTemplateJinja, MatchesFixtureTemplateByteForByte) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  if (std::system((std::string(kPython) + " -c 'import jinja2' 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "python3-jinja2 is not installed (apt-get install python3-jinja2)";
  const std::string dir = UG_BINARY_DIR;
  const std::string script = dir + "/chat_jinja_render.py";
  const std::string in = dir + "/chat_jinja_cases.json";
  const std::string out = dir + "/chat_jinja_rendered.json";
  const std::string gguf = std::string(UG_SHARED_DIR) + "/fixtures/gemma4-fixture-f16-s4242.gguf";
  std::ofstream(script) << kRenderScript;

  const std::vector<Case> all = cases();
  json j = json::array();
  for (const auto& c : all) {
    json jc = {{"add_generation_prompt", c.options.add_generation_prompt},
               {"enable_thinking", c.options.enable_thinking},
               {"tools", c.options.tools},
               {"messages", json::array()}};
    for (const auto& m : c.messages) jc["messages"].push_back(message_json(m));
    j.push_back(jc);
  }
  std::ofstream(in) << j.dump();
  const std::string cmd = std::string(kPython) + " " + script + " " + gguf + " " + in + " " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(out);
  std::stringstream s;
  s << f.rdbuf();
  const json rendered = json::parse(s.str());
  ASSERT_EQ(rendered.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(render_chat(all[i].messages, all[i].options), rendered[i].get<std::string>())
        << "case " << i << ": " << j[i].dump();
  }
}

}  // namespace
}  // namespace ug
