#include "media/image.h"

#include <webp/decode.h>
#include <webp/demux.h>

#include <climits>
#include <cstring>
#include <fstream>
#include <memory>

#include "base/error.h"
#include "media/exif_orientation.h"
#include "media/stb_guard.h"

// stb_image's declarations only; the implementation is compiled in stb_image_impl.cpp.
#define STBI_NO_STDIO
#include <stb/stb_image.h>

namespace ug {
namespace {

enum class Format { kPng, kJpeg, kGif, kBmp, kWebp, kUnknown };

Format sniff(const uint8_t* d, size_t n) {
  if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return Format::kPng;
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return Format::kJpeg;
  if (n >= 6 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0)) {
    return Format::kGif;
  }
  if (n >= 2 && d[0] == 'B' && d[1] == 'M') return Format::kBmp;
  if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0) {
    return Format::kWebp;
  }
  return Format::kUnknown;
}

const char* format_name(Format f) {
  switch (f) {
    case Format::kPng:
      return "PNG";
    case Format::kJpeg:
      return "JPEG";
    case Format::kGif:
      return "GIF";
    case Format::kBmp:
      return "BMP";
    case Format::kWebp:
      return "WebP";
    default:
      return "unknown";
  }
}

void check_dims(const std::string& name, Format f, int64_t w, int64_t h, int64_t max_pixels) {
  if (w <= 0 || h <= 0)
    fail("image '", name, "': ", format_name(f), " header gives size ", w, "x", h);
  // w and h come from 32-bit header fields (PNG's are unsigned): their product can pass
  // 2^63, so compare by division.
  if (w > max_pixels / h) {
    fail("image '", name, "': ", w, "x", h, " = ",
         static_cast<unsigned __int128>(w) * static_cast<uint64_t>(h) > UINT64_MAX
             ? std::string("more than 2^64")
             : std::to_string(static_cast<uint64_t>(w) * static_cast<uint64_t>(h)),
         " pixels is over the limit of ", max_pixels, " pixels");
  }
}

Image decode_stb(const uint8_t* data, size_t size, const std::string& name, Format f,
                 int64_t max_pixels) {
  if (size > size_t(INT_MAX)) fail("image '", name, "': file of ", size, " bytes is too large");
  const int len = static_cast<int>(size);
  // stb refuses PNGs over 1 GiB of pixels with a generic message; read IHDR here so a huge
  // claim is reported as what it is.
  if (f == Format::kPng && size >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0) {
    auto be32 = [&](size_t o) {
      return int64_t(data[o]) << 24 | int64_t(data[o + 1]) << 16 | int64_t(data[o + 2]) << 8 |
             int64_t(data[o + 3]);
    };
    check_dims(name, f, be32(16), be32(20), max_pixels);
  }
  // stb reads the JPEG's Huffman tables while it looks for the size.
  if (f == Format::kJpeg) check_jpeg_huffman_tables(data, size, name);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &comp)) {
    fail("image '", name, "': not a readable ", format_name(f), " file (", stbi_failure_reason(),
         ")");
  }
  check_dims(name, f, w, h, max_pixels);
  if (f == Format::kBmp) check_bmp_extent(data, size, name);
  if (f == Format::kGif) check_gif_extent(data, size, name);
  int w2 = 0, h2 = 0;
  // Asking for 3 channels drops alpha and replicates grey, like PIL's convert("RGB").
  std::unique_ptr<stbi_uc, void (*)(void*)> px(stbi_load_from_memory(data, len, &w2, &h2, &comp, 3),
                                               stbi_image_free);
  if (!px) {
    fail("image '", name, "': corrupt ", format_name(f), " data (", stbi_failure_reason(), ")");
  }
  if (w2 != w || h2 != h) {
    fail("image '", name, "': decoded size ", w2, "x", h2, " differs from header ", w, "x", h);
  }
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(px.get(), px.get() + size_t(w) * h * 3);
  if (f == Format::kJpeg) {
    const int o = jpeg_exif_orientation(data, size);
    if (o != 1) img = apply_exif_orientation(img, o);
  }
  return img;
}

Image decode_webp(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels) {
  WebPBitstreamFeatures feat;
  if (WebPGetFeatures(data, size, &feat) != VP8_STATUS_OK) {
    fail("image '", name, "': not a readable WebP file (bad header)");
  }
  check_dims(name, Format::kWebp, feat.width, feat.height, max_pixels);
  Image img;
  img.width = feat.width;
  img.height = feat.height;
  img.rgb.resize(size_t(feat.width) * feat.height * 3);
  if (!feat.has_animation) {
    if (!WebPDecodeRGBInto(data, size, img.rgb.data(), img.rgb.size(), feat.width * 3)) {
      fail("image '", name, "': corrupt WebP data");
    }
    return img;
  }
  // Animated: the first frame as composed on the canvas, as PIL shows it.
  WebPData wd{data, size};
  WebPAnimDecoderOptions opt;
  WebPAnimDecoderOptionsInit(&opt);
  opt.color_mode = MODE_RGBA;
  opt.use_threads = 0;
  std::unique_ptr<WebPAnimDecoder, void (*)(WebPAnimDecoder*)> dec(WebPAnimDecoderNew(&wd, &opt),
                                                                   WebPAnimDecoderDelete);
  if (!dec) fail("image '", name, "': corrupt animated WebP container");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(dec.get(), &info) || int64_t(info.canvas_width) != feat.width ||
      int64_t(info.canvas_height) != feat.height) {
    fail("image '", name, "': inconsistent animated WebP canvas size");
  }
  uint8_t* buf = nullptr;
  int ts = 0;
  if (!WebPAnimDecoderGetNext(dec.get(), &buf, &ts) || !buf) {
    fail("image '", name, "': corrupt first frame in animated WebP");
  }
  const size_t n = size_t(feat.width) * feat.height;
  for (size_t i = 0; i < n; ++i) {
    img.rgb[i * 3 + 0] = buf[i * 4 + 0];
    img.rgb[i * 3 + 1] = buf[i * 4 + 1];
    img.rgb[i * 3 + 2] = buf[i * 4 + 2];
  }
  return img;
}

}  // namespace

Image decode_image(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels) {
  if (size == 0 || data == nullptr) fail("image '", name, "': file is empty");
  const Format f = sniff(data, size);
  switch (f) {
    case Format::kWebp:
      return decode_webp(data, size, name, max_pixels);
    case Format::kUnknown:
      fail("image '", name, "': not a supported image format (expected PNG, JPEG, WebP, GIF or ",
           "BMP; the first bytes match none of them)");
    default:
      return decode_stb(data, size, name, f, max_pixels);
  }
}

Image load_image_file(const std::string& path, int64_t max_pixels) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail("image '", path, "': cannot open the file");
  const std::streamoff n = in.tellg();
  if (n < 0) fail("image '", path, "': cannot read the file size");
  // A compressed image is far smaller than its pixels; a file over 1 GiB is not a photo.
  if (n > (std::streamoff(1) << 30)) fail("image '", path, "': file of ", n, " bytes is too large");
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  in.seekg(0);
  if (n > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), n)) {
    fail("image '", path, "': read error");
  }
  return decode_image(bytes.data(), bytes.size(), path, max_pixels);
}

}  // namespace ug
