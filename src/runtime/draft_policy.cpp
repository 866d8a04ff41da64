#include "runtime/draft_policy.h"

#include <algorithm>
#include <cmath>

namespace ug {

namespace {
constexpr double kSmooth = 0.2;      // weight of a new timing
constexpr double kRowCost = 0.03;    // prior: an extra row costs 3 % of a one-row pass
constexpr double kDecay = 0.95;      // acceptance memory: about the last 20 verifications
constexpr double kMinGain = 1.03;    // draft only when it is expected to win at least 3 %
constexpr int kMaxProbeEvery = 128;  // a useless drafter costs one probe in 128 steps
}  // namespace

void DraftCosts::observe_pass(int rows, double seconds) {
  if (rows < 1 || rows > kMaxRows || !(seconds > 0)) return;
  double& p = pass_[rows];
  p = p == 0 ? seconds : (1 - kSmooth) * p + kSmooth * seconds;
}

void DraftCosts::observe_draft(double seconds_per_token) {
  if (!(seconds_per_token > 0)) return;
  draft_ = draft_ == 0 ? seconds_per_token : (1 - kSmooth) * draft_ + kSmooth * seconds_per_token;
}

double DraftCosts::pass(int rows) const {
  rows = std::clamp(rows, 1, kMaxRows);
  if (pass_[rows] > 0) return pass_[rows];
  for (int r = rows - 1; r >= 1; --r)
    if (pass_[r] > 0) return pass_[r] * (1 + kRowCost * (rows - 1)) / (1 + kRowCost * (r - 1));
  for (int r = rows + 1; r <= kMaxRows; ++r)
    if (pass_[r] > 0) return pass_[r] * (1 + kRowCost * (rows - 1)) / (1 + kRowCost * (r - 1));
  return 1 + kRowCost * (rows - 1);  // nothing measured: relative units
}

double DraftCosts::draft() const { return draft_ > 0 ? draft_ : 0.05 * pass(1); }

int DraftPolicy::choose(const DraftCosts& costs, int other_rows) {
  if (max_ <= 0) return 0;
  const double a = acceptance();
  const double base = costs.pass(other_rows + 1);
  int best = 0;
  double best_rate = kMinGain;  // tokens per unit of plain-step time; plain decoding gives 1
  double expect = 1, ak = 1;    // expected tokens from k drafts: 1 + a + a² + ... + a^k
  for (int k = 1; k <= max_; ++k) {
    ak *= a;
    expect += ak;
    const double cost = (costs.pass(other_rows + 1 + k) + k * costs.draft()) / base;
    if (expect / cost > best_rate) {
      best_rate = expect / cost;
      best = k;
    }
  }
  if (best > 0) {
    since_probe_ = 0;
    return best;
  }
  // Not worth it on what we know; look again now and then with the cheapest draft.
  if (++since_probe_ >= probe_every_) {
    since_probe_ = 0;
    return 1;
  }
  return 0;
}

void DraftPolicy::observe(int drafted, int accepted) {
  if (drafted <= 0) return;
  // Each accepted token is a success; the first rejected one (if any) a failure; the drafts after
  // it were never examined.
  const int examined = std::min(drafted, accepted + 1);
  hits_ = kDecay * hits_ + accepted;
  trials_ = kDecay * trials_ + examined;
  if (accepted > 0)
    probe_every_ = 8;
  else
    probe_every_ = std::min(kMaxProbeEvery, probe_every_ * 2);
}

}  // namespace ug
