// The one error type users see: a message that says what, where, and what was expected.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ug {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds the message from any streamable parts: fail("tensor ", name, ": expected ", n).
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  throw Error(s.str());
}

}  // namespace ug
