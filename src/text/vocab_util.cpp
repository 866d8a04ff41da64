#include "text/vocab_util.h"

#include "base/error.h"

namespace ug {

int byte_piece_value(std::string_view p) {
  if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>') return -1;
  int v = 0;
  for (char c : p.substr(3, 2)) {
    if (c >= '0' && c <= '9') {
      v = v * 16 + (c - '0');
    } else if (c >= 'A' && c <= 'F') {
      v = v * 16 + (c - 'A' + 10);
    } else {
      return -1;
    }
  }
  return v;
}

void validate_tokenizer_data(const TokenizerData& d, const std::string& what) {
  const size_t n = d.tokens.size();
  if (n == 0) fail(what, ": the vocabulary is empty");
  if (d.types.size() != n) {
    fail(what, ": ", n, " tokens but ", d.types.size(),
         " token types; expected one type per token");
  }
  if (!d.scores.empty() && d.scores.size() != n) {
    fail(what, ": ", n, " tokens but ", d.scores.size(), " scores; expected one score per token");
  }
  for (size_t i = 0; i < n; ++i) {
    const auto t = static_cast<int32_t>(d.types[i]);
    if (t < 0 || t > static_cast<int32_t>(TokenType::Byte)) {
      fail(what, ": token ", i, " (\"", d.tokens[i], "\") has type ", t, ", expected 0..6");
    }
  }
  const std::pair<const char*, int32_t> ids[] = {{"bos", d.bos_id},
                                                 {"eos", d.eos_id},
                                                 {"pad", d.pad_id},
                                                 {"unk", d.unk_id},
                                                 {"mask", d.mask_id}};
  for (const auto& [name, id] : ids) {
    if (id < -1 || id >= static_cast<int64_t>(n)) {
      fail(what, ": ", name, " token id ", id, " is outside the vocabulary of ", n, " tokens");
    }
  }
  for (size_t i = 0; i < d.merges.size(); ++i) {
    const std::string& m = d.merges[i];
    const size_t sp = m.size() < 3 ? std::string::npos : m.find(' ', 1);
    if (sp == std::string::npos || sp + 1 >= m.size()) {
      fail(what, ": merge ", i, " \"", m, "\" is not \"left right\"");
    }
  }
}

}  // namespace ug
