#include "media/resampler.h"

#include <soxr.h>

#include <cmath>

#include "base/error.h"
#include "media/audio.h"

namespace ug {

Resampler16k::Resampler16k(double in_rate, std::string name)
    : in_rate_(in_rate), name_(std::move(name)) {
  if (!(in_rate >= 1.0 && in_rate <= 1'000'000.0)) {
    fail("audio '", name_, "': sample rate ", in_rate, " Hz is not usable (expected 1..1000000)");
  }
  if (in_rate_ == kAudioSampleRate) return;  // pass-through
  soxr_error_t err = nullptr;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  // HQ is librosa's default resampler ("soxr_hq"), which the reference loader uses.
  const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  soxr_ = soxr_create(in_rate_, kAudioSampleRate, 1, &err, &io, &q, nullptr);
  if (err || !soxr_) fail("audio '", name_, "': resampler setup failed (", err ? err : "?", ")");
}

Resampler16k::~Resampler16k() {
  if (soxr_) soxr_delete(static_cast<soxr_t>(soxr_));
}

void Resampler16k::push(const float* in, size_t n, std::vector<float>& out) {
  total_in_ += n;
  if (!soxr_) {
    out.insert(out.end(), in, in + n);
    return;
  }
  const size_t room = size_t(std::ceil(double(n) * kAudioSampleRate / in_rate_)) + 64;
  const size_t old = out.size();
  out.resize(old + room);
  size_t idone = 0, odone = 0;
  soxr_error_t err =
      soxr_process(static_cast<soxr_t>(soxr_), in, n, &idone, out.data() + old, room, &odone);
  if (err) fail("audio '", name_, "': resampling failed (", err, ")");
  out.resize(old + odone);
  if (idone != n) {  // soxr buffers internally and should always take everything
    fail("audio '", name_, "': resampler consumed ", idone, " of ", n, " samples");
  }
}

void Resampler16k::finish(std::vector<float>& out) {
  const uint64_t want =
      (total_in_ * uint64_t(kAudioSampleRate) + uint64_t(in_rate_) - 1) / uint64_t(in_rate_);
  if (soxr_) {
    // Drain the filter's delay line: pass a null input until it yields nothing more.
    for (int guard = 0; guard < 64; ++guard) {
      const size_t old = out.size();
      out.resize(old + 4096);
      size_t odone = 0;
      soxr_error_t err = soxr_process(static_cast<soxr_t>(soxr_), nullptr, 0, nullptr,
                                      out.data() + old, 4096, &odone);
      out.resize(old + odone);
      if (err) fail("audio '", name_, "': resampling failed (", err, ")");
      if (odone == 0) break;
    }
  }
  // librosa fixes the length to ceil(L * 16000 / rate) (zero-padding or cutting).
  out.resize(size_t(want), 0.0f);
}

}  // namespace ug
