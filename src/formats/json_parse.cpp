#include "formats/json_parse.h"

#include <vector>

#include "base/read_file.h"

namespace ug {

namespace {

using nlohmann::json;

// Builds the value from nlohmann's SAX events without recursion (a stack of the open arrays and
// objects), refusing to open more than max_depth of them: the parse stops at the first one too
// many, so a deep text costs no more than its first max_depth levels.
class DepthLimitedBuilder {
 public:
  DepthLimitedBuilder(json& root, const JsonParseOptions& options)
      : root_(root), options_(options) {}

  bool null() { return put(nullptr) != nullptr; }
  bool boolean(bool v) { return put(v) != nullptr; }
  bool number_integer(json::number_integer_t v) { return put(v) != nullptr; }
  bool number_unsigned(json::number_unsigned_t v) { return put(v) != nullptr; }
  bool number_float(json::number_float_t v, const json::string_t&) { return put(v) != nullptr; }
  bool string(json::string_t& v) { return put(std::move(v)) != nullptr; }
  bool binary(json::binary_t& v) { return put(json::binary(std::move(v))) != nullptr; }

  bool start_object(std::size_t) { return open(json::value_t::object); }
  bool start_array(std::size_t) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& k) {
    auto& members = open_.back()->get_ref<json::object_t&>();
    auto [it, inserted] = members.try_emplace(std::move(k));
    if (!inserted && options_.reject_duplicate_keys) {
      duplicate_key_ = it->first;
      return false;
    }
    slot_ = &it->second;
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    syntax_error_ = e.what();
    return false;
  }

  bool too_deep() const { return too_deep_; }
  const std::string& syntax_error() const { return syntax_error_; }
  const std::string& duplicate_key() const { return duplicate_key_; }

 private:
  // Places a value where the grammar says it goes: the root, the next array element, or the
  // member whose key came last. Returns where it went.
  template <class V>
  json* put(V&& v) {
    if (open_.empty()) {
      root_ = json(std::forward<V>(v));
      return &root_;
    }
    json* parent = open_.back();
    if (parent->is_array()) {
      parent->get_ref<json::array_t&>().emplace_back(std::forward<V>(v));
      return &parent->get_ref<json::array_t&>().back();
    }
    *slot_ = json(std::forward<V>(v));
    return slot_;
  }

  bool open(json::value_t type) {
    if (static_cast<int>(open_.size()) >= options_.max_depth) {
      too_deep_ = true;
      return false;
    }
    open_.push_back(put(type));
    return true;
  }

  bool close() {
    open_.pop_back();
    return true;
  }

  json& root_;
  const JsonParseOptions& options_;
  std::vector<json*> open_;  // innermost last; elements of an open array never move meanwhile
  json* slot_ = nullptr;     // the member of the innermost object whose key came last
  bool too_deep_ = false;
  std::string syntax_error_, duplicate_key_;
};

// nlohmann's messages start with "[json.exception.parse_error.101] "; users need the rest.
std::string without_exception_id(const std::string& message) {
  if (message.rfind("[json.exception.", 0) != 0) return message;
  const std::size_t end = message.find("] ");
  return end == std::string::npos ? message : message.substr(end + 2);
}

}  // namespace

json parse_json(std::string_view text, std::string_view what, const JsonParseOptions& options) {
  json root;
  DepthLimitedBuilder builder(root, options);
  if (json::sax_parse(text.data(), text.data() + text.size(), &builder)) return root;
  if (builder.too_deep())
    throw JsonDepthError(std::string(what) + ": JSON nested more than " +
                         std::to_string(options.max_depth) + " levels deep (the limit)");
  if (!builder.duplicate_key().empty())
    fail(what, ": invalid JSON: key '", builder.duplicate_key(), "' appears twice in an object");
  fail(what, ": invalid JSON: ", without_exception_id(builder.syntax_error()));
}

json read_json_file(const std::string& path, const JsonParseOptions& options) {
  return parse_json(read_file(path), path, options);
}

std::string json_excerpt(const json& value, std::size_t max_bytes) {
  std::string s = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() <= max_bytes) return s;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // whole chars
  s.resize(cut);
  return s + "...";
}

}  // namespace ug
