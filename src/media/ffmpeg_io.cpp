#include "media/ffmpeg_io.h"

extern "C" {
#include <libavutil/channel_layout.h>
}

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "media/resampler.h"

namespace ug {

std::string av_err(int e) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(e, buf, sizeof buf);
  return buf;
}

AvDemuxer::AvDemuxer(const uint8_t* data, size_t size, const char* kind, const std::string& name)
    : kind_(kind), name_(name) {
  mem_ = {data, int64_t(size), 0};
  constexpr int kBuf = 1 << 16;
  auto* buf = static_cast<uint8_t*>(av_malloc(kBuf));
  if (!buf) fail(kind_, " '", name_, "': out of memory");
  h_.avio = avio_alloc_context(buf, kBuf, 0, &mem_, read, nullptr, seek);
  if (!h_.avio) {
    av_free(buf);
    fail(kind_, " '", name_, "': out of memory");
  }
  h_.fmt = avformat_alloc_context();
  if (!h_.fmt) fail(kind_, " '", name_, "': out of memory");
  h_.fmt->pb = h_.avio;
  h_.fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  open(nullptr);
}

AvDemuxer::AvDemuxer(const std::string& path, const char* kind) : kind_(kind), name_(path) {
  open(path.c_str());
}

AvDemuxer::Handles::~Handles() {
  avformat_close_input(&fmt);  // frees a context that avformat_open_input did not
  if (avio) {
    av_freep(&avio->buffer);
    avio_context_free(&avio);
  }
}

int AvDemuxer::read(void* opaque, uint8_t* buf, int n) {
  auto* m = static_cast<MemSource*>(opaque);
  const int64_t k = std::min<int64_t>(n, m->size - m->pos);
  if (k <= 0) return AVERROR_EOF;
  std::memcpy(buf, m->data + m->pos, size_t(k));
  m->pos += k;
  return int(k);
}

int64_t AvDemuxer::seek(void* opaque, int64_t off, int whence) {
  auto* m = static_cast<MemSource*>(opaque);
  if (whence & AVSEEK_SIZE) return m->size;
  whence &= ~AVSEEK_FORCE;
  const int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
  const int64_t p = base + off;
  if (p < 0 || p > m->size) return AVERROR(EINVAL);
  m->pos = p;
  return p;
}

void AvDemuxer::open(const char* url) {
  av_log_set_level(AV_LOG_QUIET);  // errors reach the user through ug::Error instead
  // On failure avformat_open_input frees the context and nulls the pointer.
  const int e = avformat_open_input(&h_.fmt, url, nullptr, nullptr);
  if (e < 0) fail(kind_, " '", name_, "': not a readable ", kind_, " container (", av_err(e), ")");
  const int e2 = avformat_find_stream_info(h_.fmt, nullptr);
  if (e2 < 0) fail(kind_, " '", name_, "': cannot read stream info (", av_err(e2), ")");
}

void open_av_decoder(AvCodecCtx& cc, AVStream* st, const char* kind, const std::string& name,
                     const char* what) {
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) {
    fail(kind, " '", name, "': no decoder for the ", what, " codec '",
         avcodec_get_name(st->codecpar->codec_id), "'");
  }
  cc.c = avcodec_alloc_context3(codec);
  if (!cc.c) fail(kind, " '", name, "': out of memory");
  int e = avcodec_parameters_to_context(cc.c, st->codecpar);
  if (e >= 0) {
    cc.c->thread_count = 1;
    e = avcodec_open2(cc.c, codec, nullptr);
  }
  if (e < 0) fail(kind, " '", name, "': cannot open the ", what, " decoder (", av_err(e), ")");
}

AvSoundTrack::AvSoundTrack(AVStream* st, const char* kind, const std::string& name,
                           double max_seconds)
    : kind_(kind), name_(name), max_seconds_(max_seconds) {
  open_av_decoder(cc_, st, kind, name, "audio");
  const int rate = cc_.c->sample_rate;
  channels_ = cc_.c->ch_layout.nb_channels;
  if (rate < 1000 || rate > 768000 || channels_ < 1 || channels_ > 64) {
    fail(kind, " '", name, "': sound track with ", channels_, " channels at ", rate,
         " Hz is not usable");
  }
  rs_ = std::make_unique<Resampler16k>(rate, name);
  int e = swr_alloc_set_opts2(&swr_.s, &cc_.c->ch_layout, AV_SAMPLE_FMT_FLT, rate,
                              &cc_.c->ch_layout, cc_.c->sample_fmt, rate, 0, nullptr);
  if (e < 0 || (e = swr_init(swr_.s)) < 0) {
    fail(kind, " '", name, "': cannot set up sample conversion (", av_err(e), ")");
  }
}

AvSoundTrack::~AvSoundTrack() = default;

void AvSoundTrack::send(const AVPacket* pkt, std::vector<float>& out) {
  if (avcodec_send_packet(cc_.c, pkt) < 0) return;
  while (avcodec_receive_frame(cc_.c, frame_.f) >= 0) {
    const int n = frame_.f->nb_samples;
    if (n <= 0) continue;
    // swresample was set up for the stream's layout and format; a frame that changes them
    // (corrupt or unusual streams) would be misread, so it is refused.
    if (frame_.f->ch_layout.nb_channels != channels_ || frame_.f->format != cc_.c->sample_fmt ||
        frame_.f->sample_rate != cc_.c->sample_rate) {
      fail(kind_, " '", name_, "': sound track changes its format mid-stream");
    }
    if (double(rs_->samples_in() + n) > max_seconds_ * cc_.c->sample_rate) {
      fail(kind_, " '", name_, "': sound track is longer than the ", max_seconds_, " s limit");
    }
    buf_.resize(size_t(n) * channels_ + 64);
    uint8_t* dst[1] = {reinterpret_cast<uint8_t*>(buf_.data())};
    const int got =
        swr_convert(swr_.s, dst, n, const_cast<const uint8_t**>(frame_.f->extended_data), n);
    if (got < 0) fail(kind_, " '", name_, "': sample conversion failed");
    mono_.resize(size_t(got));
    for (int i = 0; i < got; ++i) {
      float s = 0;
      for (int c = 0; c < channels_; ++c) s += buf_[size_t(i) * channels_ + c];
      mono_[i] = s / float(channels_);
    }
    rs_->push(mono_.data(), mono_.size(), out);
  }
}

void AvSoundTrack::finish(std::vector<float>& out) {
  send(nullptr, out);
  rs_->finish(out);
}

bool AvSoundTrack::empty() const { return rs_->samples_in() == 0; }

std::vector<float> decode_av_sound(const uint8_t* data, size_t size, const char* kind,
                                   const std::string& name, double max_seconds) {
  AvDemuxer d(data, size, kind, name);
  const int idx = av_find_best_stream(d.fmt(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (idx < 0) fail(kind, " '", name, "': the file has no sound track");
  AvSoundTrack track(d.fmt()->streams[idx], kind, name, max_seconds);
  std::vector<float> out;
  AvPacketPtr pkt;
  while (av_read_frame(d.fmt(), pkt.p) >= 0) {
    if (pkt.p->stream_index == idx) track.send(pkt.p, out);
    av_packet_unref(pkt.p);
  }
  track.finish(out);
  if (track.empty()) fail(kind, " '", name, "': contains no samples");
  return out;
}

}  // namespace ug
