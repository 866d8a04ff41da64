// The encoder-free front end: image patches and audio frames projected straight into the
// decoder's token space (input spec §1.6, §2.3). Outputs are soft-token embeddings, unscaled.
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "model/weights.h"

namespace ug {

// patches: [n, 48·48·3] in the layout the weights expect (weights.vision->chw), values in [0, 1];
// cols/rows: each patch's position in the 48-px grid. Returns [n, n_embd].
std::vector<float> embed_image_patches(const Gemma4Weights& w, const std::vector<float>& patches,
                                       const std::vector<int>& cols, const std::vector<int>& rows,
                                       ThreadPool& pool);

// frames: [n, 640] raw 16 kHz samples. Returns [n, n_embd].
std::vector<float> embed_audio_frames(const Gemma4Weights& w, const std::vector<float>& frames,
                                      ThreadPool& pool);

}  // namespace ug
