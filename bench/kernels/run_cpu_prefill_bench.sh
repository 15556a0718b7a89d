#!/bin/bash
# CPU benchmark of the tiled (prefill) kernel: 32 activation rows through a
# packed mixed ~2.5-bit weight at the synthetic model's shapes (dim 1024,
# hidden 2816), against OpenBLAS sgemm on the dequantized fp32 weight, 1 and 2
# threads, runs alternated, with OPENBLAS_CORETYPE unset and Haswell.
#
#   bench/kernels/run_cpu_prefill_bench.sh [BUILD_DIR] [REPS] [ROWS]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
REPS="${2:-20}"
ROWS="${3:-32}"
LLVM=/usr/lib/llvm-22/bin
export OMP_PROC_BIND="${OMP_PROC_BIND:-true}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC'); OMP_PROC_BIND=$OMP_PROC_BIND; baq-opt at $(git -C "$ROOT" rev-parse --short HEAD)"
for shape in 1024x1024 2816x1024 1024x2816; do
  m="${shape%x*}" n="${shape#*x}"
  /usr/bin/python3 "$HERE/gen_gemv.py" --m "$m" --n "$n" --avg 2.5 \
    --rows "$ROWS" -o "$WORK/k.mlir" --weights "$WORK/w.f32"
  "$BUILD/bin/baq-opt" "$WORK/k.mlir" --baq-lower-cpu="c-interface" \
    -o "$WORK/k.llvm.mlir"
  "$LLVM/mlir-translate" --mlir-to-llvmir "$WORK/k.llvm.mlir" -o "$WORK/k.ll"
  "$LLVM/llc" -O3 -mcpu=native -relocation-model=pic -filetype=obj \
    "$WORK/k.ll" -o "$WORK/k.o"
  c++ -O2 -DBAQ_ROWS="$ROWS" -o "$WORK/bench" "$HERE/cpu_prefill_bench.cpp" \
    "$WORK/k.o" -I/usr/include/x86_64-linux-gnu -lopenblas \
    -L/usr/lib/llvm-22/lib -Wl,-rpath,/usr/lib/llvm-22/lib -lomp
  for core in unset Haswell; do
    echo "== M x N = $shape, OPENBLAS_CORETYPE=$core, load $(cut -d' ' -f1-3 /proc/loadavg)"
    if [[ $core == unset ]]; then
      env -u OPENBLAS_CORETYPE "$WORK/bench" "$WORK/w.f32" "$m" "$n" "$REPS"
    else
      OPENBLAS_CORETYPE=$core "$WORK/bench" "$WORK/w.f32" "$m" "$n" "$REPS"
    fi
  done
done
