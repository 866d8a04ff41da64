#include "text/vocab_gguf.h"

#include "base/error.h"
#include "text/vocab_util.h"

namespace ug {
namespace {

const GgufValue& array_of(const GgufFile& f, const std::string& key, GgufType elem) {
  const GgufValue& v = f.get(key);
  if (v.type != GgufType::ARRAY) {
    fail(f.path(), ": ", key, " is ", gguf_type_name(v.type), ", expected an array of ",
         gguf_type_name(elem));
  }
  if (v.elem_type != elem) {
    fail(f.path(), ": ", key, " is an array of ", gguf_type_name(v.elem_type), ", expected ",
         gguf_type_name(elem));
  }
  return v;
}

}  // namespace

TokenizerData vocab_from_gguf(const GgufFile& f) {
  const std::string where = f.path();
  if (!f.find("tokenizer.ggml.tokens"))
    fail(where, ": no tokenizer (tokenizer.ggml.tokens missing)");
  std::string model = "gemma4";
  if (const GgufValue* m = f.find("tokenizer.ggml.model"))
    model = m->as_string("tokenizer.ggml.model");

  TokenizerData d;
  const GgufValue& tokens = array_of(f, "tokenizer.ggml.tokens", GgufType::STRING);
  const size_t n = tokens.arr.size();
  d.tokens.reserve(n);
  for (const GgufValue& t : tokens.arr) d.tokens.push_back(t.s);

  if (f.find("tokenizer.ggml.scores")) {
    const GgufValue& s = array_of(f, "tokenizer.ggml.scores", GgufType::F32);
    if (s.arr.size() != n) {
      fail(where, ": tokenizer.ggml.scores has ", s.arr.size(), " entries, expected ", n);
    }
    d.scores.reserve(n);
    for (const GgufValue& x : s.arr) d.scores.push_back(static_cast<float>(x.f));
  }
  if (f.find("tokenizer.ggml.token_type")) {
    const GgufValue& t = f.get("tokenizer.ggml.token_type");
    if (t.type != GgufType::ARRAY || (!t.arr.empty() && !t.arr[0].is_integer())) {
      fail(where, ": tokenizer.ggml.token_type must be an integer array");
    }
    if (t.arr.size() != n) {
      fail(where, ": tokenizer.ggml.token_type has ", t.arr.size(), " entries, expected ", n);
    }
    d.types.reserve(n);
    for (const GgufValue& x : t.arr) {
      d.types.push_back(static_cast<TokenType>(x.as_int("tokenizer.ggml.token_type")));
    }
  } else {
    d.types.assign(n, TokenType::Normal);
  }
  if (!f.find("tokenizer.ggml.merges")) {
    fail(where, ": tokenizer.ggml.merges missing (tokenizer.ggml.model = \"", model,
         "\"); only BPE vocabularies with merges are supported");
  }
  const GgufValue& merges = array_of(f, "tokenizer.ggml.merges", GgufType::STRING);
  d.merges.reserve(merges.arr.size());
  for (const GgufValue& m : merges.arr) d.merges.push_back(m.s);

  const std::pair<const char*, int32_t*> ids[] = {{"tokenizer.ggml.bos_token_id", &d.bos_id},
                                                  {"tokenizer.ggml.eos_token_id", &d.eos_id},
                                                  {"tokenizer.ggml.padding_token_id", &d.pad_id},
                                                  {"tokenizer.ggml.unknown_token_id", &d.unk_id},
                                                  {"tokenizer.ggml.mask_token_id", &d.mask_id}};
  for (const auto& [key, dst] : ids) {
    if (const GgufValue* v = f.find(key)) {
      const int64_t id = v->as_int(key);
      if (id < 0 || id >= static_cast<int64_t>(n)) {
        fail(where, ": ", key, " = ", id, " is outside the vocabulary of ", n, " tokens");
      }
      *dst = static_cast<int32_t>(id);
    }
  }
  if (const GgufValue* v = f.find("tokenizer.ggml.add_bos_token")) {
    d.add_bos = v->as_bool("tokenizer.ggml.add_bos_token");
  }
  if (const GgufValue* v = f.find("tokenizer.chat_template")) {
    d.chat_template = v->as_string("tokenizer.chat_template");
  }
  validate_tokenizer_data(d, where);
  return d;
}

}  // namespace ug
