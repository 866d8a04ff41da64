#include "base/read_file.h"

#include <fstream>
#include <iterator>

#include "base/error.h"

namespace ug {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, ": read failed");
  return text;
}

}  // namespace ug
