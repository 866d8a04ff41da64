#include "media/exif_orientation.h"

#include <cstring>

namespace ug {
namespace {

uint16_t read16(const uint8_t* p, bool big_endian) {
  return big_endian ? static_cast<uint16_t>(p[0] << 8 | p[1])
                    : static_cast<uint16_t>(p[1] << 8 | p[0]);
}

uint32_t read32(const uint8_t* p, bool big_endian) {
  return big_endian ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
                    : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
}

// Orientation from a TIFF block (the payload of an "Exif\0\0" APP1 segment), 1 if absent.
int tiff_orientation(const uint8_t* t, size_t n) {
  if (n < 8) return 1;
  bool be;
  if (t[0] == 'M' && t[1] == 'M') {
    be = true;
  } else if (t[0] == 'I' && t[1] == 'I') {
    be = false;
  } else {
    return 1;
  }
  if (read16(t + 2, be) != 42) return 1;
  const uint32_t ifd = read32(t + 4, be);
  if (ifd > n || n - ifd < 2) return 1;
  const uint16_t count = read16(t + ifd, be);
  if ((n - ifd - 2) / 12 < count) return 1;
  for (uint16_t i = 0; i < count; ++i) {
    const uint8_t* e = t + ifd + 2 + 12 * size_t(i);
    if (read16(e, be) != 0x0112) continue;
    const uint16_t type = read16(e + 2, be);
    if (type != 3 || read32(e + 4, be) < 1) return 1;  // SHORT, at least one value
    const int o = read16(e + 8, be);
    return (o >= 1 && o <= 8) ? o : 1;
  }
  return 1;
}

}  // namespace

int jpeg_exif_orientation(const uint8_t* data, size_t size) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return 1;
  size_t pos = 2;
  // Walk the marker segments before the image data; EXIF lives in APP1 near the start.
  while (pos + 4 <= size) {
    if (data[pos] != 0xFF) return 1;
    const uint8_t marker = data[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return 1;  // start of scan / end of image
    const size_t len = size_t(data[pos + 2]) << 8 | data[pos + 3];
    if (len < 2 || len > size - pos - 2) return 1;
    const uint8_t* seg = data + pos + 4;
    const size_t seg_len = len - 2;
    if (marker == 0xE1 && seg_len >= 6 && std::memcmp(seg, "Exif\0\0", 6) == 0) {
      return tiff_orientation(seg + 6, seg_len - 6);
    }
    pos += 2 + len;
  }
  return 1;
}

Image apply_exif_orientation(const Image& in, int o) {
  if (o <= 1 || o > 8) return in;
  const int w = in.width, h = in.height;
  const bool swap = o >= 5;
  Image out;
  out.width = swap ? h : w;
  out.height = swap ? w : h;
  out.rgb.resize(in.rgb.size());
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;  // source pixel of output (x, y)
      switch (o) {
        case 2:
          sx = w - 1 - x;
          break;  // mirror left-right
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;  // rotate 180
        case 4:
          sy = h - 1 - y;
          break;  // mirror top-bottom
        case 5:
          sx = y;
          sy = x;
          break;  // transpose
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;  // rotate 90 clockwise
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;  // transverse
        case 8:
          sx = w - 1 - y;
          sy = x;
          break;  // rotate 90 counter-clockwise
      }
      const uint8_t* s = &in.rgb[(size_t(sy) * w + sx) * 3];
      uint8_t* d = &out.rgb[(size_t(y) * out.width + x) * 3];
      d[0] = s[0];
      d[1] = s[1];
      d[2] = s[2];
    }
  }
  return out;
}

}  // namespace ug
