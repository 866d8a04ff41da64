// A one-line download progress bar on stderr: name, percentage, bytes, rate and ETA, redrawn at
// most ten times a second. When stderr is not a terminal it prints nothing but a line at the start
// and one at the end, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/human_bytes.h"

namespace ug::hub {

class ProgressBar {
 public:
  // total < 0: unknown size. already: bytes present before this run (a resumed download).
  ProgressBar(std::string name, int64_t total, int64_t already, bool enabled);
  void update(int64_t done);
  void finish(bool ok);

 private:
  void draw(int64_t done, bool final_line);

  std::string name_;
  int64_t total_, start_bytes_;
  bool enabled_, tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point t0_, last_draw_;
};

// Download sizes as download tools show them: "1.23 GB".
inline std::string format_bytes(double bytes) { return human_bytes(bytes, true); }

}  // namespace ug::hub
