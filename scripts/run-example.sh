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
echo "wrote out/model.baq.mlir and out/report.json"
