// Shared by the libFuzzer targets: readers that take a path get the input through a memory file,
// and ug::Error (the documented way to refuse input) is the only exception a target may see.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "tensor/tensor_view.h"

namespace ug::fuzz {

// One in-memory file per process, rewritten for each input: GgufFile and SafetensorsFile open
// /proc/self/fd/N like any path, and no disk is touched.
class MemFile {
 public:
  MemFile() : fd_(::memfd_create("ug_fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) __builtin_trap();
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  const std::string& hold(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0) __builtin_trap();
    for (size_t done = 0; done < size;) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) __builtin_trap();
      done += static_cast<size_t>(n);
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

// Runs f; a ug::Error is a refusal and fine, anything else escapes and ends the run as a crash.
template <class F>
void refusals_allowed(F&& f) {
  try {
    f();
  } catch (const ug::Error&) {
  }
}

// Reads the first and last byte of an accepted tensor: data the reader placed outside the mapped
// file faults here.
inline void touch(const TensorView& t) {
  if (t.nbytes == 0) return;
  const auto* p = static_cast<const volatile uint8_t*>(t.data);
  (void)p[0];
  (void)p[t.nbytes - 1];
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ug::fuzz
