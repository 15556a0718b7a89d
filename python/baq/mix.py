"""Per-layer mix baseline: every layer uniform, bitwidths chosen per layer under one total
budget (what llama.cpp's K-quant mixes and EXL2 do), so that budgets a single uniform
bitwidth cannot spend (2.47, 3.47 bits per weight) have a fair uniform baseline.

Each layer's loss at each candidate bitwidth is *measured*: ``baq-opt --baq-allocate`` with
``uniform=true`` quantizes the whole FP32-calibrated module once per bitwidth and reports
``tr((W-Q) H (W-Q)^T)`` per layer. Losses of different layers are made comparable by
dividing by the layer's output energy ``tr(W H W^T)`` (its loss with every weight at 0, the
relative output error EXL2 measures). Starting from the widest uniform layout that fits, a
greedy raises, one bit at a time, the layer with the largest decrease of relative loss per
stored bit while the model's total fits.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .budget import BudgetError, LayerShape, layer_bits, parse_allocate_options, scale_bits
from .eval import run_baq_opt


def choose_mix(weights: dict[str, np.ndarray], hessians: dict[str, np.ndarray],
               losses: dict[int, dict[str, float]], target_total: float,
               zero_bits: int = 8) -> dict[str, int]:
    """Bitwidth per layer (``weights`` and ``hessians`` by layer name, ``losses[b][name]``
    the measured loss at b bits) under ``target_total`` stored bits per weight."""
    cands = sorted(losses)
    shapes = {}
    for n, w in weights.items():
        sb = scale_bits(w)
        shapes[n] = LayerShape(int(w.shape[0]), int(w.shape[1]), sb,
                               zero_bits if zero_bits else sb)
    energy = {}
    for n, w in weights.items():
        h = hessians[n].astype(np.float64)
        energy[n] = max(float(np.einsum("ij,jk,ik->", w, h, w)), 1e-300)
    total_w = sum(w.size for w in weights.values())
    budget = math.floor(target_total * total_w + 1e-9)

    def cost(n: str, b: int) -> int:
        return layer_bits(b * shapes[n].n, shapes[n])

    # Start from the widest uniform layout that fits (a mix is never worse than it, as
    # llama.cpp's mixes start from a base type), then raise layers.
    fits = [b for b in cands if sum(cost(n, b) for n in weights) <= budget]
    if not fits:
        spent = sum(cost(n, cands[0]) for n in weights)
        raise BudgetError(f"per-layer mix: {cands[0]} bits everywhere already costs "
                          f"{spent / total_w:.4f} > {target_total:g} bits per weight")
    bits = {n: fits[-1] for n in weights}
    spent = sum(cost(n, b) for n, b in bits.items())
    while True:
        best, best_gain = None, 0.0
        for n, b in bits.items():
            i = cands.index(b)
            if i + 1 == len(cands):
                continue
            nb = cands[i + 1]
            extra = cost(n, nb) - cost(n, b)
            if spent + extra > budget:
                continue
            gain = (losses[b][n] - losses[nb][n]) / energy[n] / extra
            if gain > best_gain:
                best, best_gain = n, gain
        if best is None:
            return bits
        nb = cands[cands.index(bits[best]) + 1]
        spent += cost(best, nb) - cost(best, bits[best])
        bits[best] = nb


def measure_losses(baq_opt: Path, fp32_module: Path, options: str, cands: list[int],
                   work_dir: Path) -> dict[int, dict[str, float]]:
    """``losses[b][name]``: uniform GPTQ at b payload bits on the FP32-calibrated module."""
    out: dict[int, dict[str, float]] = {}
    for b in cands:
        report = work_dir / f"mix-{b}.json"
        run_baq_opt(baq_opt, fp32_module, work_dir / f"mix-{b}.mlir",
                    f"{options} uniform=true budget=payload target-bits={b} "
                    f"report={report} progress=false", work_dir / f"mix-{b}.log", echo=None)
        rep = json.loads(report.read_text())
        out[b] = {m["name"]: m["hessian_loss"] for m in rep["matmuls"]}
    return out


def mix_candidates(target_total: float) -> list[int]:
    lo = max(1, math.floor(target_total) - 1)
    return list(range(lo, min(8, math.floor(target_total) + 2) + 1))


def mix_options(options: str) -> tuple[str, float]:
    """The uniform per-layer options a mix runs with, and the total target they replace."""
    opts = parse_allocate_options(options)
    if opts.get("budget") != "total" or "target-bits" not in opts:
        raise BudgetError("--layer-mix needs --allocate with target-bits=B budget=total")
    keep = [t for t in options.split()
            if t.split("=", 1)[0] not in ("budget", "target-bits", "budget-scope", "uniform")]
    return " ".join(keep + ["uniform=true", "budget=payload"]), float(opts["target-bits"])
