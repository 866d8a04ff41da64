#include "base/human_bytes.h"

#include <cstdio>

namespace ug {

std::string human_bytes(double b, bool decimal) {
  static const char* binary_units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  static const char* decimal_units[] = {"B", "kB", "MB", "GB", "TB"};
  const double step = decimal ? 1000 : 1024;
  int u = 0;
  while (b >= step && u < 4) b /= step, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", b,
                (decimal ? decimal_units : binary_units)[u]);
  return buf;
}

}  // namespace ug
