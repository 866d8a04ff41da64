// How many tokens to draft for one sequence in the next step. Drafting pays when the tokens it
// is expected to win outweigh what it costs: a verification pass of k+1 rows instead of 1, plus
// k drafter steps. Both sides are measured while serving, so a drafter that is rarely right is
// switched off by itself (and re-tried now and then, in case the text becomes predictable).
#pragma once

#include <array>
#include <cstdint>

namespace ug {

// Engine-wide measured costs (seconds), smoothed.
class DraftCosts {
 public:
  static constexpr int kMaxRows = 64;
  // A pass of decode rows only (no prefill), `rows` rows in all.
  void observe_pass(int rows, double seconds);
  void observe_draft(double seconds_per_token);
  // Predicted time of a pass of `rows` decode rows: measured, else scaled from the nearest
  // measured smaller pass assuming a bandwidth-bound step (extra rows cost 3 % each).
  double pass(int rows) const;
  double draft() const;  // per draft token; before any measurement 5 % of a one-row pass

 private:
  std::array<double, kMaxRows + 1> pass_{};  // 0: not measured
  double draft_ = 0;
};

class DraftPolicy {
 public:
  explicit DraftPolicy(int max_draft = 0) : max_(max_draft) {}

  // Draft tokens for the next step (0: decode plainly). other_rows: decode rows the other
  // sequences put into the same pass.
  int choose(const DraftCosts& costs, int other_rows);
  // A verification pass kept `accepted` of `drafted` tokens.
  void observe(int drafted, int accepted);

  // The estimated chance that the next draft token is accepted given the previous one was.
  double acceptance() const { return (hits_ + 0.5) / (trials_ + 1.0); }
  int max_draft() const { return max_; }

 private:
  int max_;
  double hits_ = 0, trials_ = 0;  // decayed counts of accepted and examined draft tokens
  int since_probe_ = 0;
  int probe_every_ = 8;  // grows while probes fail
};

}  // namespace ug
