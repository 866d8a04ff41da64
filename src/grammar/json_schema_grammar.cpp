#include "grammar/json_schema_grammar.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>

#include "base/error.h"
#include "grammar/gbnf_text.h"
#include "grammar/json_formats.h"
#include "grammar/json_schema_merge.h"
#include "grammar/number_grammar.h"
#include "text/tool_syntax.h"
#include "text/utf8.h"

namespace ug {

using schema::child;
using schema::ojson;
using schema::show;

namespace {

const std::set<std::string, std::less<>> kSupported = {
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "prefixItems",
    "additionalItems",
    "unevaluatedItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "nullable",
    "minProperties",
    "maxProperties",
};

[[noreturn]] void unsupported(const std::string& keyword, const ojson& value,
                              const std::string& path) {
  std::string v = value.dump();
  if (v.size() > 60) v = v.substr(0, 57) + "...";
  fail("unsupported JSON Schema keyword \"", keyword, "\" (", v, ") at ", show(path));
}

[[noreturn]] void bad_value(const std::string& keyword, const std::string& path,
                            const std::string& expected) {
  fail("JSON Schema keyword \"", keyword, "\" at ", show(path), ": expected ", expected);
}

int64_t count_value(const ojson& s, const char* keyword, const std::string& path) {
  const ojson& v = s[keyword];
  if (!v.is_number_integer() &&
      !(v.is_number_float() && v.get<double>() == static_cast<int64_t>(v.get<double>())))
    bad_value(keyword, path, "a non-negative integer");
  const int64_t n = v.is_number_float() ? static_cast<int64_t>(v.get<double>()) : v.get<int64_t>();
  if (n < 0) bad_value(keyword, path, "a non-negative integer");
  return n;
}

std::string sanitize(const std::string& hint) {
  std::string out;
  for (char c : hint) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    out += ok ? c : '-';
  }
  while (out.find("--") != std::string::npos) out.erase(out.find("--"), 1);
  while (!out.empty() && out.back() == '-') out.pop_back();
  while (!out.empty() && out.front() == '-') out.erase(0, 1);
  if (out.size() > 40) out = out.substr(0, 40);
  return out.empty() ? "x" : out;
}

std::string repeat_suffix(int64_t min, int64_t max) {  // max < 0: unbounded
  if (max < 0) return "{" + std::to_string(min) + ",}";
  if (min == max) return "{" + std::to_string(min) + "}";
  return "{" + std::to_string(min) + "," + std::to_string(max) + "}";
}

// Keys the Gemma tool DSL writes bare: what its parser reads back unchanged.
bool dsl_bare_key(const std::string& k) {
  if (k.empty()) return false;
  for (char c : k)
    if (c == ':' || c == '}' || c == ',' || c == '{' || c == '<' || c == '|' || c == '"' ||
        c == ' ' || c == '\t' || c == '\n' || c == '\r')
      return false;
  return true;
}

}  // namespace

// Converts one schema document; rules go to the builder.
class SchemaVisitor {
 public:
  SchemaVisitor(SchemaGrammarBuilder& b, const ojson& doc) : b_(b), r_(doc), doc_(doc) {}

  std::string visit(const ojson& s, const std::string& path, const std::string& hint) {
    if (s.is_boolean()) {
      if (s.get<bool>()) return b_.any_value();
      fail("the schema false at ", show(path), " accepts no value");
    }
    if (!s.is_object())
      fail("the schema at ", show(path), " must be an object or a boolean, got ", s.dump());
    check_keywords(s, path);
    if (s.contains("$ref")) {
      if (!s["$ref"].is_string()) bad_value("$ref", path, "a string");
      ojson rest = s;
      rest.erase("$ref");
      if (!schema::has_constraints(rest)) return ref_rule(s["$ref"].get<std::string>(), path);
      return visit(r_.flatten(s, path), path, hint);
    }
    if (s.contains("allOf")) return visit(r_.flatten(s, path), path, hint);
    if (s.contains("anyOf") || s.contains("oneOf")) return combinator(s, path, hint);
    if (s.contains("nullable")) {
      if (!s["nullable"].is_boolean()) bad_value("nullable", path, "true or false");
      ojson rest = s;
      rest.erase("nullable");
      if (!s["nullable"].get<bool>()) return visit(rest, path, hint);
      if (rest.contains("type")) {
        std::set<std::string> types = schema::type_set(rest, path);
        types.insert("null");
        rest["type"] = ojson(std::vector<std::string>(types.begin(), types.end()));
        return visit(rest, path, hint);
      }
      if (rest.contains("enum") || rest.contains("const") || schema::has_constraints(rest))
        return b_.define(hint, visit(rest, path, hint) + " | " + null_rule());
      return b_.any_value();
    }
    if (s.contains("const")) return b_.define(hint, literal(s["const"], path));
    if (s.contains("enum")) return enumeration(s, path, hint);

    std::set<std::string> types = schema::type_set(s, path);
    if (types.empty()) types = schema::implied_types(s);
    if (types.empty()) return b_.any_value();
    std::vector<std::string> alts;
    if (types.count("integer") && types.count("number")) types.erase("integer");
    for (const std::string& t : types) {
      if (t == "string") alts.push_back(string_value(s, path, hint));
      if (t == "number" || t == "integer")
        alts.push_back(number_value(s, path, hint, t == "integer"));
      if (t == "boolean") alts.push_back(boolean_rule());
      if (t == "null") alts.push_back(null_rule());
      if (t == "object") alts.push_back(object_value(s, path, hint));
      if (t == "array") alts.push_back(array_value(s, path, hint));
    }
    if (alts.size() == 1) return alts[0];
    std::string body;
    for (size_t i = 0; i < alts.size(); ++i) body += (i ? " | " : "") + alts[i];
    return b_.define(hint, body);
  }

 private:
  bool dsl() const { return b_.options_.syntax == StringSyntax::Dsl; }
  std::string ws() { return dsl() ? "" : b_.define("ws", "( \" \" | \"\\n\" [ \\t]{0,20} )?"); }
  std::string sep() { return dsl() ? "\",\"" : ws() + " \",\" " + ws(); }
  std::string open(const char* c) { return dsl() ? gbnf_quote(c) : gbnf_quote(c) + " " + ws(); }
  std::string close(const char* c) { return dsl() ? gbnf_quote(c) : ws() + " " + gbnf_quote(c); }
  std::string quote() { return dsl() ? "<|\"|>" : "\"\\\"\""; }
  std::string null_rule() { return b_.define("null", "\"null\""); }
  std::string boolean_rule() { return b_.define("boolean", "\"true\" | \"false\""); }

  void check_keywords(const ojson& s, const std::string& path) {
    for (const auto& [k, v] : s.items()) {
      if (schema::is_annotation(k)) continue;
      if (!kSupported.count(k)) unsupported(k, v, path);
    }
    if (s.contains("uniqueItems") && !(s["uniqueItems"] == false)) {
      const bool at_most_one =
          s.contains("maxItems") && s["maxItems"].is_number() && s["maxItems"] <= 1;
      if (!at_most_one) unsupported("uniqueItems", s["uniqueItems"], path);
    }
    for (const char* k : {"unevaluatedProperties", "unevaluatedItems"}) {
      if (s.contains(k) && !s[k].is_boolean()) unsupported(k, s[k], path);
    }
  }

  std::string ref_rule(const std::string& ref, const std::string& path) {
    auto it = refs_.find(ref);
    if (it != refs_.end()) return it->second;
    std::string target_path;
    const ojson& target = r_.resolve(ref, path, target_path);
    const size_t slash = target_path.rfind('/');
    const std::string hint = target_path.empty() ? "root-ref" : target_path.substr(slash + 1);
    const std::string name = b_.unique_name(hint);
    refs_[ref] = name;
    b_.set_body(name, "");  // reserved: recursive references resolve to the name
    b_.set_body(name, visit(target, target_path, name));
    return name;
  }

  std::string combinator(const ojson& s, const std::string& path, const std::string& hint) {
    if (s.contains("anyOf") && s.contains("oneOf"))
      fail("anyOf together with oneOf at ", show(path), " is not supported");
    const char* key = s.contains("anyOf") ? "anyOf" : "oneOf";
    const ojson& alts = s[key];
    if (!alts.is_array() || alts.empty()) bad_value(key, path, "a non-empty array of schemas");
    ojson base = s;
    base.erase(key);
    const bool has_base = schema::has_constraints(base);
    std::vector<ojson> branches;
    for (size_t i = 0; i < alts.size(); ++i) {
      const std::string p = child(child(path, key), std::to_string(i));
      branches.push_back(has_base ? r_.merge(base, alts[i], p) : alts[i]);
    }
    if (std::string(key) == "oneOf") {
      for (size_t i = 0; i < branches.size(); ++i)
        for (size_t j = i + 1; j < branches.size(); ++j)
          if (!r_.disjoint(branches[i], branches[j], path))
            fail("oneOf at ", show(path), ": alternatives ", i, " and ", j,
                 " may both match the same value (only provably exclusive alternatives, e.g. "
                 "different types or const/enum discriminators, are supported)");
    }
    std::string body;
    for (size_t i = 0; i < branches.size(); ++i) {
      const std::string p = child(child(path, key), std::to_string(i));
      body += (i ? " | " : "") + visit(branches[i], p, hint + "-" + std::to_string(i));
    }
    return b_.define(hint, body);
  }

  std::string dsl_string_literal(const std::string& text, const std::string& path) {
    if (text.find("<|") != std::string::npos || text.find("|>") != std::string::npos)
      fail("the string ", ojson(text).dump(), " at ", show(path),
           " contains a chat marker and cannot be written in a tool call");
    return "<|\"|> " + gbnf_quote(text) + " <|\"|>";
  }

  // The exact text of a JSON value: compact JSON, or the Gemma DSL (sorted keys).
  std::string literal(const ojson& v, const std::string& path) {
    if (!dsl()) {
      try {
        return gbnf_quote(v.dump());
      } catch (const nlohmann::json::exception&) {
        fail("the value at ", show(path), " is not valid UTF-8");
      }
    }
    if (v.is_string()) return dsl_string_literal(v.get<std::string>(), path);
    if (v.is_array()) {
      std::string out = "\"[\"";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? " \",\" " : " ") + literal(v[i], path);
      return out + " \"]\"";
    }
    if (v.is_object()) {
      std::vector<std::string> keys;
      for (const auto& [k, x] : v.items()) keys.push_back(k);
      sort_dsl(keys);
      std::string out = "\"{\"";
      for (size_t i = 0; i < keys.size(); ++i)
        out +=
            (i ? " \",\" " : " ") + dsl_key(keys[i], path) + " \":\" " + literal(v[keys[i]], path);
      return out + " \"}\"";
    }
    return gbnf_quote(v.dump());
  }

  static void sort_dsl(std::vector<std::string>& keys) {
    nlohmann::json o = nlohmann::json::object();
    for (const std::string& k : keys) o[k] = nullptr;
    keys.clear();
    for (const auto& [k, p] : dictsort(o)) keys.push_back(k);
  }

  std::string dsl_key(const std::string& k, const std::string& path) {
    if (dsl_bare_key(k)) return gbnf_quote(k);
    return dsl_string_literal(k, path);
  }

  std::string enumeration(const ojson& s, const std::string& path, const std::string& hint) {
    const ojson& values = s["enum"];
    if (!values.is_array() || values.empty()) bad_value("enum", path, "a non-empty array");
    const std::set<std::string> types = schema::type_set(s, path);
    std::string body;
    for (const ojson& v : values) {
      if (!types.empty()) {
        const bool ok =
            (v.is_string() && types.count("string")) ||
            (v.is_boolean() && types.count("boolean")) || (v.is_null() && types.count("null")) ||
            (v.is_object() && types.count("object")) || (v.is_array() && types.count("array")) ||
            (v.is_number() && types.count("number")) ||
            (v.is_number_integer() && types.count("integer")) ||
            (v.is_number_float() && types.count("integer") &&
             v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>())));
        if (!ok) continue;
      }
      body += (body.empty() ? "" : " | ") + literal(v, path);
    }
    if (body.empty()) fail("enum at ", show(path), ": no value has the schema's type");
    return b_.define(hint, body);
  }

  // ---- strings ----

  std::string plain_char() {
    if (dsl()) return b_.define("dsl-char", "[^<|\\x00]");
    return b_.define("char",
                     "[^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" ( "
                     "[0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2} ) )");
  }

  std::string string_rule() {
    if (dsl()) {
      const std::string text = b_.define(
          "dsl-text",
          "( [^<|\\x00] | \"<\"+ [^<|\\x00] | \"|\"+ [^<|>\\x00] | \"|\"+ \"<\"+ [^<|\\x00] )* "
          "( \"<\"+ | \"|\"+ \"<\"* )?");
      return b_.define("string", quote() + " " + text + " " + quote());
    }
    return b_.define("string", quote() + " " + plain_char() + "* " + quote());
  }

  std::string string_value(const ojson& s, const std::string& path, const std::string& hint) {
    std::optional<int64_t> min_len, max_len;
    if (s.contains("minLength")) min_len = count_value(s, "minLength", path);
    if (s.contains("maxLength")) max_len = count_value(s, "maxLength", path);
    if (min_len && max_len && *min_len > *max_len)
      fail("minLength > maxLength at ", show(path), ": no string is valid");
    std::string regex, what;
    if (s.contains("pattern")) {
      if (!s["pattern"].is_string()) bad_value("pattern", path, "a string");
      regex = s["pattern"].get<std::string>();
      what = "pattern";
    }
    if (s.contains("format")) {
      if (!s["format"].is_string()) bad_value("format", path, "a string");
      const std::string f = format_regex(s["format"].get<std::string>(), path);
      if (!f.empty()) {
        if (!regex.empty())
          fail("pattern together with format at ", show(path), " is not supported");
        regex = f;
        what = "format \"" + s["format"].get<std::string>() + "\"";
      }
    }
    const int64_t cap = b_.options_.max_string_length;
    if (regex.empty()) {
      if (!min_len && !max_len) return string_rule();
      const int64_t lo = min_len.value_or(0);
      if (lo > cap) fail("minLength ", lo, " at ", show(path), " is above the supported ", cap);
      const int64_t hi = std::min(max_len.value_or(cap), cap);
      return b_.define(hint, quote() + " " + plain_char() + repeat_suffix(lo, hi) + " " + quote());
    }
    RegexGrammar rg;
    try {
      rg = regex_to_gbnf(regex, b_.options_.syntax);
    } catch (const Error& e) {
      fail(what, " at ", show(path), ": ", e.what());
    }
    const int64_t lo = min_len.value_or(0);
    const bool implied =
        rg.min_chars >= lo && (!max_len || (rg.max_chars >= 0 && rg.max_chars <= *max_len));
    std::string content = rg.expr;
    if (!implied) {
      std::vector<CodeRange> set;
      int64_t a, bmax;
      if (!regex_single_repeat(regex, set, a, bmax))
        fail("minLength/maxLength together with ", what, " at ", show(path),
             " is supported only when the pattern implies the limits or is one repeated class");
      const int64_t new_lo = std::max(a, lo);
      int64_t new_hi = bmax < 0 ? std::min(max_len.value_or(cap), cap)
                                : std::min<int64_t>(bmax, max_len.value_or(bmax));
      if (new_lo > new_hi) fail("minLength/maxLength at ", show(path), " contradict the pattern");
      content = string_char_gbnf(set, b_.options_.syntax) + repeat_suffix(new_lo, new_hi);
    }
    return b_.define(hint, quote() + " " + content + " " + quote());
  }

  // ---- numbers ----

  std::string number_value(const ojson& s, const std::string& path, const std::string& hint,
                           bool integer) {
    std::optional<NumberBound> lo, hi;
    auto tighter = [](std::optional<NumberBound>& cur, NumberBound b, bool lower) {
      if (!cur) {
        cur = b;
        return;
      }
      const int c = compare(b.value, cur->value);
      if (c == 0) {
        cur->exclusive = cur->exclusive || b.exclusive;
      } else if (lower ? c > 0 : c < 0) {
        cur = b;
      }
    };
    auto number_of = [&](const char* k) {
      if (!s[k].is_number()) bad_value(k, path, "a number");
      return Decimal::from_json(s[k]);
    };
    const bool draft4_min = s.contains("exclusiveMinimum") && s["exclusiveMinimum"].is_boolean();
    const bool draft4_max = s.contains("exclusiveMaximum") && s["exclusiveMaximum"].is_boolean();
    if (s.contains("minimum"))
      tighter(lo, {number_of("minimum"), draft4_min && s["exclusiveMinimum"].get<bool>()}, true);
    if (s.contains("maximum"))
      tighter(hi, {number_of("maximum"), draft4_max && s["exclusiveMaximum"].get<bool>()}, false);
    if (s.contains("exclusiveMinimum") && !draft4_min)
      tighter(lo, {number_of("exclusiveMinimum"), true}, true);
    if (s.contains("exclusiveMaximum") && !draft4_max)
      tighter(hi, {number_of("exclusiveMaximum"), true}, false);
    if (s.contains("format") && s["format"].is_string()) {
      const std::string f = s["format"].get<std::string>();
      if (f == "int32" || f == "int64" || f == "uint32" || f == "uint64") {
        integer = true;
        const bool u = f[0] == 'u';
        const bool wide = f.ends_with("64");
        const ojson min = u ? ojson(0) : wide ? ojson(INT64_MIN) : ojson(INT32_MIN);
        const ojson max = u ? (wide ? ojson(UINT64_MAX) : ojson(UINT32_MAX))
                            : (wide ? ojson(INT64_MAX) : ojson(INT32_MAX));
        tighter(lo, {Decimal::from_json(min), false}, true);
        tighter(hi, {Decimal::from_json(max), false}, false);
      } else if (is_standard_format(f)) {  // a string format on a number
        fail("unsupported JSON Schema format \"", f, "\" for numbers at ", show(path));
      }
    }
    if (s.contains("multipleOf")) {
      const ojson& m = s["multipleOf"];
      if (!m.is_number() || m.get<double>() <= 0)
        bad_value("multipleOf", path, "a positive number");
      if (m.get<double>() != 1.0) unsupported("multipleOf", m, path);
      integer = true;
    }
    if (!lo && !hi) {
      if (integer) return b_.define("integer", "\"-\"? ( \"0\" | [1-9] [0-9]{0,14} )");
      const std::string i = b_.define("integer", "\"-\"? ( \"0\" | [1-9] [0-9]{0,14} )");
      return b_.define("number", i + " ( \".\" [0-9]{1,15} )? ( [eE] [-+]? [0-9]{1,2} )?");
    }
    NumberGrammarOptions o;
    o.integer = integer;
    const std::string body = number_range_gbnf(lo, hi, o);
    if (body.empty()) fail("no number satisfies the bounds at ", show(path));
    return b_.define(hint, body);
  }

  // ---- objects ----

  struct Member {
    std::string key;
    bool required;
    std::string expr;  // the whole `"key": value`
  };

  std::string member_expr(const std::string& key, const std::string& value,
                          const std::string& path) {
    if (dsl()) return dsl_key(key, path) + " \":\" " + value;
    return gbnf_quote(ojson(key).dump()) + " " + ws() + " \":\" " + ws() + " " + value;
  }

  // Keys that are none of `names`, without escapes (JSON) or bare identifiers (DSL).
  std::string extra_key(const std::vector<std::string>& names, const std::string& hint) {
    // A trie over the names' code points; rule per node: end here (if not a name), follow a
    // child, or leave the trie with any other character.
    struct Node {
      std::map<char32_t, int> next;
      bool end = false;
    };
    std::vector<Node> t(1);
    for (const std::string& n : names) {
      int at = 0;
      for (size_t i = 0; i < n.size();) {
        const Utf8Char u = utf8_next(n, i);
        i += u.len;
        auto it = t[at].next.find(u.cp);
        if (it == t[at].next.end()) {
          t.push_back({});
          it = t[at].next.emplace(u.cp, static_cast<int>(t.size()) - 1).first;
        }
        at = it->second;
      }
      t[at].end = true;
    }
    std::vector<CodeRange> base;
    if (dsl()) {
      base = normalize_chars({{'A', 'Z'}, {'a', 'z'}, {'0', '9'}, {'_', '_'}});
    } else {
      base = negate_chars({{'"', '"'}, {'\\', '\\'}, {0x7F, 0x7F}, {0, 0x1F}});
    }
    const std::string any = gbnf_class(base) + "*";
    std::vector<std::string> names_of(t.size());
    for (size_t i = 0; i < t.size(); ++i) names_of[i] = b_.unique_name(hint + "-k");
    for (size_t i = 0; i < t.size(); ++i) {
      std::vector<std::string> alts;
      if (!t[i].end && !(dsl() && i == 0)) alts.push_back("\"\"");
      std::vector<CodeRange> used;
      for (const auto& [c, n] : t[i].next) {
        std::vector<CodeRange> cls{{c, c}};
        alts.push_back(gbnf_class(cls) + " " + names_of[static_cast<size_t>(n)]);
        used.push_back({c, c});
      }
      std::vector<CodeRange> rest;
      for (const CodeRange& r : base) {
        // base minus used
        char32_t lo = r.lo;
        std::vector<CodeRange> u = normalize_chars(used);
        for (const CodeRange& x : u) {
          if (x.hi < lo || x.lo > r.hi) continue;
          if (x.lo > lo) rest.push_back({lo, x.lo - 1});
          lo = x.hi + 1;
        }
        if (lo <= r.hi) rest.push_back({lo, r.hi});
      }
      rest = normalize_chars(rest);
      if (!rest.empty()) alts.push_back(gbnf_class(rest) + " " + any);
      std::string body;
      for (size_t k = 0; k < alts.size(); ++k) body += (k ? " | " : "") + alts[k];
      b_.set_body(names_of[i], body.empty() ? "\"\"" : body);
    }
    if (dsl()) return names_of[0];
    return "\"\\\"\" " + names_of[0] + " \"\\\"\"";
  }

  std::string object_value(const ojson& s, const std::string& path, const std::string& hint) {
    const bool has_props = s.contains("properties");
    if (has_props && !s["properties"].is_object()) bad_value("properties", path, "an object");
    std::vector<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) bad_value("required", path, "an array of strings");
      for (const ojson& r : s["required"]) {
        if (!r.is_string()) bad_value("required", path, "an array of strings");
        if (std::find(required.begin(), required.end(), r.get<std::string>()) == required.end())
          required.push_back(r.get<std::string>());
      }
    }
    // Extra properties: schema, or none (false) / any (true).
    ojson extra = has_props ? ojson(false) : ojson(true);
    if (s.contains("additionalProperties")) {
      extra = s["additionalProperties"];
      if (!extra.is_boolean() && !extra.is_object())
        bad_value("additionalProperties", path, "a boolean or a schema");
    }
    if (s.contains("unevaluatedProperties") && s["unevaluatedProperties"] == false) extra = false;
    const bool extra_allowed = !(extra.is_boolean() && !extra.get<bool>());

    std::vector<std::string> keys;
    if (has_props)
      for (const auto& [k, v] : s["properties"].items()) keys.push_back(k);
    for (const std::string& r : required)
      if (std::find(keys.begin(), keys.end(), r) == keys.end()) {
        if (!extra_allowed)
          fail("property \"", r, "\" at ", show(path),
               " is required but not allowed (not in properties, additionalProperties false)");
        keys.push_back(r);
      }
    auto is_required = [&](const std::string& k) {
      return std::find(required.begin(), required.end(), k) != required.end();
    };
    if (dsl()) {
      sort_dsl(keys);
    } else {
      std::stable_partition(keys.begin(), keys.end(), is_required);
    }
    std::vector<Member> members;
    for (const std::string& k : keys) {
      std::string value;
      if (has_props && s["properties"].contains(k)) {
        const std::string p = child(child(path, "properties"), k);
        value = visit(s["properties"][k], p, hint + "-" + sanitize(k));
      } else {
        value = extra.is_object()
                    ? visit(extra, child(path, "additionalProperties"), hint + "-extra")
                    : b_.any_value();
      }
      members.push_back({k, is_required(k), member_expr(k, value, path)});
    }
    std::string extra_member;
    if (extra_allowed) {
      std::vector<std::string> names = keys;
      const std::string value =
          extra.is_object() ? visit(extra, child(path, "additionalProperties"), hint + "-extra")
                            : b_.any_value();
      const std::string key = extra_key(names, hint);
      extra_member =
          dsl() ? key + " \":\" " + value : key + " " + ws() + " \":\" " + ws() + " " + value;
    }
    // Property counts: supported where they follow from the members, and minProperties 1.
    int64_t min_props = 0;
    if (s.contains("minProperties")) min_props = count_value(s, "minProperties", path);
    if (s.contains("maxProperties")) {
      const int64_t max_props = count_value(s, "maxProperties", path);
      if (extra_allowed || max_props < static_cast<int64_t>(members.size()))
        unsupported("maxProperties", s["maxProperties"], path);
    }
    const int64_t n_required = static_cast<int64_t>(
        std::count_if(members.begin(), members.end(), [](const Member& m) { return m.required; }));
    bool need_one = false;
    if (min_props > n_required) {
      if (min_props == 1 && n_required == 0) {
        need_one = true;
      } else {
        unsupported("minProperties", s["minProperties"], path);
      }
    }
    const std::string name = b_.unique_name(hint);
    std::map<std::string, std::string> memo;
    const std::string inner = tail(members, extra_member, 0, true, need_one, name, memo);
    std::string body = open("{");
    if (!inner.empty()) body += " " + inner;
    body += " " + close("}");
    b_.set_body(name, body);
    return name;
  }

  // Members i.. given whether one was written already (first: no comma yet) and whether one more
  // is needed. "" means nothing; nullopt-like "!" means impossible.
  std::string tail(const std::vector<Member>& m, const std::string& extra, size_t i, bool first,
                   bool need_one, const std::string& hint,
                   std::map<std::string, std::string>& memo) {
    const std::string key = std::to_string(i) + (first ? "f" : "r") + (need_one ? "n" : "");
    auto it = memo.find(key);
    if (it != memo.end()) return it->second;
    std::string out;
    const std::string s = first ? "" : sep() + " ";
    if (i == m.size()) {
      if (extra.empty()) {
        out = first && need_one ? "!" : "";
      } else {
        const std::string more = "( " + sep() + " " + extra + " )*";
        if (first) {
          out = need_one ? extra + " " + more : "( " + extra + " " + more + " )?";
        } else {
          out = more;
        }
      }
    } else {
      const std::string after = tail(m, extra, i + 1, false, false, hint, memo);
      const std::string with = s + m[i].expr + (after.empty() ? "" : " " + after);
      if (m[i].required) {
        out = with;
      } else {
        const std::string without = tail(m, extra, i + 1, first, need_one, hint, memo);
        if (without == "!") {
          out = with;
        } else {
          out = "( " + with + " | " + (without.empty() ? "\"\"" : without) + " )";
        }
      }
      // Long tails become rules so the grammar stays linear in the number of properties.
      if (out.size() > 200) out = b_.define(hint + "-t" + key, out);
    }
    memo[key] = out;
    return out;
  }

  // ---- arrays ----

  std::string array_value(const ojson& s, const std::string& path, const std::string& hint) {
    std::vector<std::string> prefix;
    std::optional<std::string> rest = "";  // "" = any value, resolved below (only when needed)
    auto prefix_of = [&](const ojson& list, const char* key) {
      if (!list.is_array()) bad_value(key, path, "an array of schemas");
      for (size_t i = 0; i < list.size(); ++i)
        prefix.push_back(visit(list[i], child(child(path, key), std::to_string(i)),
                               hint + "-" + std::to_string(i)));
    };
    auto rest_of = [&](const ojson& v, const char* key) -> std::optional<std::string> {
      if (v.is_boolean())
        return v.get<bool>() ? std::optional<std::string>(b_.any_value()) : std::nullopt;
      return visit(v, child(path, key), hint + "-item");
    };
    if (s.contains("prefixItems")) {
      prefix_of(s["prefixItems"], "prefixItems");
      if (s.contains("items")) rest = rest_of(s["items"], "items");
    } else if (s.contains("items") && s["items"].is_array()) {
      prefix_of(s["items"], "items");
      if (s.contains("additionalItems")) rest = rest_of(s["additionalItems"], "additionalItems");
    } else if (s.contains("items")) {
      rest = rest_of(s["items"], "items");
    }
    if (s.contains("unevaluatedItems") && s["unevaluatedItems"] == false) rest.reset();
    if (rest && rest->empty()) rest = b_.any_value();
    int64_t min = s.contains("minItems") ? count_value(s, "minItems", path) : 0;
    const int64_t cap = b_.options_.max_array_items;
    int64_t max = s.contains("maxItems") ? count_value(s, "maxItems", path) : -1;
    if (min > cap) fail("minItems ", min, " at ", show(path), " is above the supported ", cap);
    if (max > cap) max = cap;
    const int64_t np = static_cast<int64_t>(prefix.size());
    if (!rest) max = max < 0 ? np : std::min(max, np);
    if (max >= 0 && min > max) fail("minItems/maxItems at ", show(path), ": no array is valid");
    const std::string sp = sep() + " ";
    // Optional elements from k on: nested for the prefix, a repetition for the rest.
    std::function<std::string(int64_t)> optional = [&](int64_t k) -> std::string {
      if (max >= 0 && k >= max) return "";
      if (k >= np) {
        if (!rest) return "";
        if (k == 0)
          return "( " + *rest + " ( " + sp + *rest + " )" +
                 (max < 0 ? "*" : repeat_suffix(0, max - 1)) + " )?";
        return "( " + sp + *rest + " )" + (max < 0 ? "*" : repeat_suffix(0, max - k));
      }
      const std::string inner = optional(k + 1);
      return "( " + (k ? sp : "") + prefix[static_cast<size_t>(k)] +
             (inner.empty() ? "" : " " + inner) + " )?";
    };
    std::string body;
    for (int64_t k = 0; k < min && k < np; ++k)
      body += (k ? " " + sp : "") + prefix[static_cast<size_t>(k)];
    if (min > np) {
      body += (np ? " " + sp : "") + *rest;
      if (min - np > 1)
        body += " ( " + sp + *rest + " )" + repeat_suffix(min - np - 1, min - np - 1);
    }
    const std::string opt = optional(min);
    if (!opt.empty()) body += (body.empty() ? "" : " ") + opt;
    return b_.define(hint, open("[") + (body.empty() ? "" : " " + body) + " " + close("]"));
  }

  SchemaGrammarBuilder& b_;
  schema::Resolver r_;
  const ojson& doc_;
  std::map<std::string, std::string> refs_;
};

SchemaGrammarBuilder::SchemaGrammarBuilder(JsonSchemaOptions options) : options_(options) {}

std::string SchemaGrammarBuilder::unique_name(const std::string& hint) {
  std::string base = sanitize(hint);
  if (base == "root") base = "root-value";
  std::string name = base;
  for (int k = 2; by_name_.count(name); ++k) name = base + "-" + std::to_string(k);
  by_name_[name] = rules_.size();
  rules_.push_back({name, ""});
  return name;
}

std::string SchemaGrammarBuilder::define(const std::string& hint, const std::string& body) {
  // A body that is just a rule name needs no rule of its own.
  if (by_name_.count(body)) return body;
  auto it = by_body_.find(body);
  if (it != by_body_.end()) return it->second;
  const std::string name = unique_name(hint);
  rules_[by_name_[name]].body = body;
  by_body_[body] = name;
  return name;
}

void SchemaGrammarBuilder::set_body(const std::string& name, const std::string& body) {
  rules_[by_name_.at(name)].body = body;
}

std::string SchemaGrammarBuilder::add_rule(const std::string& name, const std::string& body) {
  if (by_name_.count(name)) fail("grammar rule '", name, "' is defined twice");
  by_name_[name] = rules_.size();
  rules_.push_back({name, body});
  return name;
}

std::string SchemaGrammarBuilder::any_value() {
  if (!value_rule_.empty()) return value_rule_;
  value_rule_ = unique_name("value");
  const std::string value = value_rule_;
  if (options_.syntax == StringSyntax::Dsl) {
    const std::string text = define(
        "dsl-text",
        "( [^<|\\x00] | \"<\"+ [^<|\\x00] | \"|\"+ [^<|>\\x00] | \"|\"+ \"<\"+ [^<|\\x00] )* "
        "( \"<\"+ | \"|\"+ \"<\"* )?");
    const std::string str = define("string", "<|\"|> " + text + " <|\"|>");
    const std::string key = define("dsl-key", "[A-Za-z_] [A-Za-z0-9_]{0,63}");
    const std::string num =
        define("number", define("integer", "\"-\"? ( \"0\" | [1-9] [0-9]{0,14} )") +
                             " ( \".\" [0-9]{1,15} )? ( [eE] [-+]? [0-9]{1,2} )?");
    object_rule_ = define("object", "\"{\" ( " + key + " \":\" " + value + " ( \",\" " + key +
                                        " \":\" " + value + " )* )? \"}\"");
    const std::string arr =
        define("array", "\"[\" ( " + value + " ( \",\" " + value + " )* )? \"]\"");
    set_body(value, object_rule_ + " | " + arr + " | " + str + " | " + num +
                        " | \"true\" | \"false\" | \"null\"");
    return value;
  }
  const std::string ws = define("ws", "( \" \" | \"\\n\" [ \\t]{0,20} )?");
  const std::string ch = define("char",
                                "[^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" ( "
                                "[0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2} ) )");
  const std::string str = define("string", "\"\\\"\" " + ch + "* \"\\\"\"");
  const std::string num =
      define("number", define("integer", "\"-\"? ( \"0\" | [1-9] [0-9]{0,14} )") +
                           " ( \".\" [0-9]{1,15} )? ( [eE] [-+]? [0-9]{1,2} )?");
  const std::string member = str + " " + ws + " \":\" " + ws + " " + value;
  object_rule_ = define("object", "\"{\" " + ws + " ( " + member + " ( " + ws + " \",\" " + ws +
                                      " " + member + " )* )? " + ws + " \"}\"");
  const std::string arr = define("array", "\"[\" " + ws + " ( " + value + " ( " + ws + " \",\" " +
                                              ws + " " + value + " )* )? " + ws + " \"]\"");
  set_body(value, object_rule_ + " | " + arr + " | " + str + " | " + num +
                      " | \"true\" | \"false\" | \"null\"");
  return value;
}

std::string SchemaGrammarBuilder::any_object() {
  any_value();
  return object_rule_;
}

std::string SchemaGrammarBuilder::add_schema(const ojson& schema, const std::string& name) {
  SchemaVisitor v(*this, schema);
  return v.visit(schema, "", name);
}

std::string SchemaGrammarBuilder::gbnf() const {
  std::string out;
  for (const Rule& r : rules_)
    if (r.name == "root") out += r.name + " ::= " + r.body + "\n";
  for (const Rule& r : rules_)
    if (r.name != "root") out += r.name + " ::= " + (r.body.empty() ? "\"\"" : r.body) + "\n";
  return out;
}

std::string json_schema_to_gbnf(const ojson& schema, const JsonSchemaOptions& options) {
  SchemaGrammarBuilder b(options);
  const std::string top = b.add_schema(schema, "value-root");
  b.add_rule("root", top);
  return b.gbnf();
}

std::string json_schema_to_gbnf(const nlohmann::json& schema, const JsonSchemaOptions& options) {
  return json_schema_to_gbnf(ojson::parse(schema.dump()), options);
}

std::string json_object_gbnf() {
  SchemaGrammarBuilder b;
  b.add_rule("root", b.any_object());
  return b.gbnf();
}

std::string json_value_gbnf() {
  SchemaGrammarBuilder b;
  b.add_rule("root", b.any_value());
  return b.gbnf();
}

}  // namespace ug
