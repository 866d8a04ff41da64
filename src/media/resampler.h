// Streaming conversion of mono float audio at any rate to 16 kHz (libsoxr, high quality).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ug {

class Resampler16k {
 public:
  // name is the input named in errors; in_rate in Hz.
  Resampler16k(double in_rate, std::string name);
  ~Resampler16k();
  Resampler16k(const Resampler16k&) = delete;
  Resampler16k& operator=(const Resampler16k&) = delete;

  // Appends the 16 kHz output for n more input samples to out.
  void push(const float* in, size_t n, std::vector<float>& out);
  // Flushes the filter and sets out to exactly ceil(total_in * 16000 / in_rate) samples, the
  // length librosa gives.
  void finish(std::vector<float>& out);
  uint64_t samples_in() const { return total_in_; }

 private:
  double in_rate_;
  std::string name_;
  void* soxr_ = nullptr;  // soxr_t, kept out of this header
  uint64_t total_in_ = 0;
};

}  // namespace ug
