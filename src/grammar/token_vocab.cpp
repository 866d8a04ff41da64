#include "grammar/token_vocab.h"

#include <algorithm>
#include <numeric>

#include "base/error.h"
#include "text/tokenizer.h"

namespace ug {
namespace {

TokenTrie build_trie(const std::vector<std::string>& bytes, const std::vector<TokenKind>& kinds) {
  std::vector<int32_t> order;
  for (size_t id = 0; id < kinds.size(); ++id) {
    if (kinds[id] == TokenKind::Text) order.push_back(static_cast<int32_t>(id));
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return bytes[a] < bytes[b]; });
  TokenTrie t;
  std::vector<int32_t> open;  // node index per depth - 1 along the current path
  std::string_view prev;
  for (int32_t id : order) {
    const std::string_view s = bytes[id];
    if (s.size() > 0xFFFF) fail("token ", id, " has ", s.size(), " bytes, more than 65535");
    size_t common = 0;
    while (common < prev.size() && common < s.size() && prev[common] == s[common]) ++common;
    // Close the nodes of the previous path below the common prefix.
    while (open.size() > common) {
      t.end[open.back()] = t.nodes();
      open.pop_back();
    }
    for (size_t d = common; d < s.size(); ++d) {
      open.push_back(t.nodes());
      t.byte.push_back(static_cast<uint8_t>(s[d]));
      t.depth.push_back(static_cast<uint16_t>(d + 1));
      t.end.push_back(0);
      t.first.push_back(static_cast<int32_t>(t.ids.size()));
    }
    // Same bytes as the previous token: it ends at the same node (first[] already set).
    t.ids.push_back(id);
    t.max_depth = std::max(t.max_depth, static_cast<int>(s.size()));
    prev = s;
  }
  while (!open.empty()) {
    t.end[open.back()] = t.nodes();
    open.pop_back();
  }
  // first[i] was set when node i was created, i.e. before its own tokens were added; a node with
  // no token of its own has first[i] == first[i + 1].
  t.first.push_back(static_cast<int32_t>(t.ids.size()));
  return t;
}

bool looks_like_marker(std::string_view piece) {
  return piece.size() > 2 && (piece.starts_with("<|") || piece.ends_with("|>"));
}

}  // namespace

TokenVocab::TokenVocab(std::vector<std::string> bytes, std::vector<TokenKind> kinds,
                       std::vector<int32_t> end_ids, std::vector<std::string> names)
    : bytes_(std::move(bytes)), kinds_(std::move(kinds)), names_(std::move(names)) {
  if (bytes_.size() != kinds_.size()) {
    fail("token vocabulary: ", bytes_.size(), " byte strings for ", kinds_.size(), " kinds");
  }
  if (!names_.empty() && names_.size() != kinds_.size()) {
    fail("token vocabulary: ", names_.size(), " names for ", kinds_.size(), " tokens");
  }
  names_.resize(kinds_.size());
  for (int32_t id : end_ids) {
    if (id < 0 || id >= size()) fail("token vocabulary: end token ", id, " is out of range");
    kinds_[static_cast<size_t>(id)] = TokenKind::End;
  }
  for (size_t id = 0; id < kinds_.size(); ++id) {
    if (kinds_[id] == TokenKind::Text && bytes_[id].empty()) kinds_[id] = TokenKind::Never;
    if (kinds_[id] == TokenKind::End) end_ids_.push_back(static_cast<int32_t>(id));
  }
  trie_ = build_trie(bytes_, kinds_);
}

std::shared_ptr<const TokenVocab> TokenVocab::from_tokenizer(const Tokenizer& tok,
                                                             std::vector<int32_t> end_ids) {
  const int32_t n = tok.vocab_size();
  std::vector<std::string> bytes(static_cast<size_t>(n));
  std::vector<TokenKind> kinds(static_cast<size_t>(n), TokenKind::Text);
  std::vector<std::string> names(static_cast<size_t>(n));
  for (int32_t id = 0; id < n; ++id) {
    tok.append_token_bytes(bytes[id], id);
    names[id] = tok.piece(id);
    switch (tok.type(id)) {
      case TokenType::Normal:
      case TokenType::Byte:
        break;
      case TokenType::Control:
        kinds[id] = TokenKind::Special;
        break;
      case TokenType::UserDefined:
        if (looks_like_marker(names[id])) kinds[id] = TokenKind::Special;
        break;
      default:
        kinds[id] = TokenKind::Never;
    }
  }
  if (end_ids.empty()) {
    for (const char* stop : {"<eos>", "<turn|>", "<|tool_response>"}) {
      const int32_t id = tok.token_id(stop);
      if (id >= 0) end_ids.push_back(id);
    }
    if (end_ids.empty() && tok.eos_id() >= 0) end_ids.push_back(tok.eos_id());
  }
  return std::make_shared<const TokenVocab>(std::move(bytes), std::move(kinds), std::move(end_ids),
                                            std::move(names));
}

std::string_view TokenVocab::bytes(int32_t id) const {
  if (id < 0 || id >= size()) fail("token id ", id, " is outside the vocabulary (", size(), ")");
  return bytes_[static_cast<size_t>(id)];
}

int32_t TokenVocab::find_name(std::string_view name) const {
  for (size_t id = 0; id < names_.size(); ++id) {
    if (names_[id] == name) return static_cast<int32_t>(id);
  }
  return -1;
}

const std::string& TokenVocab::name(int32_t id) const {
  if (id < 0 || id >= size()) fail("token id ", id, " is outside the vocabulary (", size(), ")");
  return names_[static_cast<size_t>(id)];
}

}  // namespace ug
