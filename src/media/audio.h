// Audio decoding to the model's 16 kHz mono waveform and its 640-sample frames (input spec §2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ug {

inline constexpr int kAudioSampleRate = 16000;
inline constexpr int kAudioFrame = 640;  // samples per soft token (40 ms)

// Decodes WAV, FLAC or MP3 (libsndfile) or Ogg Vorbis/Opus (FFmpeg), averages the channels and
// resamples to 16 kHz (libsoxr, high quality). Result: ceil(L * 16000 / rate) floats in [-1, 1],
// as librosa.load(sr=16000) gives. Refuses empty, corrupt or unsupported data and sound longer
// than max_seconds. Errors name the input: "audio 'x.wav': ...".
std::vector<float> decode_audio(const uint8_t* data, size_t size, const std::string& name,
                                double max_seconds = 3600);

// Reads a file and decodes it as above.
std::vector<float> load_audio_file(const std::string& path, double max_seconds = 3600);

// Soft tokens for a 16 kHz waveform of `samples` samples: ceil(samples / 640).
int audio_token_count(size_t samples);

// [N, frame] frames of the waveform, N = ceil(L / frame), the last one zero-padded.
std::vector<float> audio_frames(const std::vector<float>& pcm16k, int frame = kAudioFrame);

// Consecutive [begin, end) sample ranges covering n_samples, each at most max_seconds long and,
// except the last, a whole number of frames so no soft token straddles two pieces.
std::vector<std::pair<size_t, size_t>> split_audio(size_t n_samples, double max_seconds = 30.0);

}  // namespace ug
