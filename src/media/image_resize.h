// Target resolution and the resampling filter of the reference image processor (input spec
// §1.2, §1.3).
#pragma once

#include <utility>

#include "media/image.h"

namespace ug {

// (height, width) an image of height x width pixels is resized to for a soft-token budget
// max_soft_tokens (70, 140, 280, 560 or 1120): both sides multiples of patch*pool, aspect
// ratio kept up to that rounding, the pixel budget max_soft_tokens*(patch*pool)^2 filled as far
// as it can be. Throws for an unsupported budget or sizes that cannot give a single patch.
std::pair<int, int> target_size(int height, int width, int max_soft_tokens, int patch = 16,
                                int pool = 3);

// Antialiased bicubic resize (a = -0.5, support widened by the downscale factor, horizontal
// pass then vertical pass, 22-bit fixed point) giving the same bytes as Pillow's
// Image.resize((out_w, out_h), Image.BICUBIC) on an RGB image.
Image resize_bicubic_aa(const Image& in, int out_h, int out_w);

}  // namespace ug
