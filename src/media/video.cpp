#include "media/video.h"

extern "C" {
#include <libswscale/swscale.h>
}

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <set>

#include "base/error.h"
#include "media/ffmpeg_io.h"

namespace ug {
namespace {

Image to_rgb(const AVFrame* f, SwsContext*& sws, const std::string& name, int64_t max_pixels) {
  if (f->width <= 0 || f->height <= 0 || int64_t(f->width) * f->height > max_pixels) {
    fail("video '", name, "': frame size ", f->width, "x", f->height, " is outside 1..", max_pixels,
         " pixels");
  }
  sws = sws_getCachedContext(sws, f->width, f->height, AVPixelFormat(f->format), f->width,
                             f->height, AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr, nullptr, nullptr);
  if (!sws) fail("video '", name, "': cannot convert pixel format ", f->format, " to RGB");
  // swscale's SIMD paths may write past the end of a row, so convert into a padded buffer
  // and copy the rows out.
  const int row = f->width * 3;
  const int stride = (row + 63) / 64 * 64;
  std::vector<uint8_t> padded(size_t(stride) * f->height + 256);
  uint8_t* dst[4] = {padded.data(), nullptr, nullptr, nullptr};
  int strides[4] = {stride, 0, 0, 0};
  const int h = sws_scale(sws, f->data, f->linesize, 0, f->height, dst, strides);
  if (h != f->height) fail("video '", name, "': pixel conversion failed");
  Image img;
  img.width = f->width;
  img.height = f->height;
  img.rgb.resize(size_t(row) * f->height);
  for (int y = 0; y < f->height; ++y) {
    std::memcpy(&img.rgb[size_t(y) * row], &padded[size_t(y) * stride], size_t(row));
  }
  return img;
}

using Opener = std::function<std::unique_ptr<AvDemuxer>()>;

VideoFrames decode_any(const Opener& open, const std::string& name, const VideoOptions& opt) {
  if (opt.max_frames < 1) fail("video '", name, "': max_frames ", opt.max_frames, " must be >= 1");

  // Pass 1: count the video stream's packets (one per frame), cheaply, without decoding.
  int64_t total = 0;
  int vidx = -1;
  {
    auto d = open();
    vidx = av_find_best_stream(d->fmt(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (vidx < 0) fail("video '", name, "': the file has no video stream");
    const AVCodecParameters* par = d->fmt()->streams[vidx]->codecpar;
    if (par->width <= 0 || par->height <= 0 || int64_t(par->width) * par->height > opt.max_pixels) {
      fail("video '", name, "': frame size ", par->width, "x", par->height, " is outside 1..",
           opt.max_pixels, " pixels");
    }
    AvPacketPtr pkt;
    while (av_read_frame(d->fmt(), pkt.p) >= 0) {
      if (pkt.p->stream_index == vidx) ++total;
      av_packet_unref(pkt.p);
    }
  }
  if (total == 0) fail("video '", name, "': the video stream holds no frames");

  VideoFrames out;
  auto d = open();
  AVFormatContext* fmt = d->fmt();
  AVStream* vs = fmt->streams[vidx];
  AVRational r = vs->avg_frame_rate;
  if (r.num <= 0 || r.den <= 0) r = vs->r_frame_rate;
  out.fps = (r.num > 0 && r.den > 0) ? av_q2d(r) : 24.0;  // the reference assumes 24 when unknown
  out.total_frames = total;

  const std::vector<int64_t> idx = sample_frame_indices(total, opt.max_frames);
  const std::set<int64_t> wanted(idx.begin(), idx.end());

  AvCodecCtx vc;
  open_av_decoder(vc, vs, "video", name, "video");
  std::unique_ptr<AvSoundTrack> audio;
  int aidx = -1;
  if (opt.want_audio) {
    aidx = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, vidx, nullptr, 0);
    if (aidx >= 0)
      audio =
          std::make_unique<AvSoundTrack>(fmt->streams[aidx], "video", name, opt.max_audio_seconds);
  }

  struct Sws {
    SwsContext* s = nullptr;
    ~Sws() { sws_freeContext(s); }
  } sws;
  AvFramePtr frame;
  AvPacketPtr pkt;
  int64_t n = 0;  // frames decoded so far, in presentation order
  auto drain = [&] {
    while (avcodec_receive_frame(vc.c, frame.f) >= 0) {
      if (wanted.count(n)) {
        out.frames.push_back(to_rgb(frame.f, sws.s, name, opt.max_pixels));
        out.timestamps.push_back(double(n) / out.fps);
      }
      ++n;
    }
  };
  const int64_t last_wanted = idx.back();
  while (av_read_frame(fmt, pkt.p) >= 0) {
    if (pkt.p->stream_index == vidx && n <= last_wanted) {
      if (avcodec_send_packet(vc.c, pkt.p) >= 0) drain();  // bad packets are skipped
    } else if (audio && pkt.p->stream_index == aidx) {
      audio->send(pkt.p, out.audio16k);
    }
    av_packet_unref(pkt.p);
    if (!audio && n > last_wanted) break;
  }
  if (n <= last_wanted) {
    avcodec_send_packet(vc.c, nullptr);
    drain();
  }
  if (out.frames.empty()) fail("video '", name, "': no frame could be decoded");
  if (audio) {
    audio->finish(out.audio16k);
    out.has_audio = !audio->empty();
  }
  return out;
}

}  // namespace

std::vector<int64_t> sample_frame_indices(int64_t total_frames, int max_frames) {
  if (total_frames <= 0 || max_frames <= 0) return {};
  const int64_t n = std::min<int64_t>(max_frames, total_frames);
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[size_t(i)] = i * total_frames / n;
  return idx;
}

VideoFrames decode_video(const uint8_t* data, size_t size, const std::string& name,
                         const VideoOptions& options) {
  if (size == 0 || data == nullptr) fail("video '", name, "': file is empty");
  return decode_any([&] { return std::make_unique<AvDemuxer>(data, size, "video", name); }, name,
                    options);
}

VideoFrames load_video_file(const std::string& path, const VideoOptions& options) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail("video '", path, "': cannot open the file");
  if (st.st_size == 0) fail("video '", path, "': file is empty");
  return decode_any([&] { return std::make_unique<AvDemuxer>(path, "video"); }, path, options);
}

std::string video_timestamp(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  const long long total = static_cast<long long>(std::floor(seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld", total / 60, total % 60);
  return buf;
}

}  // namespace ug
