// Cutting a resized image into the model's raw patch vectors (input spec §1.4, §1.5).
#pragma once

#include <vector>

#include "media/image.h"

namespace ug {

// Returns [N, patch*patch*3] floats, value = u8 / 255, N = n_rows * n_cols patches in raster
// order (index gy * n_cols + gx; the patch's position ids are (gx, gy)). Inside a patch the
// layout is HWC (HF safetensors: v[(r*patch + c)*3 + ch]) or, with chw, CHW (GGUF mmproj:
// v[ch*patch*patch + r*patch + c]). Both sides of the image must be multiples of patch.
std::vector<float> image_to_patches(const Image& resized, int patch, bool chw, int& n_rows,
                                    int& n_cols);

}  // namespace ug
