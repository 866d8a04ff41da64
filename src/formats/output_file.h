// A buffered file being written by a streaming writer. If it is destroyed before close()
// succeeded (an exception, a missing tensor), the partial file is removed so no truncated model
// is left behind looking valid.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace ug {

class OutputFile {
 public:
  explicit OutputFile(const std::string& path);  // throws ug::Error naming the path
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const void* data, uint64_t n);
  void write_zeros(uint64_t n);
  void close();    // flushes; throws (and removes the file) when the data did not reach the disk
  void abandon();  // closes and removes the file
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace ug
