#!/usr/bin/env bash
# Configures and builds baq-opt, the libraries and the unit tests in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build --target baq-opt BAQUnitTests mlir-doc "$@"
