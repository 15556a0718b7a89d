#!/bin/bash
# Compiled code against model depth for whole models: baq.export_model's
# synthetic decoder (dim 16, hidden 40, 4/2 heads, vocabulary 320, context
# 64, prefill 32) with B identical-shape blocks, quantized with
# --baq-allocate (target-bits 2.47), then per kernel kind: lines after
# --baq-build-kernels and after --baq-lower-cpu (LLVM dialect), and the
# lowering time.
#
#   bench/kernels/lines_by_depth.sh [BUILD_DIR] [BLOCKS...]   (default 2 32)
#
# KINDS (default "specialized shared").
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
shift || true
BLOCKS=("$@")
[[ ${#BLOCKS[@]} -eq 0 ]] && BLOCKS=(2 32)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %6s %9s %14s %12s %9s\n' kernels blocks matmuls "kernels lines" "LLVM lines" "lower s"
for b in "${BLOCKS[@]}"; do
  PYTHONPATH="$ROOT/python" /usr/bin/python3 - "$b" "$WORK/m$b.mlir" <<'PY'
import dataclasses, sys
import baq.export_model as em
em.SYNTHETIC_CONFIG = dataclasses.replace(em.SYNTHETIC_CONFIG, n_layers=int(sys.argv[1]))
sys.exit(em.main(["--emit", "synthetic", "-q", "-o", sys.argv[2]]))
PY
  "$BUILD/bin/baq-opt" "$WORK/m$b.mlir" \
    --baq-allocate="target-bits=2.47 budget=total" -o "$WORK/q$b.mlir" 2>/dev/null
  matmuls=$(grep -c "baq.packed_constant" "$WORK/q$b.mlir")
  for kernels in ${KINDS:-specialized shared}; do
    built=$("$BUILD/bin/baq-opt" "$WORK/q$b.mlir" \
      --baq-build-kernels="kernels=$kernels" | wc -l)
    start=$(date +%s.%N)
    "$BUILD/bin/baq-opt" "$WORK/q$b.mlir" \
      --baq-lower-cpu="kernels=$kernels" -o "$WORK/l.mlir"
    end=$(date +%s.%N)
    printf '%-12s %6d %9d %14d %12d %9.2f\n' "$kernels" "$b" "$matmuls" \
      "$built" "$(wc -l < "$WORK/l.mlir")" "$(echo "$end - $start" | bc)"
  done
done
