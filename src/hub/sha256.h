// SHA-256 (OpenSSL's libcrypto): the hub names every LFS file by the SHA-256 of its bytes, so a
// download is checked against that name before it is kept.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace ug::hub {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t n);
  void reset();              // forget everything hashed so far
  std::string hex_digest();  // 64 lower-case hex digits; the object starts over afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True for 64 hex digits (an LFS object id / Ollama digest body).
bool is_sha256_hex(const std::string& s);

}  // namespace ug::hub
