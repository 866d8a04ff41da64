// A read-only memory map of a whole file; weights are used in place from it.
#pragma once

#include <cstdint>
#include <string>

namespace ug {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws ug::Error naming the path
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// Drops the whole pages of [p, p + n) from this process's memory when the range lies inside a
// live MappedFile (they are read back from the file if touched again): for weights that were
// copied elsewhere at load. Returns false, doing nothing, for any other memory.
bool release_mapped_pages(const void* p, uint64_t n);

}  // namespace ug
