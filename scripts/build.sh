#!/usr/bin/env bash
# Configures (Release) and builds; the packages must be installed (scripts/install-packages.sh).
# Usage: scripts/build.sh [BUILD_DIR [TARGET...]]   (no target: everything, tests included)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
shift || true
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
if [ $# -gt 0 ]; then
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target "$@"
else
  cmake --build "$BUILD_DIR" -j "$(nproc)"
fi
