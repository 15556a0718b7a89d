#!/usr/bin/env bash
# Installs dependencies, builds baq-opt and runs the main job on the bundled
# example (examples/model.mlir: one decoder block's linear layers with
# calibration Hessians, plus an lm_head without a Hessian that stays FP32).
# Outputs land in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
mkdir -p out

model=${1:-examples/model.mlir}
echo "== baq-allocate: 2.0 payload bits per weight, exact allocator, GPTQ"
build/bin/baq-opt "$model" \
  --baq-allocate="target-bits=2 report=out/report.json" -o out/model.baq.mlir
/usr/bin/python3 - <<'PY'
import json
r = json.load(open("out/report.json"))
print(f"{'matmul':<10} {'shape':>9} {'payload':>8} {'total':>7} {'ratio_c':>8} {'loss BAQ/uniform':>17}  bits 0..8")
for m in r["matmuls"]:
    ratio = m["hessian_loss"] / m["uniform_hessian_loss"] if m.get("uniform_hessian_loss") else float("nan")
    print(f"{m['name']:<10} {'x'.join(map(str, m['shape'])):>9} {m['bits']['payload']:8.3f} "
          f"{m['bits']['total']:7.3f} {m['ratio_c']:8.3f} {ratio:17.3f}  {m['bits_histogram']}")
t = r["total"]
print(f"module: {t['weights']} weights, {t['payload_bits_per_weight']:.3f} payload / "
      f"{t['total_bits_per_weight']:.3f} total honest bits per weight")
PY

echo
echo "== baq-lower-nvvm (sm_90) and gpu-module-to-binary: PTX"
build/bin/baq-opt out/model.baq.mlir --baq-lower-nvvm="chip=sm_90" -o out/model.nvvm.mlir
build/bin/baq-opt out/model.nvvm.mlir --gpu-module-to-binary="format=isa" -o out/model.ptx.mlir
echo "$(grep -c gpu.launch_func out/model.nvvm.mlir) gpu.launch_func in out/model.nvvm.mlir"
ptxas=/usr/local/cuda/bin/ptxas
if [[ -x $ptxas ]]; then
  echo "== ptxas -arch=sm_90 on every kernel (registers, spills)"
  /usr/bin/python3 test/Conversion/BaqToNVVM/Inputs/ptxas_check.py --ptxas "$ptxas" --arch sm_90 out/model.ptx.mlir
else
  echo "(no ptxas at $ptxas: PTX not assembled)"
fi

echo
echo "== baq-lower-cpu: the same kernels as CPU loops (LLVM dialect, runnable by mlir-runner)"
build/bin/baq-opt out/model.baq.mlir --baq-lower-cpu -o out/model.cpu.mlir
echo "== mlir-runner: each quantized matmul through the CPU kernels against dequantize + plain matmul"
# add_reference.py adds, per layer, a reference function (the packed weight
# dequantized on its own, then linalg.matmul) and a @main comparing both.
/usr/bin/python3 test/Conversion/BaqToCPU/Inputs/add_reference.py <out/model.baq.mlir |
  build/bin/baq-opt --baq-lower-cpu |
  /usr/lib/llvm-22/bin/mlir-runner -e main -entry-point-result=void \
    -shared-libs=/usr/lib/llvm-22/lib/libmlir_runner_utils.so,/usr/lib/llvm-22/lib/libmlir_c_runner_utils.so,/usr/lib/llvm-22/lib/libomp.so |
  paste -d" " - -
echo "wrote out/model.baq.mlir, out/report.json, out/model.nvvm.mlir, out/model.ptx.mlir, out/model.cpu.mlir"
