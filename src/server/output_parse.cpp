// Structured-output request fields → OutputSpec: OpenAI's response_format (json_object,
// json_schema), llama.cpp's json_schema and grammar fields, Ollama's format ("json" or a schema),
// and tools with tool_choice (required or a named function forces a call; auto constrains the
// arguments of any call the model makes).
#include "base/error.h"
#include "server/server_state.h"

namespace ug::server {

namespace {

const json* present(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

// The schema as it came, in its own key order.
nlohmann::ordered_json ordered(const json& j) { return nlohmann::ordered_json::parse(j.dump()); }

void need_schema(const json& s, const std::string& param) {
  if (!s.is_object() && !s.is_boolean())
    bad_request(param + " must be a JSON Schema (an object)", param);
}

// tool_choice as the grammar takes it, or null for none / absent.
json tool_choice_of(const json& body, const json& tools) {
  const json* tc = present(body, "tool_choice");
  if (!tc) return tools.is_array() && !tools.empty() ? json("auto") : json();
  if (tc->is_string()) return tc->get<std::string>() == "none" ? json() : *tc;
  if (!tc->is_object()) bad_request("tool_choice must be a string or an object", "tool_choice");
  const json* fn = present(*tc, "function");
  if (!fn || !fn->is_object() || !present(*fn, "name") || !(*fn)["name"].is_string())
    bad_request("tool_choice.function.name must name one of the tools", "tool_choice");
  return *tc;
}

}  // namespace

OutputSpec parse_openai_output(const json& body, const json& tools, bool thinking) {
  OutputSpec spec;
  spec.thinking = thinking;
  const json choice = tools.is_array() && !tools.empty() ? tool_choice_of(body, tools) : json();
  const bool forced = choice.is_object() || (choice.is_string() && choice == "required");
  if (forced) {
    spec.kind = OutputSpec::Kind::kToolCalls;
    spec.tools = ordered(tools);
    spec.tool_choice = ordered(choice);
    return spec;
  }
  if (const json* rf = present(body, "response_format")) {
    if (!rf->is_object() || !present(*rf, "type") || !(*rf)["type"].is_string())
      bad_request("response_format must be an object with a type", "response_format");
    const std::string type = (*rf)["type"];
    if (type == "json_object") {
      spec.kind = OutputSpec::Kind::kJsonObject;
    } else if (type == "json_schema") {
      const json* js = present(*rf, "json_schema");
      if (!js || !js->is_object())
        bad_request("response_format.json_schema must be an object", "response_format");
      const json* schema = present(*js, "schema");
      if (!schema) bad_request("response_format.json_schema.schema is missing", "response_format");
      need_schema(*schema, "response_format.json_schema.schema");
      spec.kind = OutputSpec::Kind::kJsonSchema;
      spec.schema = ordered(*schema);
    } else if (type != "text") {
      bad_request("response_format.type must be text, json_object or json_schema",
                  "response_format");
    }
  }
  if (const json* s = present(body, "json_schema")) {  // llama.cpp's field
    need_schema(*s, "json_schema");
    spec.kind = OutputSpec::Kind::kJsonSchema;
    spec.schema = ordered(*s);
  }
  if (const json* g = present(body, "grammar")) {  // llama.cpp's field
    if (!g->is_string()) bad_request("grammar must be a string (GBNF)", "grammar");
    if (!spec.free()) bad_request("give either grammar or a JSON format, not both", "grammar");
    spec.kind = OutputSpec::Kind::kGbnf;
    spec.gbnf = g->get<std::string>();
  }
  if (spec.free() && !choice.is_null()) {
    spec.kind = OutputSpec::Kind::kToolCalls;
    spec.tools = ordered(tools);
    spec.tool_choice = ordered(choice);
  }
  return spec;
}

OutputSpec parse_ollama_output(const json& body, const json& tools, bool thinking) {
  OutputSpec spec;
  spec.thinking = thinking;
  if (const json* f = present(body, "format")) {
    if (f->is_string()) {
      if (f->get<std::string>() == "json")
        spec.kind = OutputSpec::Kind::kJsonObject;
      else if (!f->get<std::string>().empty())
        bad_request("format must be \"json\" or a JSON Schema", "format");
    } else {
      need_schema(*f, "format");
      spec.kind = OutputSpec::Kind::kJsonSchema;
      spec.schema = ordered(*f);
    }
  }
  if (spec.free() && tools.is_array() && !tools.empty()) {
    spec.kind = OutputSpec::Kind::kToolCalls;
    spec.tools = ordered(tools);
    spec.tool_choice = "auto";
  }
  return spec;
}

}  // namespace ug::server
