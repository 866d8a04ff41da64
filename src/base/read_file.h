// Whole small files (JSON, templates) read into memory.
#pragma once

#include <string>

namespace ug {

// The file's bytes; throws ug::Error naming the path when it cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace ug
