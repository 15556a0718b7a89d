#!/bin/bash
# Shared vs specialised decode kernels, side by side in one process
# (cpu_shared_bench.cpp): for each shape, one gen_gemv.py problem (mixed
# ~AVG-bit layout, 1 and 8 activation rows) lowered with both kernel kinds,
# compiled AOT (baq-opt --baq-lower-cpu=c-interface, mlir-translate,
# llc -O3 -mcpu=native) into one binary; calls alternate between the kinds.
#
#   bench/kernels/run_shared_bench.sh [BUILD_DIR] [REPS]
#
# SHAPES (default "1024x1024 2816x1024 4096x4096", M x N = outputs x inputs),
# ROWS (default 1,8: decode kernels; 32: the tiled kernel), AVG (default 2.5),
# THREADS (default "1 2"), LOWER (extra --baq-lower-cpu options for both
# kinds).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
REPS="${2:-30}"
LLVM=/usr/lib/llvm-22/bin
export OMP_PROC_BIND="${OMP_PROC_BIND:-true}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M'); load: $(cut -d' ' -f1-3 /proc/loadavg); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; OMP_PROC_BIND=$OMP_PROC_BIND"
for shape in ${SHAPES:-1024x1024 2816x1024 4096x4096}; do
  m=${shape%x*}
  n=${shape#*x}
  echo
  echo "== M=$m N=$n: $(/usr/bin/python3 "$HERE/gen_gemv.py" --m "$m" --n "$n" \
    --avg "${AVG:-2.5}" --rows "${ROWS:-1,8}" -o "$WORK/g.mlir" --weights "$WORK/w.f32")"
  objs=()
  for kernels in specialized shared; do
    prefix=${kernels%ialized}
    sed "s/@gemv_r/@${prefix}_gemv_r/" "$WORK/g.mlir" > "$WORK/$prefix.mlir"
    "$BUILD/bin/baq-opt" "$WORK/$prefix.mlir" \
      --baq-lower-cpu="c-interface kernels=$kernels ${LOWER:-}" \
      -o "$WORK/$prefix.llvm.mlir"
    "$LLVM/mlir-translate" --mlir-to-llvmir "$WORK/$prefix.llvm.mlir" \
      -o "$WORK/$prefix.ll"
    "$LLVM/llc" -O3 -mcpu=native -relocation-model=pic -filetype=obj \
      "$WORK/$prefix.ll" -o "$WORK/$prefix.o"
    echo "$kernels: $(wc -l < "$WORK/$prefix.llvm.mlir") lines of LLVM dialect"
    objs+=("$WORK/$prefix.o")
  done
  c++ -O2 -rdynamic -o "$WORK/bench" "$HERE/cpu_shared_bench.cpp" "${objs[@]}" \
    -I/usr/include/x86_64-linux-gnu -lopenblas \
    -L/usr/lib/llvm-22/lib -Wl,-rpath,/usr/lib/llvm-22/lib -lomp
  # shellcheck disable=SC2086
  "$WORK/bench" "$WORK/w.f32" "$m" "$n" "$REPS" "${ROWS:-1,8}" ${THREADS:-1 2}
done
