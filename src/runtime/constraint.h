// What restricts sampling to the tokens a grammar allows (structured output). The engine calls it
// from its own thread, one object per request.
#pragma once

#include <cstdint>

namespace ug {

class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  // Sets the logits of the tokens that may not come next to -inf. logits: [vocab].
  virtual void mask(float* logits, int vocab) = 0;
  // Advances past an emitted token; false when it was not allowed (the state is unchanged).
  virtual bool accept(int32_t token) = 0;
  // Undoes the last n accepted tokens (speculative drafts checked and then rejected).
  virtual void rollback(int n) = 0;
};

}  // namespace ug
