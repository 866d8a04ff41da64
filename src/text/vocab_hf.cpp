#include "text/vocab_hf.h"

#include <string_view>
#include <unordered_map>

#include "base/error.h"
#include "formats/json_parse.h"
#include "text/tokenizer.h"
#include "text/vocab_util.h"

namespace ug {
namespace {

using nlohmann::json;

const json& require(const json& j, const char* key, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end()) fail(what, ": missing \"", key, "\"");
  return *it;
}

std::string merge_string(const json& m, size_t index, const std::string& what) {
  if (m.is_string()) {
    const std::string& s = m.get_ref<const std::string&>();
    if (s.size() < 3 || s.find(' ', 1) == std::string::npos) {
      fail(what, ": model.merges[", index, "] = \"", s, "\" is not \"left right\"");
    }
    return s;
  }
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    return m[0].get<std::string>() + " " + m[1].get<std::string>();
  }
  fail(what, ": model.merges[", index, "] is neither \"a b\" nor [\"a\", \"b\"]");
}

int32_t id_of(const std::unordered_map<std::string, int32_t>& ids, const std::string& piece) {
  auto it = ids.find(piece);
  return it == ids.end() ? -1 : it->second;
}

}  // namespace

TokenizerData vocab_from_hf_json(const json& tj, const json* config, const std::string& what) {
  if (!tj.is_object()) fail(what, ": expected a JSON object");
  const json& model = require(tj, "model", what);
  if (model.value("type", std::string("BPE")) != "BPE") {
    fail(what, ": model.type is \"", model.value("type", std::string()),
         "\"; only BPE vocabularies are supported");
  }
  const json& vocab = require(model, "vocab", what);
  if (!vocab.is_object()) fail(what, ": model.vocab must be an object {piece: id}");
  const json empty = json::array();
  const json& added = tj.contains("added_tokens") ? tj["added_tokens"] : empty;
  if (!added.is_array()) fail(what, ": added_tokens must be an array");

  // Bounds before allocating: ids must be dense-ish, not a hostile 2^31.
  constexpr int64_t kMaxVocab = 1 << 24;
  int64_t n = 0;
  auto check_id = [&](const json& id, const std::string& piece) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxVocab) {
      fail(what, ": token \"", piece, "\" has id ", json_excerpt(id), ", expected 0..",
           kMaxVocab - 1);
    }
    n = std::max(n, id.get<int64_t>() + 1);
  };
  for (auto it = vocab.begin(); it != vocab.end(); ++it) check_id(it.value(), it.key());
  for (const json& a : added) check_id(require(a, "id", what), a.value("content", std::string()));

  TokenizerData d;
  d.tokens.assign(n, std::string());
  d.types.assign(n, TokenType::Undefined);
  std::vector<bool> have(n, false);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const int64_t id = it.value().get<int64_t>();
    if (have[id])
      fail(what, ": id ", id, " is used by \"", d.tokens[id], "\" and \"", it.key(), "\"");
    have[id] = true;
    d.tokens[id] = it.key();
    d.types[id] = TokenType::Normal;
  }
  for (const json& a : added) {
    const int64_t id = a["id"].get<int64_t>();
    const std::string content = require(a, "content", what).get<std::string>();
    if (have[id] && d.tokens[id] != content) {
      fail(what, ": added token ", id, " is \"", content, "\" but model.vocab has \"", d.tokens[id],
           "\" there");
    }
    have[id] = true;
    d.tokens[id] = content;
    d.types[id] = a.value("special", false) ? TokenType::Control : TokenType::UserDefined;
  }
  const std::string unk = model.contains("unk_token") && model["unk_token"].is_string()
                              ? model["unk_token"].get<std::string>()
                              : std::string();
  for (int64_t id = 0; id < n; ++id) {
    if (!have[id]) {
      d.tokens[id] = "[PAD" + std::to_string(id) + "]";
      d.types[id] = TokenType::Unused;
    } else if (is_byte_piece(d.tokens[id])) {
      d.types[id] = TokenType::Byte;
    } else if (d.types[id] == TokenType::Normal && !unk.empty() && d.tokens[id] == unk) {
      d.types[id] = TokenType::Unknown;
    }
  }

  if (model.contains("merges") && !model["merges"].is_null()) {
    const json& merges = model["merges"];
    if (!merges.is_array()) fail(what, ": model.merges must be an array");
    d.merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) d.merges.push_back(merge_string(merges[i], i, what));
  }

  std::unordered_map<std::string, int32_t> ids;
  ids.reserve(n);
  for (int64_t id = 0; id < n; ++id) ids.emplace(d.tokens[id], static_cast<int32_t>(id));
  d.bos_id = id_of(ids, "<bos>");
  d.eos_id = id_of(ids, "<eos>");
  d.pad_id = id_of(ids, "<pad>");
  d.mask_id = id_of(ids, "<mask>");
  d.unk_id = unk.empty() ? id_of(ids, "<unk>") : id_of(ids, unk);

  // BOS is added when the post-processor's single-sequence template starts with the BOS token.
  d.add_bos = false;
  if (tj.contains("post_processor") && tj["post_processor"].is_object() && d.bos_id >= 0) {
    const json& pp = tj["post_processor"];
    if (pp.value("type", std::string()) == "TemplateProcessing" && pp.contains("single") &&
        pp["single"].is_array() && !pp["single"].empty()) {
      const json& first = pp["single"][0];
      d.add_bos = first.contains("SpecialToken") &&
                  first["SpecialToken"].value("id", std::string()) == d.tokens[d.bos_id];
    }
  }
  if (config && config->is_object()) {
    if (config->contains("add_bos_token") && (*config)["add_bos_token"].is_boolean()) {
      d.add_bos = (*config)["add_bos_token"].get<bool>();
    }
    if (config->contains("chat_template") && (*config)["chat_template"].is_string()) {
      d.chat_template = (*config)["chat_template"].get<std::string>();
    }
  }
  return d;
}

json vocab_to_hf_json(const TokenizerData& d) {
  validate_tokenizer_data(d, "vocab_to_hf_json");
  json vocab = json::object();
  for (size_t id = 0; id < d.tokens.size(); ++id) {
    if (d.types[id] != TokenType::Unused) vocab[d.tokens[id]] = id;
  }
  json merges = json::array();
  for (const std::string& m : d.merges) {
    const size_t sp = m.find(' ', 1);
    merges.push_back(json::array({m.substr(0, sp), m.substr(sp + 1)}));
  }
  std::vector<bool> added_normal(d.tokens.size(), false);
  for (int32_t id : tokenizer_added_token_ids(d)) added_normal[id] = true;
  json added = json::array();
  for (size_t id = 0; id < d.tokens.size(); ++id) {
    const TokenType t = d.types[id];
    if (t != TokenType::Control && t != TokenType::UserDefined && !added_normal[id]) continue;
    added.push_back({{"id", id},
                     {"content", d.tokens[id]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", t == TokenType::Control}});
  }
  std::string unk;
  if (d.unk_id >= 0 && static_cast<size_t>(d.unk_id) < d.tokens.size()) unk = d.tokens[d.unk_id];
  json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = std::move(added);
  j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}};
  j["pre_tokenizer"] = {{"type", "Split"},
                        {"pattern", {{"String", " "}}},
                        {"behavior", "MergedWithPrevious"},
                        {"invert", false}};
  if (d.add_bos && d.bos_id >= 0) {
    const std::string& bos = d.tokens[d.bos_id];
    auto special = [&](int type_id) {
      return json{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}};
    };
    auto seq = [](const char* id, int type_id) {
      return json{{"Sequence", {{"id", id}, {"type_id", type_id}}}};
    };
    j["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single", json::array({special(0), seq("A", 0)})},
        {"pair", json::array({special(0), seq("A", 0), special(1), seq("B", 1)})},
        {"special_tokens",
         {{bos, {{"id", bos}, {"ids", json::array({d.bos_id})}, {"tokens", json::array({bos})}}}}}};
  } else {
    j["post_processor"] = nullptr;
  }
  j["decoder"] = {
      {"type", "Sequence"},
      {"decoders",
       json::array(
           {json{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
            json{{"type", "ByteFallback"}}, json{{"type", "Fuse"}}})}};
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", unk.empty() ? json(nullptr) : json(unk)},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr},
                {"fuse_unk", true},
                {"byte_fallback", true},
                {"ignore_merges", false},
                {"vocab", std::move(vocab)},
                {"merges", std::move(merges)}};
  return j;
}

}  // namespace ug
