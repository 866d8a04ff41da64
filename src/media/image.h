// Still-image decoding to 8-bit RGB (input spec §1.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ug {

// An 8-bit RGB image, rows top to bottom: rgb[(y * width + x) * 3 + channel], channel R, G, B.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // [height, width, 3]
};

// The default pixel limit: far above any real photo, far below what would exhaust memory.
inline constexpr int64_t kDefaultMaxPixels = 50'000'000;

// Decodes PNG, JPEG (EXIF orientation applied), WebP (first frame if animated), GIF (first
// frame) or BMP, chosen by the file's magic bytes, not by its name. Alpha is dropped and grey
// is replicated, as PIL's convert("RGB") does. Images over max_pixels are refused from their
// header, before any pixel memory is allocated. Errors name the input: "image 'cat.png': ...".
Image decode_image(const uint8_t* data, size_t size, const std::string& name,
                   int64_t max_pixels = kDefaultMaxPixels);

// Reads a file and decodes it as above; the path is the name in error messages.
Image load_image_file(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);

}  // namespace ug
