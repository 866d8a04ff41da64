// Helpers for the media tests: a scratch folder, shell commands that make test media with
// third-party tools, file bytes, and binary PPM files (how the Pillow reference hands back
// pixels).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "media/image.h"

namespace ug::test {

// Files go to /dev/shm when it exists (fast, and nothing is left on disk).
inline const std::string& media_tmp() {
  static const std::string dir = [] {
    std::error_code ec;
    const std::string root =
        std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
            ? std::string("/dev/shm/")
            : testing::TempDir();
    std::string d = root + "ug_media_test_" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::string tmp(const std::string& name) { return media_tmp() + "/" + name; }

// Runs a shell command in the scratch folder; returns its exit status. Output goes to a log so
// failures can be shown.
inline int sh(const std::string& cmd) {
  const std::string full =
      "cd '" + media_tmp() + "' && (" + cmd + ") >>'" + media_tmp() + "/commands.log' 2>&1";
  const int rc = std::system(full.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

inline std::string py() { return "/usr/bin/python3 '" UG_SOURCE_DIR "/tests/media/pil_ref.py'"; }

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// Reads a binary PPM (P6, maxval 255) as written by Pillow.
inline Image read_ppm(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int w = 0, h = 0, maxval = 0;
  in >> magic >> w >> h >> maxval;
  in.get();
  Image img;
  if (magic != "P6" || maxval != 255 || w <= 0 || h <= 0) return img;
  img.width = w;
  img.height = h;
  img.rgb.resize(size_t(w) * h * 3);
  in.read(reinterpret_cast<char*>(img.rgb.data()), std::streamsize(img.rgb.size()));
  if (!in) img = Image{};
  return img;
}

inline void write_ppm(const std::string& path, const Image& img) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << "P6\n" << img.width << " " << img.height << "\n255\n";
  out.write(reinterpret_cast<const char*>(img.rgb.data()), std::streamsize(img.rgb.size()));
}

struct PixelDiff {
  int max = 0;                // largest |a - b| over all samples
  double frac_differing = 0;  // fraction of samples (pixel channels) that differ
};

inline PixelDiff compare(const Image& a, const Image& b) {
  PixelDiff d;
  if (a.rgb.size() != b.rgb.size() || a.rgb.empty()) {
    d.max = 256;
    return d;
  }
  size_t n = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) {
    const int e = std::abs(int(a.rgb[i]) - int(b.rgb[i]));
    if (e) ++n;
    if (e > d.max) d.max = e;
  }
  d.frac_differing = double(n) / double(a.rgb.size());
  return d;
}

}  // namespace ug::test

namespace ug::test {

// Removes the scratch folder when the test program ends.
class MediaTmpCleanup : public testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(media_tmp(), ec);
  }
};

}  // namespace ug::test
