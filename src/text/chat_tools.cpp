#include "text/chat_tools.h"

#include <array>
#include <string_view>

#include "base/error.h"
#include "formats/json_parse.h"
#include "text/tool_syntax.h"

namespace ug {
namespace {

using nlohmann::json;

// Jinja's `value['key']`: undefined (nullptr) unless value is a mapping holding key.
const json* member(const json* value, const char* key) {
  if (value == nullptr || !value->is_object()) return nullptr;
  auto it = value->find(key);
  return it == value->end() ? nullptr : &*it;
}

// Jinja truthiness of a JSON value; undefined is false.
bool truthy(const json* v) {
  if (v == nullptr) return false;
  switch (v->type()) {
    case json::value_t::null:
      return false;
    case json::value_t::boolean:
      return v->get<bool>();
    case json::value_t::string:
    case json::value_t::array:
    case json::value_t::object:
      return !v->empty();
    case json::value_t::number_integer:
      return v->get<std::int64_t>() != 0;
    case json::value_t::number_unsigned:
      return v->get<std::uint64_t>() != 0;
    case json::value_t::number_float:
      return v->get<double>() != 0.0;
    default:
      return false;
  }
}

// `{{ value }}` where an undefined value prints nothing.
std::string print(const json* v) { return v ? python_str(*v) : std::string(); }

std::string quoted_list(const json* items) {
  std::string q(kDslQuote);
  std::string out = "[";
  if (items != nullptr && items->is_array()) {
    for (std::size_t i = 0; i < items->size(); ++i) {
      if (i) out += ',';
      out += q + python_str((*items)[i]) + q;
    }
  }
  return out + "]";
}

std::string format_items(const json& items) {
  std::string out = "items:{";
  bool first = true;
  for (const auto& [key, value] : dictsort(items)) {
    if (value->is_null()) continue;
    if (!first) out += ',';
    first = false;
    if (key == "properties") {
      out += "properties:{";
      if (value->is_object()) out += format_tool_parameters(*value);
      out += "}";
    } else if (key == "required") {
      out += "required:" + quoted_list(value);
    } else if (key == "type") {
      if (value->is_string()) {
        out += "type:" + json_to_gemma_dsl(json(ascii_upper(value->get<std::string>())), true);
      } else {
        json upper = json::array();
        if (value->is_array())
          for (const auto& t : *value) upper.push_back(ascii_upper(python_str(t)));
        out += "type:" + json_to_gemma_dsl(upper, true);
      }
    } else {
      out += key + ":" + json_to_gemma_dsl(*value, true);
    }
  }
  return out + "}";
}

}  // namespace

std::string format_tool_parameters(const json& properties) {
  static constexpr std::array<std::string_view, 5> kSchemaKeys = {
      "description", "type", "properties", "required", "nullable"};
  const std::string q(kDslQuote);
  std::string out;
  bool found_first = false;
  for (const auto& [key, value] : dictsort(properties)) {
    bool schema_key = false;
    for (auto k : kSchemaKeys) schema_key |= key == k;
    if (schema_key) continue;
    if (found_first) out += ',';
    found_first = true;
    out += key + ":{";
    bool add_comma = false;
    auto comma = [&] {
      if (add_comma) out += ',';
      add_comma = true;
    };
    if (const json* d = member(value, "description"); truthy(d)) {
      out += "description:" + q + python_str(*d) + q;
      add_comma = true;
    }
    const std::string type = ascii_upper(print(member(value, "type")));
    if (type == "STRING") {
      if (const json* e = member(value, "enum"); truthy(e)) {
        comma();
        out += "enum:" + json_to_gemma_dsl(*e, true);
      }
    } else if (type == "ARRAY") {
      if (const json* items = member(value, "items");
          items && items->is_object() && truthy(items)) {
        comma();
        out += format_items(*items);
      }
    }
    if (truthy(member(value, "nullable"))) {
      comma();
      out += "nullable:true";
    }
    if (type == "OBJECT") {
      const json* props = member(value, "properties");
      if (props != nullptr && props->is_object()) {
        comma();
        out += "properties:{" + format_tool_parameters(*props) + "}";
      } else if (value->is_object()) {
        // The template formats the schema object itself as its property list here.
        comma();
        out += "properties:{" + format_tool_parameters(*value) + "}";
      }
      if (const json* req = member(value, "required"); truthy(req)) {
        comma();
        out += "required:" + quoted_list(req);
      }
    }
    comma();
    out += "type:" + q + type + q + "}";
  }
  return out;
}

std::string format_tool_declaration(const json& tool) {
  const json* fn = member(&tool, "function");
  if (fn == nullptr && member(&tool, "name") != nullptr) fn = &tool;
  if (fn == nullptr || !fn->is_object())
    fail("chat template: tool declaration ", json_excerpt(tool, 200),
         " has no \"function\" object (expected {\"type\":\"function\",\"function\":{...}})");
  const std::string q(kDslQuote);
  std::string out = "declaration:" + print(member(fn, "name")) + "{description:" + q +
                    print(member(fn, "description")) + q;
  const json* params = member(fn, "parameters");
  if (truthy(params)) {
    out += ",parameters:{";
    if (const json* props = member(params, "properties"); truthy(props)) {
      if (!props->is_object())
        fail("chat template: tool ", print(member(fn, "name")),
             ": parameters.properties must be an object, found ", props->type_name());
      out += "properties:{" + format_tool_parameters(*props) + "},";
    }
    if (const json* req = member(params, "required"); truthy(req))
      out += "required:" + quoted_list(req) + ",";
    if (const json* type = member(params, "type"); truthy(type))
      out += "type:" + q + ascii_upper(python_str(*type)) + q + "}";
  }
  if (const json* resp = member(fn, "response"); resp != nullptr) {
    out += ",response:{";
    if (const json* d = member(resp, "description"); truthy(d))
      out += "description:" + q + python_str(*d) + q + ",";
    if (ascii_upper(print(member(resp, "type"))) == "OBJECT")
      out += "type:" + q + "OBJECT" + q + "}";
  }
  return out + "}";
}

}  // namespace ug
