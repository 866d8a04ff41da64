// `unigemma run --audio -`: the audio comes from standard input (raw 16 kHz mono PCM16, or a
// 16-bit WAV stream, detected by its RIFF header) and is prefilled while it arrives through an
// open engine request; generation starts when standard input closes.
#pragma once

#include <functional>
#include <vector>

#include "runtime/engine.h"
#include "runtime/live_audio.h"

namespace ug::cli {

// Index of the live (`-`) audio among media, or -1.
int live_audio_index(const std::vector<MediaInput>& media);

// Submits `request` (its prompt is parts.before) as an open prompt, reads stdin to its end,
// appending audio rows every chunk_seconds, then the rest, and waits for the answer.
// prompt_ids (if given) receives the whole prompt's token ids.
EngineResult run_live_audio(Engine& engine, const LoadedModel& m, ThreadPool& pool,
                            EngineRequest request, const LivePromptParts& parts,
                            const MediaOptions& media, double chunk_seconds,
                            const std::function<bool(const EngineToken&)>& on_token,
                            std::vector<int32_t>* prompt_ids = nullptr);

}  // namespace ug::cli
