#include "runtime/drafter.h"

#include <algorithm>
#include <limits>

#include "base/error.h"

namespace ug {

namespace {

// The assistant, once it is known to belong to the target (before a DraftStepper is made for it).
std::shared_ptr<const AssistantModel> belonging(std::shared_ptr<const AssistantModel> a,
                                                const Decoder& target) {
  const Gemma4Config& c = target.config();
  if (a->n_embd_target != c.n_embd || a->vocab_size != c.vocab_size)
    fail("the assistant ", a->source, " (width ", a->n_embd_target, ", vocabulary ", a->vocab_size,
         ") does not belong to this model (width ", c.n_embd, ", vocabulary ", c.vocab_size, ")");
  return a;
}

class AssistantDrafter : public Drafter {
 public:
  AssistantDrafter(std::shared_ptr<const AssistantModel> a, Decoder& target)
      : a_(belonging(std::move(a), target)), target_(target), stepper_(*a_, target) {}

  void draft(const std::vector<int32_t>& history, const float* h, int64_t pos, const KvCache& cache,
             int n, const std::vector<int32_t>& never, std::vector<int32_t>& drafts) override {
    const int64_t d = target_.config().n_embd;
    h_cur_.assign(h, h + d);
    int32_t t = history.back();
    drafts.clear();
    for (int k = 0; k < n; ++k) {
      stepper_.step(cache, target_.pool(), t, h_cur_.data(), pos, logits_, h_next_);
      for (int32_t s : never)
        if (s >= 0 && s < static_cast<int32_t>(logits_.size()))
          logits_[s] = -std::numeric_limits<float>::infinity();
      t = static_cast<int32_t>(std::max_element(logits_.begin(), logits_.end()) - logits_.begin());
      drafts.push_back(t);
      h_cur_.swap(h_next_);
    }
  }

 private:
  std::shared_ptr<const AssistantModel> a_;
  Decoder& target_;
  DraftStepper stepper_;  // RoPE tables and scratch, shared by every sequence's steps
  std::vector<float> logits_, h_cur_, h_next_;  // reused across calls
};

}  // namespace

DrafterFactory assistant_drafter(std::shared_ptr<const AssistantModel> assistant) {
  if (!assistant) return nullptr;
  return [assistant](Decoder& target) -> std::unique_ptr<Drafter> {
    return std::make_unique<AssistantDrafter>(assistant, target);
  };
}

}  // namespace ug
