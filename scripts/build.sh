#!/usr/bin/env bash
# Configures and builds everything (baq-opt, BaqPlugin, libraries, unit tests,
# benchmark tools) plus the ODS-generated docs in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build "$@"
cmake --build build --target mlir-doc "$@"
