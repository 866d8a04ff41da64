#!/usr/bin/env bash
# Cross-builds the NEON kernels for aarch64 (tests/neon/CMakeLists.txt) and checks them under
# qemu-user. Exit status: 0 passed, 1 a check or the build failed, 77 skipped (no cross compiler
# or no qemu; the reason is printed).
#
#   tests/neon/run.sh [BUILD_DIR]    default BUILD_DIR: build-neon beside tests/
#   UG_NEON_JOBS=N                   build jobs (default 1)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../../build-neon}
jobs=${UG_NEON_JOBS:-1}
sysroot=/usr/aarch64-linux-gnu

skip() {
  echo "neon check skipped: $*"
  exit 77
}
command -v aarch64-linux-gnu-g++ >/dev/null ||
  skip "aarch64-linux-gnu-g++ not found (Debian package g++-aarch64-linux-gnu)"
qemu_bin=$(command -v qemu-aarch64 || command -v qemu-aarch64-static) ||
  skip "qemu-aarch64 not found (Debian package qemu-user or qemu-user-static)"
[[ -e $sysroot/lib/ld-linux-aarch64.so.1 ]] ||
  skip "no aarch64 C library in $sysroot (Debian package libc6-arm64-cross)"
command -v cmake >/dev/null || skip "cmake not found"

generator=()
if command -v ninja >/dev/null && [[ ! -e $build/CMakeCache.txt ]]; then generator=(-G Ninja); fi
cmake -S "$here" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$here/aarch64.cmake" >/dev/null
cmake --build "$build" -j "$jobs"

qemu=("$qemu_bin" -L "$sysroot")
status=0
run() {
  echo "== $*"
  "$@" || status=1
}
# qemu's default CPU model ("max") has dotprod: the NEON variant is selected and checked.
run "${qemu[@]}" "$build/neon_check"
run "${qemu[@]}" "$build/neon_check_armv8"
# A Cortex-A53 has no dotprod: the variant must be refused (and the program must still run).
run "${qemu[@]}" -cpu cortex-a53 "$build/neon_check_armv8" --no-dotprod
if ((status == 0)); then echo "neon check passed"; else echo "neon check FAILED"; fi
exit $status
