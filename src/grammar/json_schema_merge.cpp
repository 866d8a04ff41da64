#include "grammar/json_schema_merge.h"

#include <algorithm>

#include "base/error.h"
#include "grammar/number_grammar.h"

namespace ug::schema {
namespace {

const std::set<std::string> kAllTypes = {"object",  "array",   "string", "number",
                                         "integer", "boolean", "null"};

const std::set<std::string, std::less<>> kAnnotations = {
    "title",
    "description",
    "examples",
    "example",
    "default",
    "$schema",
    "$id",
    "id",
    "$comment",
    "readOnly",
    "writeOnly",
    "deprecated",
    "contentMediaType",
    "contentEncoding",
    "markdownDescription",
    "deprecationMessage",
    "errorMessage",
    "discriminator",
    "xml",
    "externalDocs",
    "$anchor",
    "$dynamicAnchor",
    "$vocabulary",
    "enumDescriptions",
    "markdownEnumDescriptions",
    "$defs",
    "definitions",
    "propertyOrder",
    "enumNames",
    "options",
    "format_options",
    "headerTemplate",
};

// Every keyword that the JSON Schema vocabularies (drafts 3 to 2020-12, and OpenAPI's `nullable`)
// give assertion or applicator semantics. Any other keyword is an annotation: the specification
// says unknown keywords are ignored (2020-12 core, section 6.5), and validators such as
// python-jsonschema do, so vendor keywords (dt-schema's `maintainers`, Angular's `$default`, nx's
// `x-prompt`, `cli`, ...) constrain nothing. A keyword listed here that the converter does not
// implement is refused, naming it and its path.
const std::set<std::string, std::less<>> kVocabulary = {
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "minProperties",
    "maxProperties",
    "unevaluatedProperties",
    "items",
    "prefixItems",
    "additionalItems",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "$ref",
    "$dynamicRef",
    "$recursiveRef",
    "$recursiveAnchor",
    "nullable",
    "disallow",
    "extends",
    "divisibleBy",
};

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string json_type_of(const ojson& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

bool types_meet(const std::set<std::string>& a, const std::set<std::string>& b) {
  for (const std::string& t : a) {
    if (b.count(t)) return true;
    if (t == "integer" && b.count("number")) return true;
    if (t == "number" && b.count("integer")) return true;
  }
  return false;
}

// Keys an object produced for `s` can have: nullptr when any key may appear.
bool closed_object(const ojson& s) {
  if (s.contains("additionalProperties")) {
    const ojson& ap = s["additionalProperties"];
    return ap.is_boolean() && !ap.get<bool>();
  }
  if (s.contains("unevaluatedProperties") && s["unevaluatedProperties"] == false) return true;
  return s.contains("properties");  // our policy: no extra keys beside declared properties
}

bool declares(const ojson& s, const std::string& key) {
  return s.contains("properties") && s["properties"].is_object() && s["properties"].contains(key);
}

}  // namespace

std::string show(const std::string& path) { return path.empty() ? "/" : path; }

std::string child(const std::string& path, const std::string& key) {
  std::string k;
  for (char c : key) {
    if (c == '~') {
      k += "~0";
    } else if (c == '/') {
      k += "~1";
    } else {
      k += c;
    }
  }
  return path + "/" + k;
}

bool is_annotation(const std::string& keyword) {
  return kAnnotations.count(keyword) > 0 || !kVocabulary.count(keyword);
}

bool has_constraints(const ojson& s) {
  if (!s.is_object()) return true;
  for (const auto& [k, v] : s.items())
    if (!is_annotation(k)) return true;
  return false;
}

std::set<std::string> type_set(const ojson& s, const std::string& path) {
  std::set<std::string> out;
  if (!s.contains("type")) return out;
  const ojson& t = s["type"];
  auto add = [&](const ojson& x) {
    if (!x.is_string() || !kAllTypes.count(x.get<std::string>()))
      fail("JSON Schema keyword \"type\" at ", show(path), ": unknown type ", x.dump());
    out.insert(x.get<std::string>());
  };
  if (t.is_array()) {
    for (const ojson& x : t) add(x);
    if (out.empty()) fail("JSON Schema keyword \"type\" at ", show(path), ": empty type list");
  } else {
    add(t);
  }
  return out;
}

std::set<std::string> implied_types(const ojson& s) {
  std::set<std::string> out;
  for (const char* k : {"properties", "required", "additionalProperties", "minProperties",
                        "maxProperties", "unevaluatedProperties"})
    if (s.contains(k)) out.insert("object");
  for (const char* k : {"items", "prefixItems", "minItems", "maxItems", "additionalItems",
                        "uniqueItems", "unevaluatedItems"})
    if (s.contains(k)) out.insert("array");
  for (const char* k : {"minLength", "maxLength", "pattern", "format"})
    if (s.contains(k)) out.insert("string");
  for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
    if (s.contains(k)) out.insert("number");
  return out;
}

const ojson& Resolver::resolve(const std::string& ref, const std::string& path,
                               std::string& target_path) const {
  if (ref.empty() || ref[0] != '#') {
    fail("unsupported $ref \"", ref, "\" at ", show(path),
         ": only references inside the schema (#/$defs/name, #/definitions/name) are supported");
  }
  const std::string pointer = percent_decode(ref.substr(1));
  if (!pointer.empty() && pointer[0] != '/') {
    fail("unsupported $ref \"", ref, "\" at ", show(path), ": anchors are not supported");
  }
  try {
    const ojson::json_pointer p(pointer);
    if (!doc_.contains(p)) fail("$ref \"", ref, "\" at ", show(path), " points to nothing");
    target_path = pointer;
    return doc_.at(p);
  } catch (const nlohmann::json::exception& e) {
    fail("$ref \"", ref, "\" at ", show(path), " is not a valid JSON pointer (", e.what(), ")");
  }
}

ojson Resolver::flatten(const ojson& s, const std::string& path, int depth) const {
  if (depth > 64) fail("$ref/allOf at ", show(path), " nests too deeply (a reference cycle?)");
  if (!s.is_object()) return s;
  ojson out = s;
  if (out.contains("$ref")) {
    if (!out["$ref"].is_string())
      fail("JSON Schema keyword \"$ref\" at ", show(path), ": expected a string");
    std::string target_path;
    const ojson& target = resolve(out["$ref"].get<std::string>(), path, target_path);
    out.erase("$ref");
    ojson resolved = flatten(target, target_path, depth + 1);
    out = has_constraints(out) ? merge(resolved, out, path) : resolved;
  }
  if (out.is_object() && out.contains("allOf")) {
    const ojson all = out["allOf"];
    if (!all.is_array() || all.empty())
      fail("JSON Schema keyword \"allOf\" at ", show(path), ": expected a non-empty array");
    out.erase("allOf");
    for (size_t i = 0; i < all.size(); ++i)
      out = merge(out, flatten(all[i], child(child(path, "allOf"), std::to_string(i)), depth + 1),
                  path);
  }
  return out;
}

ojson Resolver::merge(const ojson& a0, const ojson& b0, const std::string& path) const {
  const ojson a = flatten(a0, path), b = flatten(b0, path);
  if (a.is_boolean()) {
    if (a.get<bool>()) return b;
    fail("allOf at ", show(path), " contains the schema false: no value is valid");
  }
  if (b.is_boolean()) {
    if (b.get<bool>()) return a;
    fail("allOf at ", show(path), " contains the schema false: no value is valid");
  }
  ojson out = a;
  auto conflict = [&](const std::string& k) {
    fail("allOf at ", show(path), " combines two different \"", k, "\" values (", a[k].dump(),
         " and ", b[k].dump(), "); not supported");
  };
  for (const auto& [k, v] : b.items()) {
    if (!out.contains(k)) {
      out[k] = v;
      continue;
    }
    if (is_annotation(k) || out[k] == v) continue;
    if (k == "properties") {
      for (const auto& [p, ps] : v.items()) {
        if (out[k].contains(p)) {
          out[k][p] = ojson{{"allOf", ojson::array({out[k][p], ps})}};
        } else {
          out[k][p] = ps;
        }
      }
    } else if (k == "required") {
      for (const ojson& r : v)
        if (std::find(out[k].begin(), out[k].end(), r) == out[k].end()) out[k].push_back(r);
    } else if (k == "type") {
      const std::set<std::string> ta = type_set(a, path), tb = type_set(b, path);
      ojson both = ojson::array();
      for (const std::string& t : ta) {
        if (tb.count(t)) {
          both.push_back(t);
        } else if (t == "integer" && tb.count("number")) {
          both.push_back("integer");
        } else if (t == "number" && tb.count("integer")) {
          both.push_back("integer");
        }
      }
      if (both.empty())
        fail("allOf at ", show(path), ": the types ", a[k].dump(), " and ", v.dump(),
             " have nothing in common");
      out[k] = both;
    } else if (k == "enum") {
      ojson both = ojson::array();
      for (const ojson& x : out[k])
        if (std::find(v.begin(), v.end(), x) != v.end()) both.push_back(x);
      if (both.empty()) fail("allOf at ", show(path), ": the enums have no value in common");
      out[k] = both;
    } else if (k == "minimum" || k == "maximum" || k == "exclusiveMinimum" ||
               k == "exclusiveMaximum") {
      if (v.is_boolean() && out[k].is_boolean()) {
        out[k] = v.get<bool>() || out[k].get<bool>();
        continue;
      }
      if (v.is_boolean() || out[k].is_boolean()) conflict(k);
      const int c = compare(Decimal::from_json(out[k]), Decimal::from_json(v));
      const bool lower = k == "minimum" || k == "exclusiveMinimum";
      if ((lower && c < 0) || (!lower && c > 0)) out[k] = v;
    } else if (k == "minLength" || k == "minItems" || k == "minProperties") {
      if (v > out[k]) out[k] = v;
    } else if (k == "maxLength" || k == "maxItems" || k == "maxProperties") {
      if (v < out[k]) out[k] = v;
    } else if (k == "items" || k == "additionalItems" || k == "additionalProperties") {
      if ((v.is_boolean() && !v.get<bool>()) || (out[k].is_boolean() && !out[k].get<bool>())) {
        out[k] = false;
      } else if (v.is_boolean()) {
        // true adds nothing
      } else if (out[k].is_boolean()) {
        out[k] = v;
      } else {
        out[k] = ojson{{"allOf", ojson::array({out[k], v})}};
      }
    } else if (k == "nullable") {
      out[k] = out[k].is_boolean() && v.is_boolean() && out[k].get<bool>() && v.get<bool>();
    } else {
      conflict(k);
    }
  }
  // additionalProperties false on one side forbids the other side's extra properties; a schema
  // there applies to them.
  for (const ojson* side : {&a, &b}) {
    if (!side->contains("additionalProperties") || !out.contains("properties")) continue;
    const ojson& ap = (*side)["additionalProperties"];
    ojson kept = ojson::object();
    for (const auto& [p, ps] : out["properties"].items()) {
      if (declares(*side, p)) {
        kept[p] = ps;
      } else if (ap.is_boolean() && !ap.get<bool>()) {
        if (out.contains("required") &&
            std::find(out["required"].begin(), out["required"].end(), p) != out["required"].end())
          fail("allOf at ", show(path), ": property \"", p,
               "\" is required but one branch forbids additional properties");
      } else if (ap.is_object()) {
        kept[p] = ojson{{"allOf", ojson::array({ps, ap})}};
      } else {
        kept[p] = ps;
      }
    }
    out["properties"] = kept;
  }
  return out;
}

std::set<std::string> Resolver::accepted_types(const ojson& s0, const std::string& path,
                                               int depth) const {
  const ojson s = flatten(s0, path);
  if (s.is_boolean()) return s.get<bool>() ? kAllTypes : std::set<std::string>{};
  std::set<std::string> out = kAllTypes;
  if (s.contains("type")) out = type_set(s, path);
  if (s.contains("const")) out = {json_type_of(s["const"])};
  if (s.contains("enum") && s["enum"].is_array()) {
    std::set<std::string> e;
    for (const ojson& v : s["enum"]) e.insert(json_type_of(v));
    out = e;
  }
  if (s.contains("nullable") && s["nullable"] == true) out.insert("null");
  for (const char* k : {"anyOf", "oneOf"}) {
    if (!s.contains(k) || depth > 16) continue;
    std::set<std::string> u;
    for (const ojson& alt : s[k]) {
      const auto t = accepted_types(alt, path, depth + 1);
      u.insert(t.begin(), t.end());
    }
    std::set<std::string> both;
    for (const std::string& t : out)
      if (u.count(t) || (t == "integer" && u.count("number")) ||
          (t == "number" && u.count("integer")))
        both.insert(t);
    out = both;
  }
  return out;
}

std::set<std::string> Resolver::produced_types(const ojson& s0, const std::string& path,
                                               int depth) const {
  const ojson s = flatten(s0, path);
  if (s.is_boolean()) return s.get<bool>() ? kAllTypes : std::set<std::string>{};
  std::set<std::string> out;
  if (s.contains("const")) {
    out = {json_type_of(s["const"])};
  } else if (s.contains("enum") && s["enum"].is_array()) {
    for (const ojson& v : s["enum"]) out.insert(json_type_of(v));
  } else if (s.contains("anyOf") || s.contains("oneOf")) {
    if (depth > 16) return kAllTypes;
    for (const char* k : {"anyOf", "oneOf"}) {
      if (!s.contains(k)) continue;
      for (const ojson& alt : s[k]) {
        const auto t = produced_types(alt, path, depth + 1);
        out.insert(t.begin(), t.end());
      }
    }
  } else if (s.contains("type")) {
    out = type_set(s, path);
  } else {
    out = implied_types(s);
    if (out.empty()) out = kAllTypes;
  }
  if (s.contains("nullable") && s["nullable"] == true) out.insert("null");
  return out;
}

bool Resolver::disjoint(const ojson& a0, const ojson& b0, const std::string& path,
                        int depth) const {
  if (depth > 8) return false;
  const ojson a = flatten(a0, path), b = flatten(b0, path);
  if (a.is_boolean() || b.is_boolean()) return false;
  if (!types_meet(produced_types(a, path, 0), accepted_types(b, path, 0)) &&
      !types_meet(produced_types(b, path, 0), accepted_types(a, path, 0)))
    return true;
  auto values = [](const ojson& s, ojson& out) {
    if (s.contains("const")) {
      out = ojson::array({s["const"]});
      return true;
    }
    if (s.contains("enum") && s["enum"].is_array()) {
      out = s["enum"];
      return true;
    }
    return false;
  };
  ojson va, vb;
  if (values(a, va) && values(b, vb)) {
    for (const ojson& x : va)
      if (std::find(vb.begin(), vb.end(), x) != vb.end()) return false;
    return true;
  }
  // Objects: each side's output lacks a key the other requires, or a key both require has
  // disjoint values.
  auto separated = [&](const ojson& x, const ojson& y) {
    if (y.contains("required") && y["required"].is_array()) {
      for (const ojson& q : y["required"]) {
        if (!q.is_string()) continue;
        const std::string key = q.get<std::string>();
        const bool x_requires =
            x.contains("required") && x["required"].is_array() &&
            std::find(x["required"].begin(), x["required"].end(), q) != x["required"].end();
        if (!declares(x, key) && closed_object(x) && !x_requires) return true;
        if (x_requires && declares(x, key) && declares(y, key) &&
            disjoint(x["properties"][key], y["properties"][key], path, depth + 1))
          return true;
      }
    }
    return false;
  };
  const auto ta = produced_types(a, path, 0), tb = produced_types(b, path, 0);
  if (ta == std::set<std::string>{"object"} && tb == std::set<std::string>{"object"})
    return separated(a, b) && separated(b, a);
  return false;
}

}  // namespace ug::schema
