// Schema algebra for the JSON Schema converter: resolving local $refs, folding allOf into one
// schema, and proving oneOf alternatives disjoint. Internal to src/grammar.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace ug::schema {

using ojson = nlohmann::ordered_json;

// "/properties/a" style pointer for messages ("/" for the root).
std::string show(const std::string& path);
// Appends a key to a JSON pointer (escaping ~ and /).
std::string child(const std::string& path, const std::string& key);

bool is_annotation(const std::string& keyword);
// Keywords that constrain values (not annotations, not $defs containers).
bool has_constraints(const ojson& schema);

class Resolver {
 public:
  explicit Resolver(const ojson& document) : doc_(document) {}
  // The schema a local reference ("#", "#/$defs/x", "#/definitions/a~1b") points to; its pointer
  // goes to `target_path`. Throws for remote or unknown references.
  const ojson& resolve(const std::string& ref, const std::string& path,
                       std::string& target_path) const;
  // The schema with a top-level $ref replaced by its target (merged with the siblings) and allOf
  // folded in; nested schemas keep their $refs.
  ojson flatten(const ojson& schema, const std::string& path, int depth = 0) const;
  // allOf of the two, as one schema. Throws when the combination cannot be expressed.
  ojson merge(const ojson& a, const ojson& b, const std::string& path) const;
  // True when no value produced for `a` validates against `b` and vice versa (conservative:
  // false when unsure).
  bool disjoint(const ojson& a, const ojson& b, const std::string& path, int depth = 0) const;

 private:
  std::set<std::string> accepted_types(const ojson& s, const std::string& path, int depth) const;
  std::set<std::string> produced_types(const ojson& s, const std::string& path, int depth) const;
  const ojson& doc_;
};

// JSON types ("object", "array", "string", "number", "integer", "boolean", "null") a schema's
// keywords imply when it has no `type` (empty: none implied).
std::set<std::string> implied_types(const ojson& s);
// The `type` keyword as a set (empty when absent); throws on bad values.
std::set<std::string> type_set(const ojson& s, const std::string& path);

}  // namespace ug::schema
