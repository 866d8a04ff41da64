// Energy-based voice activity detection over the 16 kHz waveform, for turn detection in live
// audio (the server's /v1/realtime "server_vad"): 20 ms windows whose RMS level is above a
// threshold count as speech; speech starts at the first such window and stops once
// silence_ms of windows below it have followed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ug {

struct VadOptions {
  // 0..1 as OpenAI's server_vad; energy-based here: a window is speech when its RMS level is
  // above -60 dBFS + threshold * 50 dB (0.5: -35 dBFS, about 0.018 of full scale).
  double threshold = 0.5;
  int silence_ms = 500;  // quiet this long ends speech
};

class EnergyVad {
 public:
  static constexpr int kWindow = 320;  // 20 ms at 16 kHz

  explicit EnergyVad(VadOptions options);

  struct Event {
    bool start = true;  // speech started (else stopped)
    uint64_t sample;    // where, counted from the first sample pushed (or reset)
  };
  // Feeds samples; returns the starts and stops they complete, in order. A start is placed at the
  // first loud window, a stop at the end of the silence that ended the speech.
  std::vector<Event> push(const float* pcm, size_t n);

  bool speaking() const { return speaking_; }
  uint64_t position() const { return pos_; }
  // Forgets any speech in progress; positions go on counting.
  void reset_state();

  // The RMS level (fraction of full scale) that counts as speech for a threshold.
  static double rms_level(double threshold);

 private:
  VadOptions opt_;
  double level_sq_;
  double window_sum_ = 0;  // sum of squares of the window being filled
  int window_fill_ = 0;
  uint64_t pos_ = 0;  // samples consumed
  bool speaking_ = false;
  uint64_t quiet_samples_ = 0;  // consecutive quiet samples while speaking
};

}  // namespace ug
