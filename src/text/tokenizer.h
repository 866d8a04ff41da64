// Gemma's BPE tokenizer (input spec §4.3): added-token split, " " -> "▁", BPE over code points by
// merge rank, byte fallback; decoding back to text and a streaming decoder.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer_data.h"

namespace ug {

// The Normal-typed tokens that HF's tokenizer.json lists as (non-special) added tokens but GGUF
// types NORMAL: pieces BPE can never produce (two or more characters, no merge yields them, e.g.
// "<table>", "<unused5>") and runs of "\n" / "\t" / "▁▁"+. Encoding splits them out of the text
// first, as HF does; for Gemma this set equals the HF file's non-special added tokens exactly.
std::vector<int32_t> tokenizer_added_token_ids(const TokenizerData& data);

class Tokenizer {
 public:
  // Throws ug::Error when the data is inconsistent (see validate_tokenizer_data) or a merge names
  // a piece that is not in the vocabulary.
  explicit Tokenizer(TokenizerData data);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // No BOS is added here (see add_bos()). parse_special: Control tokens written in the text
  // ("<|turn>") become their ids; otherwise they are plain text. UserDefined tokens always do.
  // Any byte string is accepted: invalid UTF-8 becomes <0xXX> byte tokens.
  std::vector<int32_t> encode(std::string_view text, bool parse_special) const;

  // Concatenates the pieces ("▁" -> " ", <0xXX> -> that byte) and replaces ill-formed UTF-8 by
  // U+FFFD, so the result is always valid UTF-8. skip_special drops Control tokens.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
  // The raw bytes one token contributes to decoded text (may be part of a character).
  void append_token_bytes(std::string& out, int32_t id) const;

  const std::string& piece(int32_t id) const;      // throws on an id outside the vocabulary
  int32_t token_id(std::string_view piece) const;  // -1 if none
  TokenType type(int32_t id) const;
  bool is_control(int32_t id) const;
  int32_t vocab_size() const;
  int32_t bos_id() const;
  int32_t eos_id() const;
  int32_t pad_id() const;
  bool add_bos() const;
  const TokenizerData& data() const;
  // The most input bytes one token can stand for: the longest piece (a byte token stands for one
  // byte). Text of n bytes needs at least ceil(n / this) tokens, which bounds a prompt's length
  // before tokenizing it.
  size_t max_token_input_bytes() const;

 private:
  struct Impl;
  void bpe(std::string_view segment, std::vector<int32_t>& out) const;
  void check_id(int32_t id) const;
  std::unique_ptr<Impl> impl_;
};

// Turns ids into text one at a time, never emitting half a UTF-8 character: the bytes of an
// incomplete character are held until it completes; ill-formed bytes become U+FFFD as soon as
// they are known to be ill-formed (at the latest on flush). The concatenated output of push()...
// flush() equals Tokenizer::decode of the same ids.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false);
  std::string push(int32_t id);
  std::string flush();

 private:
  const Tokenizer* tok_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace ug
