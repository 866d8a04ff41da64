#include "hub/progress_bar.h"

#include <unistd.h>

#include <cstdio>

#include "base/human_bytes.h"

namespace ug::hub {

ProgressBar::ProgressBar(std::string name, int64_t total, int64_t already, bool enabled)
    : name_(std::move(name)),
      total_(total),
      start_bytes_(already),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) == 1),
      t0_(std::chrono::steady_clock::now()) {
  if (!enabled_) return;
  if (!tty_) {
    std::fprintf(stderr, "downloading %s (%s%s)\n", name_.c_str(),
                 total_ >= 0 ? format_bytes(double(total_)).c_str() : "size unknown",
                 already > 0 ? (", resuming at " + format_bytes(double(already))).c_str() : "");
    return;
  }
  draw(already, false);
}

void ProgressBar::update(int64_t done) {
  if (!enabled_ || !tty_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  draw(done, false);
}

void ProgressBar::draw(int64_t done, bool final_line) {
  last_draw_ = std::chrono::steady_clock::now();
  const double sec = std::chrono::duration<double>(last_draw_ - t0_).count();
  const double rate = sec > 0.2 ? double(done - start_bytes_) / sec : 0;
  std::string name = name_.size() > 32 ? "..." + name_.substr(name_.size() - 29) : name_;
  char eta[32] = "";
  if (total_ > 0 && rate > 0 && done < total_) {
    const long s = long(double(total_ - done) / rate);
    std::snprintf(eta, sizeof eta, " ETA %ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  }
  std::string bar;
  if (total_ > 0) {
    const int width = 24, fill = int(double(done) / double(total_) * width);
    bar = "[" + std::string(fill, '#') + std::string(width - fill, ' ') + "]";
  }
  std::fprintf(stderr, "\r%-32s %3d%% %s %s/%s %s/s%s\033[K", name.c_str(),
               total_ > 0 ? int(100.0 * double(done) / double(total_)) : 0, bar.c_str(),
               format_bytes(double(done)).c_str(),
               total_ >= 0 ? format_bytes(double(total_)).c_str() : "?", format_bytes(rate).c_str(),
               eta);
  if (final_line) std::fputc('\n', stderr);
  std::fflush(stderr);
}

void ProgressBar::finish(bool ok) {
  if (!enabled_ || finished_) return;
  finished_ = true;
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  if (tty_) {
    if (ok && total_ >= 0)
      draw(total_, true);
    else
      std::fputc('\n', stderr);
    return;
  }
  if (ok) std::fprintf(stderr, "downloaded %s in %.1f s\n", name_.c_str(), sec);
}

}  // namespace ug::hub
