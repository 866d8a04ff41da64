// A prompt as the decoder consumes it: token ids, multimodal soft-token rows, image blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ug {

// A prompt as rows: token ids, and for multimodal soft tokens the embedding that replaces the
// placeholder's (input spec §5).
struct Prompt {
  std::vector<int32_t> tokens;
  std::vector<std::vector<float>> soft;  // empty, or one per row (empty vector = use the token)
  std::vector<std::pair<int64_t, int64_t>> bidirectional;  // [begin, end) image/video blocks

  size_t size() const { return tokens.size(); }
  // Appends `more` (its blocks shifted by the rows already here).
  void append(const Prompt& more);
  // Rows [begin, end) as a prompt of their own (blocks inside the range kept, shifted).
  Prompt slice(int64_t begin, int64_t end) const;
};

}  // namespace ug
