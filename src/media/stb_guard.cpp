#include "media/stb_guard.h"

#include <climits>

#include "base/error.h"

namespace ug {
namespace {

uint32_t le16(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8; }
uint32_t le32(const uint8_t* p) { return le16(p) | le16(p + 2) << 16; }

}  // namespace

void check_bmp_extent(const uint8_t* d, size_t n, const std::string& name) {
  if (n < 30) fail("image '", name, "': BMP header truncated (", n, " bytes)");
  const uint64_t offset = le32(d + 10);
  const uint32_t header = le32(d + 14);
  int64_t w, h;
  uint32_t bpp, compression = 0;
  if (header == 12) {
    w = le16(d + 18), h = le16(d + 20), bpp = le16(d + 24);
  } else {
    if (n < 34) fail("image '", name, "': BMP header truncated (", n, " bytes)");
    w = static_cast<int32_t>(le32(d + 18)), h = static_cast<int32_t>(le32(d + 22));
    bpp = le16(d + 28), compression = le32(d + 30);
  }
  if (compression != 0 && compression != 3) return;  // RLE, JPEG, PNG: stb refuses them
  h = h < 0 ? -h : h;                                // negative: rows stored top-down
  if (w <= 0 || h <= 0 || bpp == 0) return;          // stb and check_dims refuse these
  const uint64_t row = (static_cast<uint64_t>(w) * bpp + 31) / 32 * 4;  // rows pad to 4 bytes
  if (offset > n || (n - offset) / row < static_cast<uint64_t>(h))
    fail("image '", name, "': truncated BMP: ", w, "x", h, " pixels of ", bpp, " bits need ",
         static_cast<unsigned __int128>(row) * static_cast<uint64_t>(h) > UINT64_MAX
             ? std::string("more")
             : std::to_string(row * static_cast<uint64_t>(h)),
         " bytes from offset ", offset, ", the file has ", n > offset ? n - offset : 0);
}

void check_gif_extent(const uint8_t* d, size_t n, const std::string& name) {
  auto truncated = [&](const char* what) {
    fail("image '", name, "': truncated GIF: the file ends inside ", what, " (", n, " bytes)");
  };
  size_t pos = 13;  // signature + logical screen descriptor
  if (n < pos) truncated("the header");
  if (d[10] & 0x80) pos += size_t{3} << ((d[10] & 7) + 1);  // global colour table
  // Data sub-blocks: a length byte, that many bytes, ..., a zero length.
  auto skip_sub_blocks = [&](const char* what) {
    for (;;) {
      if (pos >= n) truncated(what);
      const size_t len = d[pos++];
      if (len == 0) return;
      pos += len;
    }
  };
  for (;;) {
    if (pos >= n) truncated("the blocks before the first image");
    const uint8_t kind = d[pos++];
    if (kind == 0x21) {  // extension: label, sub-blocks
      ++pos;
      skip_sub_blocks("an extension block");
    } else if (kind == 0x2C) {  // image descriptor, local colour table, LZW code size, data
      if (n < pos + 9) truncated("the image descriptor");
      const uint8_t flags = d[pos + 8];
      pos += 9;
      if (flags & 0x80) pos += size_t{3} << ((flags & 7) + 1);
      ++pos;
      skip_sub_blocks("the image data");
      return;
    } else {
      return;  // the trailer or garbage: stb reports it
    }
  }
}

// Walks the JPEG the way stb does, or wider: after SOI, find the next 0xFF (stb skips junk between
// segments, and this scan also crosses entropy-coded data, where 0xFF 0x00 is a stuffed byte and
// 0xFF 0xD0..0xD7 a restart marker), skip fill bytes, read the marker; a marker with a length is
// skipped by it, as stb skips or reads exactly it. stb reads DHT tables while the declared length
// is not used up, zeros past the end of the file, and builds each table before it checks that the
// lengths add up: each table's code count is checked here, the way stb would read it.
void check_jpeg_huffman_tables(const uint8_t* d, size_t n, const std::string& name) {
  auto at = [&](size_t i) -> uint32_t { return i < n ? d[i] : 0; };
  size_t pos = 2;  // after SOI
  for (;;) {
    while (pos < n && d[pos] != 0xFF) ++pos;
    while (pos < n && d[pos] == 0xFF) ++pos;
    if (pos >= n) return;
    const uint8_t marker = d[pos++];
    if (marker == 0xD9) return;  // EOI: stb stops
    // No length: stuffing, TEM, SOI, RSTn.
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;
    if (n - pos < 2) return;
    const size_t len = at(pos) << 8 | at(pos + 1);
    if (marker == 0xC4) {
      size_t p = pos + 2;
      for (int64_t left = int64_t(len) - 2; left > 0;) {
        size_t codes = 0;
        for (size_t i = 1; i <= 16; ++i) codes += at(p + i);
        if (codes > 256)
          fail("image '", name, "': corrupt JPEG: a Huffman table at byte ", p, " declares ", codes,
               " codes (at most 256)");
        p += 17 + codes;
        left -= int64_t(17 + codes);
      }
    }
    pos += len;
  }
}

}  // namespace ug
