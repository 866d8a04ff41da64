// FFmpeg plumbing shared by the video decoder and the Ogg audio decoder: a container opened from
// memory or a file, RAII holders for codec contexts, frames and packets, and a sound-track
// decoder that gives 16 kHz mono. Errors are ug::Error "<kind> '<name>': ...", kind being
// "video" or "audio".
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswresample/swresample.h>
}

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ug {

class Resampler16k;

std::string av_err(int e);

// One opened container, streams probed; in memory (custom I/O) or a file. The handles live in a
// member so they are freed even when the constructor throws.
class AvDemuxer {
 public:
  AvDemuxer(const uint8_t* data, size_t size, const char* kind, const std::string& name);
  AvDemuxer(const std::string& path, const char* kind);
  AvDemuxer(const AvDemuxer&) = delete;
  AvDemuxer& operator=(const AvDemuxer&) = delete;
  AVFormatContext* fmt() { return h_.fmt; }

 private:
  struct MemSource {
    const uint8_t* data;
    int64_t size;
    int64_t pos;
  };
  struct Handles {
    AVIOContext* avio = nullptr;
    AVFormatContext* fmt = nullptr;
    ~Handles();
  };
  static int read(void* opaque, uint8_t* buf, int n);
  static int64_t seek(void* opaque, int64_t off, int whence);
  void open(const char* url);

  const char* kind_;
  std::string name_;
  MemSource mem_{};
  Handles h_;
};

struct AvCodecCtx {
  AVCodecContext* c = nullptr;
  ~AvCodecCtx() { avcodec_free_context(&c); }
};
struct AvFramePtr {
  AVFrame* f = av_frame_alloc();
  ~AvFramePtr() { av_frame_free(&f); }
};
struct AvPacketPtr {
  AVPacket* p = av_packet_alloc();
  ~AvPacketPtr() { av_packet_free(&p); }
};

// Opens the decoder for st (single-threaded); `what` names the stream in errors ("audio").
void open_av_decoder(AvCodecCtx& cc, AVStream* st, const char* kind, const std::string& name,
                     const char* what);

// Decodes one sound track: swresample makes packed float at the source rate and layout, channels
// are averaged (as for audio files), then soxr resamples to 16 kHz. Sound longer than max_seconds
// is refused.
class AvSoundTrack {
 public:
  AvSoundTrack(AVStream* st, const char* kind, const std::string& name, double max_seconds);
  ~AvSoundTrack();
  // Decodes one packet of the track; null flushes. A packet the decoder refuses is skipped, as
  // players do.
  void send(const AVPacket* pkt, std::vector<float>& out);
  void finish(std::vector<float>& out);
  bool empty() const;

 private:
  const char* kind_;
  std::string name_;
  double max_seconds_;
  AvCodecCtx cc_;
  AvFramePtr frame_;
  struct Swr {
    SwrContext* s = nullptr;
    ~Swr() { swr_free(&s); }
  } swr_;
  int channels_ = 0;
  std::unique_ptr<Resampler16k> rs_;
  std::vector<float> buf_, mono_;
};

// The first sound track of an in-memory container (audio-only files included) at 16 kHz mono.
// Throws when there is none or it holds no samples.
std::vector<float> decode_av_sound(const uint8_t* data, size_t size, const char* kind,
                                   const std::string& name, double max_seconds);

}  // namespace ug
