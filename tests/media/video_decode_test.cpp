// Input spec §3: FFmpeg-made clips (testsrc + 440 Hz sine) in MP4 and WebM decode to uniformly
// sampled frames int(i*T/32) with timestamps idx/fps that match FFmpeg's own frames, and a
// 16 kHz mono sound track of the clip's length.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "base/error.h"
#include "media/video.h"
#include "media_test_util.h"

namespace ug {
namespace {

using test::sh;
using test::tmp;

const char* const kLavfi =
    "ffmpeg -y -loglevel error -f lavfi -i testsrc=duration=3:size=320x240:rate=25 -f lavfi -i "
    "sine=frequency=440:duration=3:sample_rate=44100 ";

class VideoDecode : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(sh(std::string(kLavfi) +
                 "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest clip.mp4"),
              0);
    ASSERT_EQ(sh(std::string(kLavfi) +
                 "-c:v libvpx -deadline realtime -cpu-used 8 -b:v 1M -c:a libopus -shortest "
                 "clip.webm"),
              0);
    ASSERT_EQ(sh("ffmpeg -y -loglevel error -f lavfi -i testsrc=duration=0.4:size=96x64:rate=25 "
                 "-c:v libx264 -preset ultrafast -pix_fmt yuv420p short.mp4"),
              0);
  }
};

double mean_abs_diff(const Image& a, const Image& b) {
  if (a.rgb.size() != b.rgb.size() || a.rgb.empty()) return 1e9;
  double s = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) s += std::abs(int(a.rgb[i]) - int(b.rgb[i]));
  return s / double(a.rgb.size());
}

TEST(VideoSampling, UniformIndices) {
  const std::vector<int64_t> idx = sample_frame_indices(75, 32);
  ASSERT_EQ(idx.size(), 32u);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(idx[size_t(i)], int64_t(i * 75.0 / 32.0));
  EXPECT_EQ(sample_frame_indices(10, 32), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(sample_frame_indices(75, 4), (std::vector<int64_t>{0, 18, 37, 56}));
  EXPECT_TRUE(sample_frame_indices(0, 32).empty());
}

TEST(VideoSampling, Timestamps) {
  EXPECT_EQ(video_timestamp(0), "00:00");
  EXPECT_EQ(video_timestamp(59.99), "00:59");
  EXPECT_EQ(video_timestamp(61.5), "01:01");
  EXPECT_EQ(video_timestamp(3599.9), "59:59");
  EXPECT_EQ(video_timestamp(6000), "100:00");
}

TEST_F(VideoDecode, FramesTimestampsAndSound) {
  for (const char* f : {"clip.mp4", "clip.webm"}) {
    SCOPED_TRACE(f);
    VideoOptions opt;
    opt.want_audio = true;
    const VideoFrames v = load_video_file(tmp(f), opt);
    EXPECT_EQ(v.total_frames, 75);
    EXPECT_DOUBLE_EQ(v.fps, 25.0);
    ASSERT_EQ(v.frames.size(), 32u);
    ASSERT_EQ(v.timestamps.size(), 32u);
    const std::vector<int64_t> idx = sample_frame_indices(75, 32);
    for (size_t i = 0; i < 32; ++i) {
      EXPECT_DOUBLE_EQ(v.timestamps[i], double(idx[i]) / 25.0);
      EXPECT_EQ(v.frames[i].width, 320);
      EXPECT_EQ(v.frames[i].height, 240);
    }
    // The sound track: 3 s of a 440 Hz sine of amplitude 1/8, at 16 kHz.
    ASSERT_TRUE(v.has_audio);
    std::printf("  video %-9s T=%lld fps=%.2f audio %zu samples\n", f, (long long)v.total_frames,
                v.fps, v.audio16k.size());
    EXPECT_NEAR(double(v.audio16k.size()), 48000.0, 640.0);
    size_t crossings = 0;
    double energy = 0;
    for (size_t i = 8000; i < 40000; ++i) {
      crossings += (v.audio16k[i - 1] < 0) != (v.audio16k[i] < 0);
      energy += double(v.audio16k[i]) * v.audio16k[i];
    }
    EXPECT_NEAR(double(crossings) / 2.0, 880.0, 4.0);  // 2 s at 440 Hz
    EXPECT_NEAR(std::sqrt(energy / 32000.0), 0.125 / std::sqrt(2.0), 0.01);

    // Each sampled frame is the ffmpeg tool's frame idx, and differs from its neighbour.
    const std::string base = std::string(f) + "_";
    ASSERT_EQ(sh("ffmpeg -y -loglevel error -i " + std::string(f) +
                 " -pix_fmt rgb24 -start_number 0 " + base + "%03d.ppm"),
              0);
    for (size_t i : {size_t(1), size_t(13), size_t(31)}) {
      char name[64];
      std::snprintf(name, sizeof name, "%s%03lld.ppm", base.c_str(), (long long)idx[i]);
      const double same = mean_abs_diff(v.frames[i], test::read_ppm(tmp(name)));
      std::snprintf(name, sizeof name, "%s%03lld.ppm", base.c_str(), (long long)idx[i] + 1);
      const double next = mean_abs_diff(v.frames[i], test::read_ppm(tmp(name)));
      // Same conversion as the ffmpeg tool (swscale, bicubic): identical bytes.
      EXPECT_EQ(same, 0.0) << "frame " << idx[i];
      EXPECT_GT(next, 0.2) << "frame " << idx[i];
    }
  }
}

TEST_F(VideoDecode, MemoryEqualsFileAndShortClipClamps) {
  const std::vector<uint8_t> bytes = test::read_bytes(tmp("clip.webm"));
  VideoOptions opt;
  opt.max_frames = 4;
  const VideoFrames a = decode_video(bytes.data(), bytes.size(), "clip.webm", opt);
  const VideoFrames b = load_video_file(tmp("clip.webm"), opt);
  ASSERT_EQ(a.frames.size(), 4u);
  ASSERT_EQ(b.frames.size(), 4u);
  EXPECT_FALSE(a.has_audio);                        // not asked for
  const double want_ts[4] = {0, 0.72, 1.48, 2.24};  // frames 0, 18, 37, 56 at 25 fps
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(a.frames[i].rgb, b.frames[i].rgb);
    EXPECT_DOUBLE_EQ(a.timestamps[i], want_ts[i]);
  }
  const VideoFrames s = load_video_file(tmp("short.mp4"), {32, true});
  EXPECT_EQ(s.total_frames, 10);
  EXPECT_EQ(s.frames.size(), 10u);  // fewer frames than 32: every frame, once
  EXPECT_FALSE(s.has_audio);        // the clip has no sound track
  EXPECT_TRUE(s.audio16k.empty());
  EXPECT_EQ(s.frames[0].width, 96);
}

TEST_F(VideoDecode, Refusals) {
  const std::vector<uint8_t> bytes = test::read_bytes(tmp("clip.mp4"));
  VideoOptions opt;
  opt.max_pixels = 320 * 240 - 1;
  try {
    decode_video(bytes.data(), bytes.size(), "clip.mp4", opt);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("video 'clip.mp4'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(decode_video(bytes.data(), 0, "empty.mp4"), Error);
  EXPECT_THROW(load_video_file(tmp("missing.mp4")), Error);
  opt = {};
  opt.want_audio = true;
  opt.max_audio_seconds = 1.0;
  EXPECT_THROW(decode_video(bytes.data(), bytes.size(), "clip.mp4", opt), Error);
  // A sound-only file has no video stream.
  ASSERT_EQ(sh("ffmpeg -y -loglevel error -f lavfi -i sine=duration=1 -c:a libvorbis tone.ogg"), 0);
  try {
    load_video_file(tmp("tone.ogg"));
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no video stream"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ug
