#include "text/vocab_gemma4.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "formats/json_parse.h"
#include "text/vocab_hf.h"
#include "text/vocab_util.h"

namespace ug {

const std::vector<Gemma4SpecialSlot>& gemma4_renamed_slots() {
  static const std::vector<Gemma4SpecialSlot> kSlots = {
      {46, "<unused40>", "<|tool>", TokenType::Control},
      {47, "<unused41>", "<tool|>", TokenType::Control},
      {48, "<unused42>", "<|tool_call>", TokenType::UserDefined},
      {49, "<unused43>", "<tool_call|>", TokenType::UserDefined},
      {50, "<unused44>", "<|tool_response>", TokenType::UserDefined},
      {51, "<unused45>", "<tool_response|>", TokenType::UserDefined},
      {52, "<unused46>", "<|\"|>", TokenType::UserDefined},
      {98, "<unused92>", "<|think|>", TokenType::Control},
      {100, "<unused94>", "<|channel>", TokenType::UserDefined},
      {101, "<unused95>", "<channel|>", TokenType::UserDefined},
      {105, "<start_of_turn>", "<|turn>", TokenType::Control},
      {106, "<end_of_turn>", "<turn|>", TokenType::Control},
      {255999, "<start_of_image>", "<|image>", TokenType::Control},
      {256000, "<end_of_image>", "<|audio>", TokenType::Control},
      {258880, "<unused2978>", "<|image|>", TokenType::Control},
      {258881, "<unused2979>", "<|audio|>", TokenType::Control},
      {258882, "<unused2980>", "<image|>", TokenType::Control},
      {258883, "<unused2981>", "<audio|>", TokenType::Control},
      {258884, "<unused2982>", "<|video|>", TokenType::Control},
  };
  return kSlots;
}

TokenizerData gemma4_vocab_from_npm(const std::string& path) {
  const nlohmann::json tj = read_json_file(path);
  TokenizerData d = vocab_from_hf_json(tj, nullptr, path);
  if (d.tokens.size() < static_cast<size_t>(kGemma4VocabSize)) {
    fail(path, ": ", d.tokens.size(), " tokens, expected at least ", kGemma4VocabSize);
  }
  // Gemma 3's <image_soft_token> (and anything after it) has no Gemma 4 slot.
  d.tokens.resize(kGemma4VocabSize);
  d.types.resize(kGemma4VocabSize);
  for (size_t id = 0; id < d.tokens.size(); ++id) {
    d.types[id] = is_byte_piece(d.tokens[id]) ? TokenType::Byte : TokenType::Normal;
  }
  const char* kBase[] = {"<pad>", "<eos>", "<bos>", "<unk>", "<mask>"};
  for (int32_t id = 0; id < 5; ++id) {
    if (d.tokens[id] != kBase[id]) {
      fail(path, ": token ", id, " is \"", d.tokens[id], "\", expected \"", kBase[id], "\"");
    }
    d.types[id] = TokenType::Control;
  }
  for (const Gemma4SpecialSlot& s : gemma4_renamed_slots()) {
    if (d.tokens[s.id] != s.gemma3) {
      fail(path, ": slot ", s.id, " is \"", d.tokens[s.id], "\", expected Gemma 3's \"", s.gemma3,
           "\"");
    }
    d.tokens[s.id] = s.gemma4;
    d.types[s.id] = s.type;
  }
  d.scores.clear();
  d.pad_id = 0, d.eos_id = 1, d.bos_id = 2, d.unk_id = 3, d.mask_id = 4;
  d.add_bos = true;
  d.chat_template.clear();
  validate_tokenizer_data(d, path);
  return d;
}

std::vector<std::string> vocab_differences(const TokenizerData& a, const TokenizerData& b,
                                           size_t max_lines) {
  std::vector<std::string> out;
  auto add = [&](auto&&... parts) {
    if (out.size() >= max_lines) return;
    std::ostringstream s;
    (s << ... << parts);
    out.push_back(s.str());
  };
  if (a.tokens.size() != b.tokens.size())
    add("token count ", a.tokens.size(), " vs ", b.tokens.size());
  const size_t n = std::min(a.tokens.size(), b.tokens.size());
  for (size_t i = 0; i < n; ++i) {
    if (a.tokens[i] != b.tokens[i])
      add("token ", i, ": \"", a.tokens[i], "\" vs \"", b.tokens[i], "\"");
    if (i < a.types.size() && i < b.types.size() && a.types[i] != b.types[i]) {
      add("type of ", i, " (\"", a.tokens[i], "\"): ", static_cast<int>(a.types[i]), " vs ",
          static_cast<int>(b.types[i]));
    }
  }
  if (a.merges.size() != b.merges.size())
    add("merge count ", a.merges.size(), " vs ", b.merges.size());
  for (size_t i = 0; i < std::min(a.merges.size(), b.merges.size()); ++i) {
    if (a.merges[i] != b.merges[i])
      add("merge ", i, ": \"", a.merges[i], "\" vs \"", b.merges[i], "\"");
  }
  const std::tuple<const char*, int32_t, int32_t> ids[] = {{"bos", a.bos_id, b.bos_id},
                                                           {"eos", a.eos_id, b.eos_id},
                                                           {"pad", a.pad_id, b.pad_id},
                                                           {"unk", a.unk_id, b.unk_id},
                                                           {"mask", a.mask_id, b.mask_id}};
  for (const auto& [name, x, y] : ids) {
    if (x != y) add(name, " id ", x, " vs ", y);
  }
  if (a.add_bos != b.add_bos) add("add_bos ", a.add_bos, " vs ", b.add_bos);
  return out;
}

}  // namespace ug
