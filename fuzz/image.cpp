// Image decoding (PNG, JPEG, GIF, BMP, WebP by magic bytes), then the resize target it would get.
#include "media/image.h"

#include "fuzz_util.h"
#include "media/image_resize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ug::fuzz::refusals_allowed([&] {
    // 4 M pixels: real photos fit, and a run stays within libFuzzer's memory limit.
    const ug::Image img = ug::decode_image(data, size, "fuzz", int64_t{1} << 22);
    if (img.width <= 0 || img.height <= 0 ||
        img.rgb.size() != static_cast<size_t>(img.width) * img.height * 3)
      __builtin_trap();
    ug::target_size(img.height, img.width, 280);
  });
  return 0;
}
