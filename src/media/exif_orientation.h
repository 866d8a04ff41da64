// EXIF orientation of JPEG files, and the pixel transform that undoes it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "media/image.h"

namespace ug {

// The EXIF Orientation tag (1..8) of a JPEG file, or 1 when it has none or the EXIF block is
// malformed (a broken EXIF block must not make a viewable photo fail).
int jpeg_exif_orientation(const uint8_t* data, size_t size);

// Applies orientation o (1..8) as PIL's ImageOps.exif_transpose does; 5..8 swap width and height.
Image apply_exif_orientation(const Image& in, int o);

}  // namespace ug
