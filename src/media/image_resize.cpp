#include "media/image_resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "base/error.h"

namespace ug {

std::pair<int, int> target_size(int height, int width, int max_soft_tokens, int patch, int pool) {
  switch (max_soft_tokens) {
    case 70:
    case 140:
    case 280:
    case 560:
    case 1120:
      break;
    default:
      fail("image budget: max_soft_tokens ", max_soft_tokens,
           " is not supported (expected 70, 140, 280, 560 or 1120)");
  }
  if (patch <= 0 || pool <= 0)
    fail("image budget: patch ", patch, " and pool ", pool, " must be > 0");
  if (height <= 0 || width <= 0) fail("image size ", width, "x", height, ": sides must be > 0");
  const int64_t side = int64_t(patch) * pool;  // 48
  const int64_t max_patches = int64_t(max_soft_tokens) * pool * pool;
  const int64_t target_px = max_patches * patch * patch;  // B * 48 * 48
  const double f = std::sqrt(double(target_px) / (double(height) * double(width)));
  int64_t ht = int64_t(std::floor(f * height / double(side))) * side;
  int64_t wt = int64_t(std::floor(f * width / double(side))) * side;
  if (ht == 0 && wt == 0) {
    fail("image size ", width, "x", height, ": cannot be resized to at least one ", side, "x", side,
         " patch");
  }
  const int64_t max_side = (max_patches / (int64_t(pool) * pool)) * side;
  if (ht == 0) {
    ht = side;
    wt = std::min(int64_t(width / height) * side, max_side);
  } else if (wt == 0) {
    wt = side;
    ht = std::min(int64_t(height / width) * side, max_side);
  }
  if (ht * wt > target_px) {
    fail("image size ", width, "x", height, ": target ", wt, "x", ht, " exceeds the budget of ",
         target_px, " pixels");
  }
  return {int(ht), int(wt)};
}

namespace {

// Pillow's fixed point: 8 result bits + 2 overflow bits leave 22 fraction bits in an int32.
constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Per output sample: first input index, tap count, and ksize fixed-point weights.
struct Coeffs {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> k;  // [out_size, ksize]
};

Coeffs precompute(int in_size, int out_size) {
  constexpr double kSupport = 2.0;
  // Pillow passes the box edges as float; in_size is exact in float for any accepted size.
  const double scale = double(float(in_size)) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = kSupport * filterscale;
  Coeffs c;
  c.ksize = int(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.k.assign(size_t(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    // (int) truncation, not floor, as Pillow rounds these bounds.
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[x] / ww : w[x];
      c.k[size_t(xx) * c.ksize + x] = v < 0 ? int32_t(-0.5 + v * (1 << kPrecisionBits))
                                            : int32_t(0.5 + v * (1 << kPrecisionBits));
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t v) {
  const int32_t s = v >> kPrecisionBits;  // arithmetic shift, as in Pillow
  return uint8_t(s < 0 ? 0 : (s > 255 ? 255 : s));
}

}  // namespace

Image resize_bicubic_aa(const Image& in, int out_h, int out_w) {
  if (in.width <= 0 || in.height <= 0 || in.rgb.size() != size_t(in.width) * in.height * 3) {
    fail("resize: input image ", in.width, "x", in.height, " has ", in.rgb.size(),
         " bytes, expected width*height*3");
  }
  if (out_h <= 0 || out_w <= 0) fail("resize: output size ", out_w, "x", out_h, " must be > 0");
  // Bound the output so the fixed-point tables and buffers stay sane (16384^2 > any budget).
  if (int64_t(out_w) * out_h > (int64_t(1) << 28)) {
    fail("resize: output size ", out_w, "x", out_h, " is too large");
  }
  const bool need_h = out_w != in.width;
  const bool need_v = out_h != in.height;
  if (!need_h && !need_v) return in;

  const Coeffs cv = precompute(in.height, out_h);
  // Only the rows the vertical pass reads are resampled horizontally.
  const int y_first = cv.first[0];
  const int y_last = cv.first[out_h - 1] + cv.count[out_h - 1];

  Image tmp;
  const Image* src = &in;
  int row_offset = 0;  // row of src that the vertical bounds count from
  if (need_h) {
    const Coeffs ch = precompute(in.width, out_w);
    tmp.width = out_w;
    tmp.height = y_last - y_first;
    tmp.rgb.resize(size_t(tmp.width) * tmp.height * 3);
    for (int y = 0; y < tmp.height; ++y) {
      const uint8_t* row = &in.rgb[size_t(y + y_first) * in.width * 3];
      uint8_t* out = &tmp.rgb[size_t(y) * out_w * 3];
      for (int xx = 0; xx < out_w; ++xx) {
        const int32_t* k = &ch.k[size_t(xx) * ch.ksize];
        const uint8_t* p = row + size_t(ch.first[xx]) * 3;
        int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
        for (int x = 0; x < ch.count[xx]; ++x) {
          s0 += p[x * 3 + 0] * k[x];
          s1 += p[x * 3 + 1] * k[x];
          s2 += p[x * 3 + 2] * k[x];
        }
        out[xx * 3 + 0] = clip8(s0);
        out[xx * 3 + 1] = clip8(s1);
        out[xx * 3 + 2] = clip8(s2);
      }
    }
    src = &tmp;
    row_offset = y_first;
  }
  if (!need_v) return tmp;

  Image out;
  out.width = src->width;
  out.height = out_h;
  out.rgb.resize(size_t(out.width) * out_h * 3);
  const size_t stride = size_t(src->width) * 3;
  for (int yy = 0; yy < out_h; ++yy) {
    const int32_t* k = &cv.k[size_t(yy) * cv.ksize];
    const uint8_t* base = &src->rgb[size_t(cv.first[yy] - row_offset) * stride];
    uint8_t* o = &out.rgb[size_t(yy) * stride];
    for (size_t xc = 0; xc < stride; ++xc) {
      int32_t s = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < cv.count[yy]; ++y) s += base[size_t(y) * stride + xc] * k[y];
      o[xc] = clip8(s);
    }
  }
  return out;
}

}  // namespace ug
