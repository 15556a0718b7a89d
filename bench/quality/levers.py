#!/usr/bin/env python3
"""What each --baq-allocate lever buys, in measured layer loss, at equal payload.

Runs baq-opt on modules with Hessians (an FP32-calibrated export of a real model, and/or
synthetic layers whose column sensitivities vary as a real LLM's: gen_synthetic.py with
outlier channels) once per configuration, reads each report's measured
``tr((W-Q) H (W-Q)^T)`` per layer, and prints, per configuration, the geometric mean (and
min-max) over layers of its loss relative to a reference configuration, plus the share of
layers where the paper's predicted loss is below the measured one and by how much.

    bench/quality/levers.py --baq-opt build/bin/baq-opt --bits 2 \\
        --module out/stories260K.fp32.mlir --synthetic 4
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OLD_UNIFORM = "uniform=true act-order=false grid-weight=none refine=0"
CONFIGS = [
    ("uniform GPTQ (natural order, GPTQ's grid)", OLD_UNIFORM),
    ("uniform GPTQ + act-order", "uniform=true act-order=true grid-weight=none refine=0"),
    ("uniform GPTQ + act-order + Hessian-weighted grid", "uniform=true refine=0"),
    ("  + refinement (uniform default)", "uniform=true"),
    ("BAQ, previous defaults (paper loss, GPTQ's grid, natural order)",
     "loss-model=paper grid-weight=none act-order=false guard=false refine=0"),
    ("  + act-order", "loss-model=paper grid-weight=none guard=false refine=0"),
    ("  + Hessian-weighted grid", "loss-model=paper guard=false refine=0"),
    ("  + measured loss table", "guard=false refine=0"),
    ("  + guard", "refine=0"),
    ("  + refinement (BAQ default)", ""),
]
REFERENCE = 1  # uniform GPTQ + act-order: the best uniform configuration before


def run(baq_opt: str, module: Path, options: str, bits: float, work: Path, tag: str) -> dict:
    report = work / f"{tag}.json"
    cmd = [baq_opt, f"--baq-allocate=target-bits={bits} budget=payload {options} "
           f"report={report} progress=false", str(module), "-o", "/dev/null"]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    return {m["name"]: m for m in json.loads(report.read_text())["matmuls"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baq-opt", default=str(ROOT / "build/bin/baq-opt"))
    ap.add_argument("--module", action="append", default=[], type=Path,
                    help="module with baq.hessian attributes (repeatable)")
    ap.add_argument("--synthetic", type=int, default=0,
                    help="also N synthetic modules (seeds 0..N-1) of heavy-tailed layers")
    ap.add_argument("--bits", type=float, default=2.0, help="payload bits per weight (2)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sets: dict[str, list[Path]] = {}
        for m in a.module:
            sets[m.stem] = [m]
        if a.synthetic:
            paths = []
            for s in range(a.synthetic):
                p = work / f"syn{s}.mlir"
                subprocess.run([sys.executable, str(ROOT / "scripts/gen_synthetic.py"),
                                "--layer", "q:256x256", "--layer", "w2:256x688",
                                "--outliers", "8", "--seed", str(s), "-o", str(p)], check=True)
                paths.append(p)
            sets["synthetic (heavy-tailed)"] = paths
        for name, modules in sets.items():
            results = []
            for ci, (_, opts) in enumerate(CONFIGS):
                merged = {}
                for mi, mod in enumerate(modules):
                    for k, v in run(a.baq_opt, mod, opts, a.bits, work, f"c{ci}m{mi}").items():
                        merged[f"{mi}:{k}"] = v
                results.append(merged)
            ref = results[REFERENCE]
            print(f"\n{name}: {len(ref)} layers, {a.bits:g} payload bits/weight; loss relative "
                  f"to '{CONFIGS[REFERENCE][0]}'")
            print(f"| configuration | geo-mean | min | max |\n|---|---:|---:|---:|")
            for (label, _), res in zip(CONFIGS, results):
                r = np.array([res[k]["hessian_loss"] / ref[k]["hessian_loss"] for k in ref])
                print(f"| {label} | {np.exp(np.log(r).mean()):.3f} | {r.min():.3f} | "
                      f"{r.max():.3f} |")
            old = results[3]
            pm = np.array([old[k]["predicted_loss"] / old[k]["hessian_loss"] for k in ref])
            print(f"previous BAQ default: predicted / measured loss per layer: geo-mean "
                  f"{np.exp(np.log(pm).mean()):.3f}, min {pm.min():.3f}, max {pm.max():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
