// Video decoding (FFmpeg demuxers and decoders): sampled frames and the sound track.
#include "media/video.h"

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ug::fuzz::refusals_allowed([&] {
    ug::VideoOptions o;
    o.max_frames = 4;
    o.want_audio = true;
    o.max_pixels = 1 << 20;
    o.max_audio_seconds = 60;
    const ug::VideoFrames v = ug::decode_video(data, size, "fuzz", o);
    if (v.frames.empty() || v.frames.size() != v.timestamps.size()) __builtin_trap();
    for (const ug::Image& f : v.frames)
      if (f.rgb.size() != static_cast<size_t>(f.width) * f.height * 3) __builtin_trap();
  });
  return 0;
}
