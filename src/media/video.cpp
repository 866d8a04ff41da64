#include "media/video.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/imgutils.h>
#include <libswresample/swresample.h>
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
#include "media/resampler.h"

namespace ug {
namespace {

std::string av_err(int e) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(e, buf, sizeof buf);
  return buf;
}

// FFmpeg reads an in-memory video through these callbacks.
struct MemSource {
  const uint8_t* data;
  int64_t size;
  int64_t pos;
};

int mem_read(void* opaque, uint8_t* buf, int n) {
  auto* m = static_cast<MemSource*>(opaque);
  const int64_t k = std::min<int64_t>(n, m->size - m->pos);
  if (k <= 0) return AVERROR_EOF;
  std::memcpy(buf, m->data + m->pos, size_t(k));
  m->pos += k;
  return int(k);
}

int64_t mem_seek(void* opaque, int64_t off, int whence) {
  auto* m = static_cast<MemSource*>(opaque);
  if (whence & AVSEEK_SIZE) return m->size;
  whence &= ~AVSEEK_FORCE;
  const int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
  const int64_t p = base + off;
  if (p < 0 || p > m->size) return AVERROR(EINVAL);
  m->pos = p;
  return p;
}

// One opened container; in memory (custom I/O) or a file. The handles live in a member so
// they are freed even when the constructor throws.
class Demuxer {
 public:
  Demuxer(const uint8_t* data, size_t size, const std::string& name) : name_(name) {
    mem_ = {data, int64_t(size), 0};
    constexpr int kBuf = 1 << 16;
    auto* buf = static_cast<uint8_t*>(av_malloc(kBuf));
    if (!buf) fail("video '", name_, "': out of memory");
    h_.avio = avio_alloc_context(buf, kBuf, 0, &mem_, mem_read, nullptr, mem_seek);
    if (!h_.avio) {
      av_free(buf);
      fail("video '", name_, "': out of memory");
    }
    h_.fmt = avformat_alloc_context();
    if (!h_.fmt) fail("video '", name_, "': out of memory");
    h_.fmt->pb = h_.avio;
    h_.fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    open(nullptr);
  }
  explicit Demuxer(const std::string& path) : name_(path) { open(path.c_str()); }
  Demuxer(const Demuxer&) = delete;
  Demuxer& operator=(const Demuxer&) = delete;
  AVFormatContext* fmt() { return h_.fmt; }

 private:
  struct Handles {
    AVIOContext* avio = nullptr;
    AVFormatContext* fmt = nullptr;
    ~Handles() {
      avformat_close_input(&fmt);  // frees a context that avformat_open_input did not
      if (avio) {
        av_freep(&avio->buffer);
        avio_context_free(&avio);
      }
    }
  };
  void open(const char* url) {
    // On failure avformat_open_input frees the context and nulls the pointer.
    const int e = avformat_open_input(&h_.fmt, url, nullptr, nullptr);
    if (e < 0) fail("video '", name_, "': not a readable video container (", av_err(e), ")");
    const int e2 = avformat_find_stream_info(h_.fmt, nullptr);
    if (e2 < 0) fail("video '", name_, "': cannot read stream info (", av_err(e2), ")");
  }
  std::string name_;
  MemSource mem_{};
  Handles h_;
};

using Opener = std::function<std::unique_ptr<Demuxer>()>;

struct CodecCtx {
  AVCodecContext* c = nullptr;
  ~CodecCtx() { avcodec_free_context(&c); }
};
struct FramePtr {
  AVFrame* f = av_frame_alloc();
  ~FramePtr() { av_frame_free(&f); }
};
struct PacketPtr {
  AVPacket* p = av_packet_alloc();
  ~PacketPtr() { av_packet_free(&p); }
};

void open_decoder(CodecCtx& cc, AVStream* st, const std::string& name, const char* what) {
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) {
    fail("video '", name, "': no decoder for the ", what, " codec '",
         avcodec_get_name(st->codecpar->codec_id), "'");
  }
  cc.c = avcodec_alloc_context3(codec);
  if (!cc.c) fail("video '", name, "': out of memory");
  int e = avcodec_parameters_to_context(cc.c, st->codecpar);
  if (e >= 0) {
    cc.c->thread_count = 1;
    e = avcodec_open2(cc.c, codec, nullptr);
  }
  if (e < 0) fail("video '", name, "': cannot open the ", what, " decoder (", av_err(e), ")");
}

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

// Decodes the sound track: swresample makes packed float at the source rate and layout,
// channels are averaged (as for audio files), then soxr resamples to 16 kHz.
class AudioTrack {
 public:
  AudioTrack(AVStream* st, const std::string& name, double max_seconds)
      : name_(name), max_seconds_(max_seconds) {
    open_decoder(cc_, st, name, "audio");
    const int rate = cc_.c->sample_rate;
    channels_ = cc_.c->ch_layout.nb_channels;
    if (rate < 1000 || rate > 768000 || channels_ < 1 || channels_ > 64) {
      fail("video '", name, "': sound track with ", channels_, " channels at ", rate,
           " Hz is not usable");
    }
    rs_ = std::make_unique<Resampler16k>(rate, name);
    int e = swr_alloc_set_opts2(&swr_.s, &cc_.c->ch_layout, AV_SAMPLE_FMT_FLT, rate,
                                &cc_.c->ch_layout, cc_.c->sample_fmt, rate, 0, nullptr);
    if (e < 0 || (e = swr_init(swr_.s)) < 0) {
      fail("video '", name, "': cannot set up sample conversion (", av_err(e), ")");
    }
  }

  void send(const AVPacket* pkt, std::vector<float>& out) {
    if (avcodec_send_packet(cc_.c, pkt) < 0) return;  // a bad packet is skipped, like players do
    while (avcodec_receive_frame(cc_.c, frame_.f) >= 0) {
      const int n = frame_.f->nb_samples;
      if (n <= 0) continue;
      // swresample was set up for the stream's layout and format; a frame that changes them
      // (corrupt or unusual streams) would be misread, so it is refused.
      if (frame_.f->ch_layout.nb_channels != channels_ || frame_.f->format != cc_.c->sample_fmt ||
          frame_.f->sample_rate != cc_.c->sample_rate) {
        fail("video '", name_, "': sound track changes its format mid-stream");
      }
      if (double(rs_->samples_in() + n) > max_seconds_ * cc_.c->sample_rate) {
        fail("video '", name_, "': sound track is longer than the ", max_seconds_, " s limit");
      }
      buf_.resize(size_t(n) * channels_ + 64);
      uint8_t* dst[1] = {reinterpret_cast<uint8_t*>(buf_.data())};
      const int got =
          swr_convert(swr_.s, dst, n, const_cast<const uint8_t**>(frame_.f->extended_data), n);
      if (got < 0) fail("video '", name_, "': sample conversion failed");
      mono_.resize(size_t(got));
      for (int i = 0; i < got; ++i) {
        float s = 0;
        for (int c = 0; c < channels_; ++c) s += buf_[size_t(i) * channels_ + c];
        mono_[i] = s / float(channels_);
      }
      rs_->push(mono_.data(), mono_.size(), out);
    }
  }
  void finish(std::vector<float>& out) {
    send(nullptr, out);
    rs_->finish(out);
  }
  bool empty() const { return rs_->samples_in() == 0; }

 private:
  std::string name_;
  double max_seconds_;
  CodecCtx cc_;
  FramePtr frame_;
  struct Swr {
    SwrContext* s = nullptr;
    ~Swr() { swr_free(&s); }
  } swr_;
  int channels_ = 0;
  std::unique_ptr<Resampler16k> rs_;
  std::vector<float> buf_, mono_;
};

VideoFrames decode_any(const Opener& open, const std::string& name, const VideoOptions& opt) {
  if (opt.max_frames < 1) fail("video '", name, "': max_frames ", opt.max_frames, " must be >= 1");
  av_log_set_level(AV_LOG_QUIET);  // errors reach the user through ug::Error instead

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
    PacketPtr pkt;
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

  CodecCtx vc;
  open_decoder(vc, vs, name, "video");
  std::unique_ptr<AudioTrack> audio;
  int aidx = -1;
  if (opt.want_audio) {
    aidx = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, vidx, nullptr, 0);
    if (aidx >= 0)
      audio = std::make_unique<AudioTrack>(fmt->streams[aidx], name, opt.max_audio_seconds);
  }

  struct Sws {
    SwsContext* s = nullptr;
    ~Sws() { sws_freeContext(s); }
  } sws;
  FramePtr frame;
  PacketPtr pkt;
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
  return decode_any([&] { return std::make_unique<Demuxer>(data, size, name); }, name, options);
}

VideoFrames load_video_file(const std::string& path, const VideoOptions& options) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail("video '", path, "': cannot open the file");
  if (st.st_size == 0) fail("video '", path, "': file is empty");
  return decode_any([&] { return std::make_unique<Demuxer>(path); }, path, options);
}

std::string video_timestamp(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  const long long total = static_cast<long long>(std::floor(seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld", total / 60, total % 60);
  return buf;
}

}  // namespace ug
