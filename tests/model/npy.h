// Reads the float32 .npy files the numpy reference writes.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ug::test {

struct Npy {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

inline Npy read_npy_f32(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  char magic[6];
  f.read(magic, 6);
  if (std::string(magic, 6) != "\x93NUMPY") throw std::runtime_error(path + ": not .npy");
  uint8_t ver[2];
  f.read(reinterpret_cast<char*>(ver), 2);
  uint32_t hlen = 0;
  if (ver[0] == 1) {
    uint16_t h;
    f.read(reinterpret_cast<char*>(&h), 2);
    hlen = h;
  } else {
    f.read(reinterpret_cast<char*>(&hlen), 4);
  }
  std::string header(hlen, ' ');
  f.read(header.data(), hlen);
  if (header.find("'<f4'") == std::string::npos) throw std::runtime_error(path + ": not float32");
  if (header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(path + ": fortran order");
  Npy n;
  auto a = header.find('('), b = header.find(')');
  std::stringstream ss(header.substr(a + 1, b - a - 1));
  std::string item;
  int64_t count = 1;
  while (std::getline(ss, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    n.shape.push_back(std::stoll(item));
    count *= n.shape.back();
  }
  n.data.resize(count);
  f.read(reinterpret_cast<char*>(n.data.data()), count * 4);
  if (!f) throw std::runtime_error(path + ": truncated");
  return n;
}

}  // namespace ug::test
