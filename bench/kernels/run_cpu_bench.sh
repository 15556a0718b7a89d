#!/bin/bash
# CPU benchmark of the BAQ decode kernel: a 4096 x 4096 mixed ~2-bit weight,
# 1 and 8 activation rows, against OpenBLAS fp32 sgemv/sgemm on the same data.
#
#   bench/kernels/run_cpu_bench.sh [BUILD_DIR] [--bits-from allocated.mlir] [REPS]
#
# KERNELS (default "specialized shared") and UNPACKS (default "convert magic")
# choose the decode kernel kinds and unpackings, all built and timed in one run.
#
# The kernel is compiled ahead of time: baq-opt --baq-lower-cpu (with C
# wrappers) -> mlir-translate -> llc -O3 -mcpu=native -> linked with
# cpu_gemv_bench.cpp, OpenBLAS and libomp (the kernels' parallel loops). Each
# kernel is timed with 1 thread and with OMP_NUM_THREADS (default: all cores),
# OpenBLAS with 1 and its default thread count, in the same run.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
shift || true
BITS_FROM=()
if [[ "${1:-}" == "--bits-from" ]]; then
  BITS_FROM=(--bits-from "$2")
  shift 2
fi
REPS="${1:-50}"
LLVM=/usr/lib/llvm-22/bin
# Without binding, libomp's two threads often share a core on this VM and the
# 1-row kernel runs slower on 2 threads than on 1 (measured 0.72-0.82x).
export OMP_PROC_BIND="${OMP_PROC_BIND:-true}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

/usr/bin/python3 "$HERE/gen_gemv.py" --m 4096 --n 4096 --avg 2 --rows 1,8 \
  "${BITS_FROM[@]}" -o "$WORK/gemv.mlir" --weights "$WORK/w.f32"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(date -u +%Y-%m-%d); load: $(cut -d' ' -f1-3 /proc/loadavg); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; OMP_PROC_BIND=$OMP_PROC_BIND"
# Both unpack kinds in one run: integer-to-float conversion, and the 2^23
# mantissa trick whose (w >> s) & mask | magic LLVM fuses into one AVX-512
# vpternlogd.
for kernels in ${KERNELS:-specialized shared}; do
for unpack in ${UNPACKS:-convert magic}; do
  "$BUILD/bin/baq-opt" "$WORK/gemv.mlir" --baq-lower-cpu="c-interface unpack=$unpack kernels=$kernels" -o "$WORK/gemv.llvm.mlir"
  "$LLVM/mlir-translate" --mlir-to-llvmir "$WORK/gemv.llvm.mlir" -o "$WORK/gemv.ll"
  "$LLVM/llc" -O3 -mcpu=native -relocation-model=pic -filetype=obj "$WORK/gemv.ll" -o "$WORK/gemv.o"
  c++ -O2 -o "$WORK/bench" "$HERE/cpu_gemv_bench.cpp" "$WORK/gemv.o" \
    -I/usr/include/x86_64-linux-gnu -lopenblas \
    -L/usr/lib/llvm-22/lib -Wl,-rpath,/usr/lib/llvm-22/lib -lomp
  echo
  echo "== kernels=$kernels unpack=$unpack: $(wc -l < "$WORK/gemv.llvm.mlir") lines of LLVM dialect, $(objdump -d "$WORK/gemv.o" | grep -c vpternlog || true) vpternlog, $(objdump -d "$WORK/gemv.o" | grep -c vcvtdq2ps || true) vcvtdq2ps in the kernels"
  "$WORK/bench" "$WORK/w.f32" 4096 4096 "$REPS"
done
done
