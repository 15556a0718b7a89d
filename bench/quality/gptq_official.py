#!/usr/bin/env python3
"""The official GPTQ code's protocol, ported to numpy, against ``baq.quantize`` on stories260K.

A faithful port of the parts of IST-DASLab/gptq (commit 2d65066) that decide a 2-bit
uniform result, so that the official number can be reproduced without PyTorch and
compared with our driver window for window:

* ``datautils.get_wikitext2``: ``nsamples`` windows of ``seqlen`` tokens at offsets
  ``random.randint(0, len - seqlen - 1)`` after ``random.seed(seed)`` (Python's Mersenne
  Twister; overlapping allowed, not aligned to anything): ``baq.export.gptq_windows``,
  the driver's ``--window-sampling gptq`` (python/tests/test_quantize.py checks it against
  those lines);
* ``gptq.GPTQ.add_batch`` (float32, running mean over windows), ``fasterquant``
  (``percdamp`` * mean diag, dead columns, Cholesky of the inverse, lazy blocks of 128,
  float32) and ``quant.Quantizer`` (per-row asymmetric min-max grid, float32 scale,
  integer zero, ``mse=False``) -> :class:`OfficialGptq`;
* ``llama.llama_sequential`` without ``--true-sequential``: every sublayer of block b is
  calibrated from one forward pass of the block with its FP weights on the outputs of
  blocks 0..b-1 already quantized, then the quantized block's outputs feed block b+1 ->
  :func:`official_sequential`;
* ``llama.llama_eval``: ``numel // seqlen`` windows, the tail dropped ->
  ``--eval official`` (on our token stream: each story ``[BOS] + encode(story)``).

``--grid f16`` rounds the range and minimum to f16 before forming the grid, as the packed
format stores them (FORMAT.md §4), so that the port and ``baq-opt`` use the same grid.

Each seed runs the port and (with ``--baq-opt``) ``baq.quantize``'s sequential
calibration with uniform GPTQ on the *same* windows (``--window-sampling``: the official
draw, or the driver's default slots). Prints one table, side by side.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=python python3 bench/quality/gptq_official.py \\
        --data ../shared/data --seeds 0 1 2 --baq-opt build/bin/baq-opt
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from baq.eval import evaluate_module
from baq.export import WINDOW_SAMPLINGS
from baq.llama2c import Transformer, load_model, perplexity, token_stream
from baq.quantize import quantize_model

ORDER = ("wq", "wk", "wv", "wo", "w1", "w3", "w2")
F32 = np.float32


def minmax_grid(w: np.ndarray, maxq: int, f16: bool) -> tuple[np.ndarray, np.ndarray]:
    """``Quantizer.find_params(W, weight=True)``, perchannel, asymmetric, mse=False:
    per-row (scale, integer zero). ``f16``: range and minimum rounded to f16 first."""
    xmin = np.minimum(w.min(1), F32(0))
    xmax = np.maximum(w.max(1), F32(0))
    both = (xmin == 0) & (xmax == 0)
    xmin[both], xmax[both] = F32(-1), F32(1)
    if f16:
        rng = (xmax - xmin).astype(np.float16).astype(F32)
        scale = rng / F32(maxq)
        zero = np.clip(np.round(-xmin.astype(np.float16).astype(F32) / scale), 0, maxq)
    else:
        scale = (xmax - xmin) / F32(maxq)
        zero = np.round(-xmin / scale)
    return scale.astype(F32), zero.astype(F32)


def quantize(x: np.ndarray, scale: np.ndarray, zero: np.ndarray, maxq: int) -> np.ndarray:
    q = np.clip(np.round(x / scale) + zero, 0, maxq)
    return (scale * (q - zero)).astype(F32)


class OfficialGptq:
    """``gptq.GPTQ`` for one linear layer (``[out, in]`` weight)."""

    def __init__(self, weight: np.ndarray):
        self.w = np.asarray(weight, dtype=F32)
        self.H = np.zeros((self.w.shape[1],) * 2, dtype=F32)
        self.nsamples = 0

    def add_batch(self, inp: np.ndarray) -> None:
        """One window's ``[seqlen, in]`` input (the official loop feeds windows one by one,
        so ``tmp`` = 1 and H is the mean over windows of 2 X^T X)."""
        self.H *= F32(self.nsamples / (self.nsamples + 1))
        self.nsamples += 1
        x = (F32(np.sqrt(2 / self.nsamples)) * inp.astype(F32)).T
        self.H += x @ x.T

    def fasterquant(self, wbits: int, blocksize: int = 128, percdamp: float = 0.01,
                    f16_grid: bool = False) -> np.ndarray:
        W = self.w.copy()
        maxq = 2**wbits - 1
        scale, zero = minmax_grid(W, maxq, f16_grid)  # before dead columns, as upstream
        scale, zero = scale[:, None], zero[:, None]
        H = self.H.copy()
        dead = np.diag(H) == 0
        H[dead, dead] = 1
        W[:, dead] = 0
        cols = W.shape[1]
        H[np.arange(cols), np.arange(cols)] += F32(percdamp) * np.mean(np.diag(H))
        L = np.linalg.cholesky(H)
        Linv = np.linalg.inv(L).astype(F32)
        Hinv = np.linalg.cholesky(Linv.T @ Linv).T.astype(F32)  # upper: Hinv = U^T U
        Q = np.zeros_like(W)
        for i1 in range(0, cols, blocksize):
            i2 = min(i1 + blocksize, cols)
            W1 = W[:, i1:i2].copy()
            Err1 = np.zeros_like(W1)
            Hinv1 = Hinv[i1:i2, i1:i2]
            for i in range(i2 - i1):
                w = W1[:, i]
                d = Hinv1[i, i]
                q = quantize(w[:, None], scale, zero, maxq)[:, 0]
                Q[:, i1 + i] = q
                err1 = (w - q) / d
                W1[:, i:] -= np.outer(err1, Hinv1[i, i:])
                Err1[:, i] = err1
            W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]
        return Q


def official_sequential(ckpt, windows: list[np.ndarray], wbits: int, f16_grid: bool,
                        batch: int = 8) -> dict[str, np.ndarray]:
    """``llama_sequential`` without ``--true-sequential``: quantized weights by layer name."""
    model = Transformer(ckpt)
    T = len(windows[0])
    xs = [model.embed(np.stack(windows[s:s + batch])) for s in range(0, len(windows), batch)]
    out: dict[str, np.ndarray] = {}
    for l in range(ckpt.config.n_layers):
        gptq = {k: OfficialGptq(ckpt.linear(f"blk{l}_{k}")) for k in ORDER}

        def hook(name: str, x: np.ndarray) -> None:
            for s in range(0, len(x), T):  # window by window, in draw order
                gptq[name.split("_", 1)[1]].add_batch(x[s:s + T])

        for x in xs:  # every hook sees the block's FP weights (one forward)
            model.block(l, x, hook)
        for k in ORDER:
            q = gptq[k].fasterquant(wbits, f16_grid=f16_grid)
            model.set_linear(f"blk{l}_{k}", q)
            out[f"blk{l}_{k}"] = q
        xs = [model.block(l, x) for x in xs]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--nsamples", type=int, default=128)
    ap.add_argument("--seqlen", type=int, default=512)
    ap.add_argument("--wbits", type=int, default=2)
    ap.add_argument("--grid", choices=("f32", "f16"), default="f32",
                    help="the port's grid: the official float32 one or the packed f16 one")
    ap.add_argument("--window-sampling", choices=tuple(WINDOW_SAMPLINGS), default="gptq")
    ap.add_argument("--eval", choices=("baq", "official"), default="baq",
                    help="baq.eval's protocol (every 512-window, tail kept) or llama_eval's "
                         "(numel // seqlen windows)")
    ap.add_argument("--baq-opt", type=Path, help="also run baq.quantize on the same windows")
    ap.add_argument("--allocate", default="target-bits=2 budget=payload quantizer=gptq "
                    "uniform=true mse-grid=false zero-type=auto act-order=false")
    ap.add_argument("--json", type=Path, help="write the rows here")
    a = ap.parse_args(argv)

    ckpt, tok = load_model(a.data / "stories260K.bin", a.data / "tok512.bin")
    calib = token_stream((a.data / "tinystories-calib.txt").read_text(encoding="utf-8"), tok)
    dev = token_stream((a.data / "tinystories-dev.txt").read_text(encoding="utf-8"), tok)
    if a.eval == "official":
        dev = dev[:len(dev) // a.seqlen * a.seqlen]

    def ppl(weights: dict[str, np.ndarray]) -> float:
        return perplexity(Transformer(ckpt, weights), dev, a.seqlen, 8).perplexity

    rows = []
    print(f"| seed | windows | port ({a.grid} grid) | baq.quantize sequential | "
          f"driver / port |", flush=True)
    print("|---:|---|---:|---:|---:|", flush=True)
    for seed in a.seeds:
        wins = WINDOW_SAMPLINGS[a.window_sampling](calib, a.seqlen, a.nsamples, seed)
        t0 = time.time()
        port = ppl(official_sequential(ckpt, wins, a.wbits, a.grid == "f16"))
        t_port = time.time() - t0
        row = {"seed": seed, "windows": a.window_sampling, "grid": a.grid, "eval": a.eval,
               "port": port, "port_s": t_port}
        if a.baq_opt:
            with tempfile.TemporaryDirectory(prefix="gptq-official-") as tmp:
                out = Path(tmp) / "q.mlir"
                quantize_model(ckpt, wins, "sequential", a.baq_opt, a.allocate, out,
                               Path(tmp))
                drv = evaluate_module(ckpt, dev, out, a.seqlen)["perplexity"]
            row["driver"] = drv
        rows.append(row)
        d = row.get("driver")
        print(f"| {seed} | {a.window_sampling} | {port:.1f} | "
              f"{'-' if d is None else f'{d:.1f}'} | "
              f"{'-' if d is None else f'{d / port:.3f}'} |", flush=True)

    def summary(key: str) -> str:
        v = [r[key] for r in rows if key in r]
        return f"{np.mean(v):.1f} ({min(v):.1f}–{max(v):.1f})" if v else "-"

    print(f"| mean (min–max) | | {summary('port')} | {summary('driver')} | |")
    if a.json:
        a.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(a).items()},
                                      "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
