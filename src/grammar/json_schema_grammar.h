// JSON Schema -> GBNF. The grammar produces only values the schema accepts (a subset of them:
// see the policies below); a keyword it cannot enforce is an error naming the keyword and its
// JSON pointer, never silently ignored. Annotations (title, description, examples, default,
// $schema, $id, $comment, readOnly, and every keyword outside the JSON Schema vocabularies, such
// as x-... or $default) are accepted and ignored, as are formats no JSON Schema draft defines.
//
// Policies:
// - Whitespace: compact JSON plus, after '{' '[' ',' ':' and before '}' ']' ',', an optional single
//   space or one newline followed by up to 20 spaces/tabs; none at the start or end of the value.
//   Bounded, so a model cannot loop on whitespace forever.
// - Property order: required properties first, then optional ones, each in schema order (the
//   order of `properties`; keep it by parsing with nlohmann::ordered_json). In the Gemma tool-call
//   syntax all keys follow the chat template's order (sorted, case-insensitively).
// - `additionalProperties` absent: no extra properties when `properties` is given, any object
//   otherwise. Extra keys never repeat a declared name and contain no escapes.
// - Strings longer than max_string_length are never produced (maxLength above it is capped);
//   patterns and formats produce strings the whole regex matches.
// - Numbers: up to 15 integer digits; bounded numbers have at most 6 fraction digits and no
//   exponent.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "grammar/regex_to_gbnf.h"

namespace ug {

struct JsonSchemaOptions {
  StringSyntax syntax = StringSyntax::Json;
  int max_string_length = 2048;
  int max_array_items = 1024;  // maxItems above this is capped (minItems above it is an error)
};

// Builds GBNF rules for one or more schemas sharing primitive rules (string, number, ...).
class SchemaGrammarBuilder {
 public:
  explicit SchemaGrammarBuilder(JsonSchemaOptions options = {});

  // Adds the rules for `schema`, a whole document ($ref resolves inside it), and returns the name
  // of the rule producing its values (derived from `name`). Throws ug::Error naming keyword and
  // path for what is unsupported.
  std::string add_schema(const nlohmann::ordered_json& schema, const std::string& name);
  // The rule of any JSON value (any object for json_object mode).
  std::string any_value();
  std::string any_object();
  // Adds a rule written by the caller (name must be new); returns it.
  std::string add_rule(const std::string& name, const std::string& body);
  // All rules as GBNF text, `root` first when defined.
  std::string gbnf() const;

 private:
  friend class SchemaVisitor;
  struct Rule {
    std::string name, body;
  };
  std::string unique_name(const std::string& hint);
  std::string define(const std::string& hint, const std::string& body);  // dedupes bodies
  void set_body(const std::string& name, const std::string& body);

  JsonSchemaOptions options_;
  std::vector<Rule> rules_;
  std::map<std::string, size_t> by_name_;
  std::map<std::string, std::string> by_body_;
  std::string value_rule_, object_rule_;
};

// GBNF with `root` producing the schema's values.
std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema,
                                const JsonSchemaOptions& options = {});
std::string json_schema_to_gbnf(const nlohmann::json& schema,
                                const JsonSchemaOptions& options = {});

// GBNF with `root` producing any JSON object ("json_object" mode) or any JSON value.
std::string json_object_gbnf();
std::string json_value_gbnf();

}  // namespace ug
