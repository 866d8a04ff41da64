// Audio decoding (WAV, FLAC, Ogg Vorbis/Opus, MP3) and resampling to 16 kHz.
#include "media/audio.h"

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ug::fuzz::refusals_allowed([&] {
    const std::vector<float> pcm = ug::decode_audio(data, size, "fuzz", 60);
    if (pcm.empty()) __builtin_trap();  // empty sound is refused, never returned
    ug::audio_frames(pcm);
  });
  return 0;
}
