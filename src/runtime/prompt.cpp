#include "runtime/prompt.h"

#include "base/error.h"

namespace ug {

void Prompt::append(const Prompt& more) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (!more.soft.empty() || !soft.empty()) {
    soft.resize(tokens.size());  // rows without a soft embedding keep an empty vector
    soft.insert(soft.end(), more.soft.begin(), more.soft.end());
    soft.resize(tokens.size() + more.tokens.size());
  }
  tokens.insert(tokens.end(), more.tokens.begin(), more.tokens.end());
  for (const auto& [b, e] : more.bidirectional) bidirectional.emplace_back(b + n, e + n);
}

Prompt Prompt::slice(int64_t begin, int64_t end) const {
  if (begin < 0 || end < begin || end > static_cast<int64_t>(tokens.size()))
    fail("prompt rows [", begin, ", ", end, ") are outside a prompt of ", tokens.size(), " rows");
  Prompt p;
  p.tokens.assign(tokens.begin() + begin, tokens.begin() + end);
  if (!soft.empty()) p.soft.assign(soft.begin() + begin, soft.begin() + end);
  for (const auto& [b, e] : bidirectional)
    if (b >= begin && e <= end) p.bidirectional.emplace_back(b - begin, e - begin);
  return p;
}

}  // namespace ug
