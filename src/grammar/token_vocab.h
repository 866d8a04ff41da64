// The vocabulary as constrained decoding sees it: each token's text bytes, whether it is text,
// a special (marker) token, an end-of-generation token or never produced, and a byte trie of the
// text tokens that mask computation walks. Built once per model and shared by every grammar.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ug {

class Tokenizer;

enum class TokenKind : uint8_t {
  Text,     // matched by grammar text through its bytes
  Special,  // a marker (<|turn>, <|tool_call>, <|"|>...): matched only by token syntax <[id]>
  End,      // ends generation; allowed only where the grammar may end
  Never,    // unused slots and empty pieces: never allowed
};

// Text tokens sorted by bytes, as a prefix tree stored in depth-first order: node i stands for
// the byte string of its path; its subtree is nodes i+1 .. end[i]-1. Walking nodes in index order
// and jumping to end[i] prunes a dead prefix. The tokens whose bytes end at node i are
// ids[first[i] .. first[i+1]) (several ids may share bytes, e.g. "A" and <0x41>).
struct TokenTrie {
  std::vector<uint8_t> byte;    // [nodes] the last byte of the node's path
  std::vector<uint16_t> depth;  // [nodes] path length, >= 1
  std::vector<int32_t> end;     // [nodes]
  std::vector<int32_t> first;   // [nodes + 1]
  std::vector<int32_t> ids;     // [text tokens]
  int32_t nodes() const { return static_cast<int32_t>(byte.size()); }
  int max_depth = 0;
};

class TokenVocab {
 public:
  // bytes[id]: what the token adds to the output text. Kinds as given; ids in end_ids become End.
  // names[id] (may be empty) lets grammars name special tokens as <|turn>.
  TokenVocab(std::vector<std::string> bytes, std::vector<TokenKind> kinds,
             std::vector<int32_t> end_ids, std::vector<std::string> names = {});

  // Normal and Byte tokens are Text; Control tokens, and UserDefined tokens written like chat
  // markers (<|...> or <...|>), are Special; Unused/Unknown types and empty pieces are Never.
  // end_ids empty: <eos>, <turn|> and <|tool_response> where the vocabulary has them (the
  // model's stop tokens, input spec §7.4).
  static std::shared_ptr<const TokenVocab> from_tokenizer(const Tokenizer& tokenizer,
                                                          std::vector<int32_t> end_ids = {});

  int32_t size() const { return static_cast<int32_t>(kinds_.size()); }
  // Words of a token bitmask: bit (id % 64) of word id / 64.
  int32_t mask_words() const { return (size() + 63) / 64; }
  std::string_view bytes(int32_t id) const;
  TokenKind kind(int32_t id) const { return kinds_[static_cast<size_t>(id)]; }
  const std::vector<int32_t>& end_ids() const { return end_ids_; }
  // The id of the token named `name` ("<|tool_call>"), -1 if none.
  int32_t find_name(std::string_view name) const;
  const std::string& name(int32_t id) const;
  const TokenTrie& trie() const { return trie_; }
  // The longest text token, in bytes.
  int max_token_bytes() const { return trie_.max_depth; }

  // Token tables of grammar states, shared by every grammar compiled against this vocabulary
  // (defined and filled in compiled_grammar.cpp; thread-safe there).
  struct GrammarCache;
  GrammarCache& grammar_cache() const;

 private:
  std::vector<std::string> bytes_;
  std::vector<TokenKind> kinds_;
  std::vector<int32_t> end_ids_;
  std::vector<std::string> names_;
  TokenTrie trie_;
  mutable std::once_flag cache_once_;
  mutable std::shared_ptr<GrammarCache> cache_;
};

}  // namespace ug
