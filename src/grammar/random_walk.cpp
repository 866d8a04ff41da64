#include "grammar/random_walk.h"

#include <algorithm>
#include <vector>

#include "base/error.h"
#include "grammar/matcher.h"

namespace ug {

RandomWalk random_walk(const std::shared_ptr<const CompiledGrammar>& grammar, std::mt19937_64& rng,
                       int max_tokens,
                       const std::function<void(const std::function<void()>&)>& mask_timer) {
  const TokenVocab& v = grammar->vocab();
  GrammarMatcher m(grammar);
  std::vector<uint64_t> bits(static_cast<size_t>(v.mask_words()));
  std::vector<uint32_t> prefix(bits.size() + 1);  // set bits before each word
  const std::function<void()> fill = [&] { m.fill_mask(bits.data()); };
  RandomWalk s;
  for (int step = 0; step < max_tokens; ++step) {
    if (mask_timer)
      mask_timer(fill);
    else
      fill();
    uint32_t total = 0;
    for (size_t w = 0; w < bits.size(); ++w) {
      prefix[w] = total;
      total += static_cast<uint32_t>(__builtin_popcountll(bits[w]));
    }
    if (total == 0) fail("grammar: empty mask after ", s.tokens, " tokens (a bug)");
    const uint32_t k = static_cast<uint32_t>(rng() % total);
    const size_t w = static_cast<size_t>(
        std::upper_bound(prefix.begin(), prefix.begin() + static_cast<long>(bits.size()), k) -
        prefix.begin() - 1);
    uint64_t x = bits[w];
    for (uint32_t skip = k - prefix[w]; skip > 0; --skip) x &= x - 1;  // drop lower set bits
    const int32_t token = static_cast<int32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(x)));
    if (!m.accept(token)) fail("grammar: token ", token, " of the mask was refused (a bug)");
    if (v.kind(token) == TokenKind::End) {
      s.finished = true;
      break;
    }
    s.text += v.bytes(token);
    ++s.tokens;
  }
  return s;
}

}  // namespace ug
