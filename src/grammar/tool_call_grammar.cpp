#include "grammar/tool_call_grammar.h"

#include "base/error.h"
#include "grammar/gbnf_text.h"
#include "grammar/json_schema_grammar.h"

namespace ug {
namespace {

using ojson = nlohmann::ordered_json;

struct Tool {
  std::string name;
  ojson parameters;
};

std::vector<Tool> read_tools(const ojson& tools) {
  if (!tools.is_array() || tools.empty()) fail("tool calls: \"tools\" must be a non-empty array");
  std::vector<Tool> out;
  for (size_t i = 0; i < tools.size(); ++i) {
    const ojson& t = tools[i];
    const ojson* fn = t.is_object() && t.contains("function") ? &t["function"] : &t;
    if (!fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
      fail("tool calls: tool ", i, " has no function name");
    Tool tool{(*fn)["name"].get<std::string>(), ojson::object()};
    for (char c : tool.name)
      if (c == '{' || c == '<' || c == ' ' || c == '\n' || c == '\t')
        fail("tool calls: the function name \"", tool.name, "\" cannot be written in a call");
    if (fn->contains("parameters") && !(*fn)["parameters"].is_null())
      tool.parameters = (*fn)["parameters"];
    out.push_back(std::move(tool));
  }
  return out;
}

}  // namespace

std::string tool_call_gbnf(const ojson& tools, const ojson& tool_choice, bool allow_thought) {
  const std::vector<Tool> list = read_tools(tools);
  std::string mode = "auto";
  std::string only;
  if (tool_choice.is_string()) {
    mode = tool_choice.get<std::string>();
    if (mode != "auto" && mode != "required" && mode != "none") {
      only = mode;
      mode = "named";
    }
  } else if (tool_choice.is_object()) {
    const ojson* fn = tool_choice.contains("function") ? &tool_choice["function"] : &tool_choice;
    if (!fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
      fail("tool calls: tool_choice ", tool_choice.dump(), " names no function");
    only = (*fn)["name"].get<std::string>();
    mode = "named";
  } else if (!tool_choice.is_null()) {
    fail("tool calls: tool_choice must be \"auto\", \"required\" or a function");
  }
  if (mode == "none") fail("tool calls: tool_choice \"none\" needs no grammar");

  JsonSchemaOptions o;
  o.syntax = StringSyntax::Dsl;
  SchemaGrammarBuilder b(o);
  std::string calls;
  bool found = false;
  for (size_t i = 0; i < list.size(); ++i) {
    const Tool& t = list[i];
    if (mode == "named" && t.name != only) continue;
    found = true;
    std::string args;
    try {
      // Arguments are always an object; a schema without properties takes any object.
      ojson params = t.parameters;
      if (params.is_object() && !params.contains("type") && !params.contains("$ref") &&
          !params.contains("anyOf") && !params.contains("oneOf") && !params.contains("allOf"))
        params["type"] = "object";
      args = b.add_schema(params, "args-" + t.name);
    } catch (const Error& e) {
      fail("tool \"", t.name, "\": ", e.what());
    }
    calls += (calls.empty() ? "" : " | ") + gbnf_quote(t.name) + " " + args;
  }
  if (!found) fail("tool calls: tool_choice names \"", only, "\", which is not among the tools");
  const std::string call =
      b.add_rule("tool-call", "<|tool_call> \"call:\" ( " + calls + " ) <tool_call|>");
  const std::string thought = allow_thought ? "( <|channel> !<channel|>* <channel|> )? " : "";
  if (mode == "auto") {
    b.add_rule("root", "( !<|tool_call> | " + call + " )*");
  } else if (mode == "required") {
    b.add_rule("root", thought + call + "+");
  } else {
    b.add_rule("root", thought + call);
  }
  return b.gbnf();
}

}  // namespace ug
