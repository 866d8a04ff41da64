#include "formats/output_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace ug {

namespace {
constexpr size_t kBufferBytes = 1 << 20;
}

OutputFile::OutputFile(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) fail(path, ": cannot create: ", std::strerror(errno));
  std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
}

OutputFile::~OutputFile() { abandon(); }

void OutputFile::write(const void* data, uint64_t n) {
  if (!file_) fail(path_, ": write after the file was closed");
  if (n && std::fwrite(data, 1, n, file_) != n) {
    int err = errno;
    abandon();
    fail(path_, ": write failed: ", std::strerror(err));
  }
}

void OutputFile::write_zeros(uint64_t n) {
  static const uint8_t kZeros[4096] = {};
  while (n) {
    uint64_t k = std::min<uint64_t>(n, sizeof(kZeros));
    write(kZeros, k);
    n -= k;
  }
}

void OutputFile::close() {
  if (!file_) return;
  errno = 0;
  bool ok = std::fflush(file_) == 0;
  int err = errno;
  ok = std::fclose(file_) == 0 && ok;
  if (!ok && err == 0) err = errno;
  file_ = nullptr;
  if (!ok) {
    std::remove(path_.c_str());
    fail(path_, ": write failed: ", std::strerror(err));
  }
}

void OutputFile::abandon() {
  if (!file_) return;
  std::fclose(file_);
  file_ = nullptr;
  std::remove(path_.c_str());
}

}  // namespace ug
