#include "media/patches.h"

#include "base/error.h"

namespace ug {

std::vector<float> image_to_patches(const Image& img, int patch, bool chw, int& n_rows,
                                    int& n_cols) {
  if (patch <= 0) fail("patches: patch size ", patch, " must be > 0");
  if (img.width <= 0 || img.height <= 0 || img.rgb.size() != size_t(img.width) * img.height * 3) {
    fail("patches: image ", img.width, "x", img.height, " has ", img.rgb.size(),
         " bytes, expected width*height*3");
  }
  if (img.width % patch != 0 || img.height % patch != 0) {
    fail("patches: image ", img.width, "x", img.height, " is not a multiple of the ", patch,
         "-pixel patch (resize it with target_size first)");
  }
  n_rows = img.height / patch;
  n_cols = img.width / patch;
  const size_t plane = size_t(patch) * patch;
  const size_t dim = plane * 3;
  std::vector<float> out(size_t(n_rows) * n_cols * dim);
  constexpr float kScale = 1.0f / 255.0f;  // the processor's rescale_factor, applied in fp32
  for (int gy = 0; gy < n_rows; ++gy) {
    for (int gx = 0; gx < n_cols; ++gx) {
      float* v = &out[(size_t(gy) * n_cols + gx) * dim];
      for (int r = 0; r < patch; ++r) {
        const uint8_t* px =
            &img.rgb[((size_t(gy) * patch + r) * img.width + size_t(gx) * patch) * 3];
        for (int c = 0; c < patch; ++c) {
          for (int ch = 0; ch < 3; ++ch) {
            const float x = float(px[c * 3 + ch]) * kScale;
            if (chw) {
              v[ch * plane + size_t(r) * patch + c] = x;
            } else {
              v[(size_t(r) * patch + c) * 3 + ch] = x;
            }
          }
        }
      }
    }
  }
  return out;
}

}  // namespace ug
