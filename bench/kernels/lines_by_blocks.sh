#!/bin/bash
# Compiled-code size against model depth: synthetic decoders of B blocks
# (baq-gen-scale-model: one func.func per linear layer, q/k/v/o and SwiGLU
# w1/w2/w3 per block), quantized with --baq-allocate, lowered with
# --baq-lower-cpu with each decode kernel kind; prints the lines of the
# lowered module (LLVM dialect) and the lowering time per (kind, blocks).
#
#   bench/kernels/lines_by_blocks.sh [BUILD_DIR] [BLOCKS...]   (default 2 8)
#
# HIDDEN / FFN (default 64 / 172, stories260K's) set the layer shapes.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
shift || true
BLOCKS=("$@")
[[ ${#BLOCKS[@]} -eq 0 ]] && BLOCKS=(2 8)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %6s %9s %12s %9s\n' kernels blocks matmuls "LLVM lines" "lower s"
for b in "${BLOCKS[@]}"; do
  "$BUILD/bin/baq-gen-scale-model" --blocks "$b" --hidden "${HIDDEN:-64}" \
    --ffn "${FFN:-172}" -o "$WORK/m$b.mlirbc"
  "$BUILD/bin/baq-opt" "$WORK/m$b.mlirbc" --baq-allocate="target-bits=2.47" \
    -o "$WORK/q$b.mlir" 2>/dev/null
  matmuls=$(grep -c "baq.packed_constant" "$WORK/q$b.mlir")
  for kernels in specialized shared; do
    start=$(date +%s.%N)
    "$BUILD/bin/baq-opt" "$WORK/q$b.mlir" \
      --baq-lower-cpu="kernels=$kernels" -o "$WORK/l.mlir"
    end=$(date +%s.%N)
    printf '%-12s %6d %9d %12d %9.2f\n' "$kernels" "$b" "$matmuls" \
      "$(wc -l < "$WORK/l.mlir")" "$(echo "$end - $start" | bc)"
  done
done
