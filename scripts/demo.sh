#!/usr/bin/env bash
# Installs what building needs, builds the unigemma binary alone (no tests, no benchmarks), then
# generates text. With no model given it writes a small random-weight demo model (real Gemma 4
# vocabulary and layout, random weights: the text is gibberish) and runs it; give a GGUF file, an
# HF folder, hf://ORG/NAME[:QUANT] (downloaded) or an Ollama model name to run real weights.
# Usage: scripts/demo.sh [MODEL [PROMPT]]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh --build
scripts/build.sh build unigemma
MODEL=${1:-}
PROMPT=${2:-"Write a haiku about the sea."}
ARGS=()
if [ -z "$MODEL" ]; then
  if [ ! -f models/demo/model.gguf ]; then
    mkdir -p models/demo
    ./build/unigemma make-test-model --size tiny --format gguf --type q8_0 --seed 1 \
      --out models/demo/model
  fi
  MODEL=models/demo/model.gguf
  ARGS+=(--mmproj models/demo/model-mmproj.gguf)
  echo "(no model given: running the random-weight demo model $MODEL)" >&2
fi
./build/unigemma info "$MODEL" | head -20
exec ./build/unigemma run -m "$MODEL" "${ARGS[@]}" -p "$PROMPT" -n 48
