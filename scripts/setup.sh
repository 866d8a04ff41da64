#!/usr/bin/env bash
# Installs every Debian and npm package unigemma needs, then configures and builds everything
# (the binary, every test and the benchmarks) in Release.
# Usage: scripts/setup.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh
scripts/build.sh "${1:-build}"
