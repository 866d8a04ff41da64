// Helpers shared by the format tests: temporary files, raw byte builders for malformed files,
// and assertions on error messages.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "formats/gguf.h"

namespace ug::test {

// A per-process scratch folder, removed when the test binary exits. It lives in /dev/shm when that
// exists: the truncation tests write tens of MB, and a RAM-backed folder keeps them fast on a busy
// disk.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::error_code ec;
    const std::string root =
        std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
            ? std::string("/dev/shm/")
            : testing::TempDir();
    path = root + "ug_formats_test_" + std::to_string(::getpid());
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline std::string temp_path(const std::string& name) {
  static const ScratchDir dir;
  return dir.path + "/" + name;
}

inline void write_bytes(const std::string& path, const void* data, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  ASSERT_TRUE(out.good()) << path;
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  write_bytes(path, b.data(), b.size());
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Little-endian byte assembly for hand-made (possibly malformed) files.
struct Bytes {
  std::vector<uint8_t> b;
  template <class T>
  Bytes& put(T v) {
    size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return *this;
  }
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& str(const std::string& s) { return u64(s.size()).raw(s); }
  Bytes& raw(const std::string& s) {
    size_t at = b.size();
    b.resize(at + s.size());
    if (!s.empty()) std::memcpy(b.data() + at, s.data(), s.size());
    return *this;
  }
  Bytes& pad(size_t alignment) {
    while (b.size() % alignment) b.push_back(0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

// Runs f, which must throw ug::Error; returns the message ("" and a test failure otherwise).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-ug exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

#define EXPECT_ERROR_HAS(statement, ...)                                               \
  do {                                                                                 \
    std::string ug_msg_ = ::ug::test::error_of([&] { statement; });                    \
    for (const std::string ug_frag_ : std::initializer_list<std::string>{__VA_ARGS__}) \
      EXPECT_NE(ug_msg_.find(ug_frag_), std::string::npos)                             \
          << "message: \"" << ug_msg_ << "\" lacks \"" << ug_frag_ << "\"";            \
  } while (0)

// Deep equality of metadata values, type included.
inline bool same_value(const GgufValue& a, const GgufValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case GgufType::U8:
    case GgufType::U16:
    case GgufType::U32:
    case GgufType::U64:
    case GgufType::BOOL:
      return a.u == b.u;
    case GgufType::I8:
    case GgufType::I16:
    case GgufType::I32:
    case GgufType::I64:
      return a.i == b.i;
    case GgufType::F32:
    case GgufType::F64:
      return std::memcmp(&a.f, &b.f, sizeof(double)) == 0;
    case GgufType::STRING:
      return a.s == b.s;
    case GgufType::ARRAY:
      if (a.elem_type != b.elem_type || a.arr.size() != b.arr.size()) return false;
      for (size_t k = 0; k < a.arr.size(); ++k)
        if (!same_value(a.arr[k], b.arr[k])) return false;
      return true;
  }
  return false;
}

inline std::string fixture_path(const std::string& name) {
  return std::string(UG_SHARED_DIR) + "/fixtures/" + name;
}

}  // namespace ug::test
