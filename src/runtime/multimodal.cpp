#include "runtime/multimodal.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "base/error.h"
#include "media/audio.h"
#include "media/image.h"
#include "media/image_resize.h"
#include "media/patches.h"
#include "media/video.h"
#include "model/embedders.h"

namespace ug {

namespace {

const char* kind_name(MediaInput::Kind k) {
  return k == MediaInput::Image ? "image" : k == MediaInput::Audio ? "audio" : "video";
}

// Appends rows to a prompt: plain tokens, or soft tokens with their embeddings.
class PromptBuilder {
 public:
  PromptBuilder(Prompt& p, int64_t n_embd) : p_(p), n_embd_(n_embd) {}
  void token(int32_t id) {
    p_.tokens.push_back(id);
    p_.soft.emplace_back();
  }
  // n soft rows of `placeholder` from emb [n, n_embd]; returns the first row's index.
  int64_t soft(int32_t placeholder, const float* emb, int64_t n) {
    int64_t first = static_cast<int64_t>(p_.tokens.size());
    for (int64_t i = 0; i < n; ++i) {
      p_.tokens.push_back(placeholder);
      p_.soft.emplace_back(emb + i * n_embd_, emb + (i + 1) * n_embd_);
    }
    return first;
  }

 private:
  Prompt& p_;
  int64_t n_embd_;
};

// A resized image as patches and their grid positions, in the layout the weights expect.
struct Patches {
  std::vector<float> values;
  std::vector<int> cols, rows;
};

Patches image_patches(const Gemma4Weights& w, const Image& img, int budget) {
  auto [h, wd] = target_size(img.height, img.width, budget);
  Image resized = (h == img.height && wd == img.width) ? img : resize_bicubic_aa(img, h, wd);
  int n_rows = 0, n_cols = 0;
  Patches p;
  p.values = image_to_patches(resized, w.config.mm_patch, w.vision->chw, n_rows, n_cols);
  for (int r = 0; r < n_rows; ++r)
    for (int c = 0; c < n_cols; ++c) {
      p.cols.push_back(c);
      p.rows.push_back(r);
    }
  return p;
}

void add_image(PromptBuilder& b, Prompt& prompt, const LoadedModel& m, ThreadPool& pool,
               const MediaInput& in, const MediaOptions& o) {
  const Gemma4Weights& w = *m.weights;
  Image img = decode_image(in.bytes.data(), in.bytes.size(), in.name, o.max_pixels);
  Patches p = image_patches(w, img, o.image_tokens);
  std::vector<float> emb = embed_image_patches(w, p.values, p.cols, p.rows, pool);
  const int64_t n = static_cast<int64_t>(p.cols.size());
  b.token(w.config.boi_id);
  int64_t first = b.soft(w.config.image_token_id, emb.data(), n);
  prompt.bidirectional.emplace_back(first, first + n);
  b.token(w.config.eoi_id);
}

// Below one step of 16-bit audio everywhere: there is nothing to hear (every frame would be
// normalised noise).
bool is_silent(const std::vector<float>& pcm) {
  for (float v : pcm)
    if (std::abs(v) >= 1.0f / 32768.0f) return false;
  return true;
}

void add_audio_pcm(PromptBuilder& b, const LoadedModel& m, ThreadPool& pool,
                   const std::vector<float>& pcm, const std::string& name, const MediaOptions& o) {
  const Gemma4Weights& w = *m.weights;
  if (pcm.empty()) fail("audio '", name, "' has no samples");
  if (is_silent(pcm))
    fail("audio '", name, "' is silent: no sample reaches the level of one 16-bit step");
  // Long audio becomes consecutive blocks of at most audio_block_seconds (issue: >30 s).
  for (const auto& [begin, end] : split_audio(pcm.size(), o.audio_block_seconds)) {
    std::vector<float> part(pcm.begin() + begin, pcm.begin() + end);
    std::vector<float> frames = audio_frames(part, w.config.audio_frame);
    std::vector<float> emb = embed_audio_frames(w, frames, pool);
    b.token(w.config.boa_id);
    b.soft(w.config.audio_token_id, emb.data(),
           static_cast<int64_t>(frames.size()) / w.config.audio_frame);
    b.token(w.config.eoa_id);
  }
}

void add_video(PromptBuilder& b, Prompt& prompt, const LoadedModel& m, ThreadPool& pool,
               const MediaInput& in, const MediaOptions& o) {
  const Gemma4Weights& w = *m.weights;
  VideoOptions vo;
  vo.max_frames = o.video_frames;
  vo.want_audio = o.video_audio;
  vo.max_pixels = o.max_pixels;
  vo.max_audio_seconds = o.max_audio_seconds;
  VideoFrames v = decode_video(in.bytes.data(), in.bytes.size(), in.name, vo);
  if (v.frames.empty()) fail("video '", in.name, "' has no frames");
  for (size_t i = 0; i < v.frames.size(); ++i) {
    Patches p = image_patches(w, v.frames[i], o.video_frame_tokens);
    std::vector<float> emb = embed_image_patches(w, p.values, p.cols, p.rows, pool);
    // "MM:SS " before each frame, frames joined by one space (input spec §3.4).
    std::string stamp = (i ? " " : "") + video_timestamp(v.timestamps[i]) + " ";
    for (int32_t id : m.tokenizer->encode(stamp, false)) b.token(id);
    b.token(w.config.boi_id);
    const int64_t n = static_cast<int64_t>(p.cols.size());
    int64_t first = b.soft(w.config.video_token_id, emb.data(), n);
    prompt.bidirectional.emplace_back(first, first + n);
    b.token(w.config.eoi_id);
  }
  // A silent sound track is left out rather than refused: the frames still make a video.
  if (o.video_audio && v.has_audio && !v.audio16k.empty() && !is_silent(v.audio16k))
    add_audio_pcm(b, m, pool, v.audio16k, in.name + " (sound track)", o);
}

}  // namespace

Prompt build_multimodal_prompt(const LoadedModel& m, ThreadPool& pool, const std::string& text,
                               const std::vector<MediaInput>& media, const MediaOptions& o) {
  const Gemma4Config& c = m.weights->config;
  Prompt prompt;
  PromptBuilder b(prompt, c.n_embd);
  std::vector<int32_t> ids = m.tokenizer->encode(text, true);
  size_t next[3] = {0, 0, 0};  // next input of each kind
  auto take = [&](MediaInput::Kind k) -> const MediaInput& {
    size_t seen = 0;
    for (const auto& in : media)
      if (in.kind == k && seen++ == next[k]) {
        ++next[k];
        return in;
      }
    fail("the prompt has more ", kind_name(k), " placeholders than ", kind_name(k), " inputs (",
         next[k], ")");
  };
  for (int32_t id : ids) {
    if (id == c.image_token_id) {
      const MediaInput& in = take(MediaInput::Image);
      if (!m.weights->vision)
        fail("image '", in.name, "': this model has no vision weights (for GGUF, pass --mmproj)");
      add_image(b, prompt, m, pool, in, o);
    } else if (id == c.audio_token_id) {
      const MediaInput& in = take(MediaInput::Audio);
      if (!m.weights->audio)
        fail("audio '", in.name, "': this model has no audio weights (for GGUF, pass --mmproj)");
      add_audio_pcm(b, m, pool,
                    decode_audio(in.bytes.data(), in.bytes.size(), in.name, o.max_audio_seconds),
                    in.name, o);
    } else if (id == c.video_token_id) {
      const MediaInput& in = take(MediaInput::Video);
      if (!m.weights->vision)
        fail("video '", in.name, "': this model has no vision weights (for GGUF, pass --mmproj)");
      add_video(b, prompt, m, pool, in, o);
    } else {
      b.token(id);
    }
  }
  for (int k = 0; k < 3; ++k) {
    size_t total = std::count_if(media.begin(), media.end(),
                                 [&](const MediaInput& in) { return in.kind == k; });
    if (next[k] != total)
      fail(total, " ", kind_name(MediaInput::Kind(k)), " input(s) but ", next[k],
           " placeholder(s) in the prompt");
  }
  bool any_soft = !prompt.bidirectional.empty() || next[MediaInput::Audio] > 0;
  if (!any_soft) prompt.soft.clear();
  return prompt;
}

MediaInput::Kind media_kind_from_mime(const std::string& mime_or_name) {
  std::string s = mime_or_name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (s.rfind("image/", 0) == 0) return MediaInput::Image;
  if (s.rfind("audio/", 0) == 0) return MediaInput::Audio;
  if (s.rfind("video/", 0) == 0) return MediaInput::Video;
  auto dot = s.rfind('.');
  std::string ext = dot == std::string::npos ? s : s.substr(dot + 1);
  for (const char* e : {"png", "jpg", "jpeg", "webp", "gif", "bmp"})
    if (ext == e) return MediaInput::Image;
  for (const char* e : {"wav", "flac", "ogg", "oga", "opus", "mp3"})
    if (ext == e) return MediaInput::Audio;
  for (const char* e : {"mp4", "mkv", "webm", "mov", "avi", "m4v"})
    if (ext == e) return MediaInput::Video;
  fail("'", mime_or_name, "' is not an image, audio or video type unigemma reads");
}

}  // namespace ug
