#include "media/energy_vad.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace ug {

double EnergyVad::rms_level(double threshold) {
  return std::pow(10.0, (-60.0 + 50.0 * threshold) / 20.0);
}

EnergyVad::EnergyVad(VadOptions o) : opt_(o) {
  if (!(o.threshold >= 0 && o.threshold <= 1))
    fail("turn detection threshold ", o.threshold, " is outside 0..1");
  if (o.silence_ms < 20 || o.silence_ms > 60000)
    fail("turn detection silence_duration_ms ", o.silence_ms, " is outside 20..60000");
  const double level = rms_level(o.threshold);
  level_sq_ = level * level;
}

void EnergyVad::reset_state() {
  speaking_ = false;
  quiet_samples_ = 0;
}

std::vector<EnergyVad::Event> EnergyVad::push(const float* pcm, size_t n) {
  std::vector<Event> events;
  const uint64_t silence = static_cast<uint64_t>(opt_.silence_ms) * 16;
  for (size_t i = 0; i < n; ++i) {
    window_sum_ += static_cast<double>(pcm[i]) * pcm[i];
    ++pos_;
    if (++window_fill_ < kWindow) continue;
    const bool loud = window_sum_ / kWindow >= level_sq_;
    window_sum_ = 0;
    window_fill_ = 0;
    if (!speaking_) {
      if (loud) {
        speaking_ = true;
        quiet_samples_ = 0;
        events.push_back({true, pos_ - kWindow});
      }
    } else if (loud) {
      quiet_samples_ = 0;
    } else if ((quiet_samples_ += kWindow) >= silence) {
      speaking_ = false;
      quiet_samples_ = 0;
      events.push_back({false, pos_});
    }
  }
  return events;
}

}  // namespace ug
