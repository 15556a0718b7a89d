#!/usr/bin/env bash
# Installs everything the build, the tests, the benchmarks and the Python
# package need, from Debian's archive. Idempotent; run as root (or via sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build git
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools libomp-22-dev
  libopenblas-dev liblapacke-dev libgtest-dev
  python3 python3-numpy python3-matplotlib python3-pytest python3-threadpoolctl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
