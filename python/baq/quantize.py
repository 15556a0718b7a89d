"""baq-quantize: calibrate and quantize a llama2.c model block by block (GPTQ protocol).

``--calibration`` chooses where each layer's Hessian ``H = 2/n sum x x^T`` comes from:

* ``fp32``: one full-precision forward pass (what ``baq-export`` writes), all layers
  quantized by one ``baq-opt`` run;
* ``sequential`` (GPTQ ``llama.py``): block b's Hessians are taken from the outputs of blocks
  0..b-1 *already quantized*; the block's seven layers are quantized by one ``baq-opt`` run
  and the block's quantized output becomes the next block's input;
* ``true-sequential`` (GPTQ ``--true-sequential``): additionally, inside a block the
  sublayer groups q/k/v, o, w1/w3, w2 are quantized in that order, each group's Hessian
  taken with the earlier groups of the block already quantized.

Every quantization step is ``baq-opt --baq-allocate=<--allocate>`` on a module holding just
that step's layers; its packed result is decoded by the independent reader
(:mod:`baq.packed`) and fed forward. The output is one module: the ``baq-export``-format
module holding the Hessians actually used, quantized by a single final ``baq-opt`` run with
the same options, checked to reproduce the fed-forward weights exactly.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .budget import parse_allocate_options, pooled_options
from .cli import ArgumentParser, run
from .eval import BaqOptError, first_diagnostic, run_baq_opt
from .export import (WINDOW_SAMPLINGS, CalibrationError, HessianAccumulator, build_module,
                     calibration_stream, collect_hessians, hessian_key)
from .llama2c import Checkpoint, Tokenizer, Transformer, read_checkpoint
from .importance import importance_options
from .mix import choose_mix, measure_losses, mix_candidates, mix_options
from .mlir import ModuleWriter
from .packed import read_module

CALIBRATIONS = ("fp32", "sequential", "true-sequential")
# The mode measured best on stories260K (docs/RESULTS.md, baq.results).
DEFAULT_CALIBRATION = "true-sequential"
# true-sequential order inside a block: each group reads the outputs of the previous ones.
GROUPS: tuple[tuple[str, ...], ...] = (("wq", "wk", "wv"), ("wo",), ("w1", "w3"), ("w2",))

# (layer names, Hessians by blob key) -> dequantized [out, in] weights by layer name
QuantizeFn = Callable[[list[str], dict[str, np.ndarray]], dict[str, np.ndarray]]
ProgressFn = Callable[[str], None]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def calibrate(ckpt: Checkpoint, windows: Sequence[np.ndarray], mode: str,
              quantize: QuantizeFn | None, batch: int = 8,
              progress: ProgressFn | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Hessians (by blob key, float64) under ``mode`` and, for the sequential modes, the
    quantized weights that were fed forward (by layer name; empty for ``fp32``, whose layers
    do not depend on each other's quantization)."""
    if mode not in CALIBRATIONS:
        raise CalibrationError(f"unknown calibration mode {mode!r} (one of {CALIBRATIONS})")
    if not windows:
        raise CalibrationError("no calibration windows")
    if mode == "fp32":
        return collect_hessians(ckpt, list(windows), batch), {}
    if quantize is None:
        raise CalibrationError(f"{mode} calibration needs a quantizer")
    cfg = ckpt.config
    model = Transformer(ckpt)
    xs = [model.embed(np.stack(windows[s:s + batch])) for s in range(0, len(windows), batch)]
    groups = GROUPS if mode == "true-sequential" else (tuple(k for g in GROUPS for k in g),)
    hessians: dict[str, np.ndarray] = {}
    fed: dict[str, np.ndarray] = {}
    t_start = time.time()
    for l in range(cfg.n_layers):
        t_block, t_h, t_q = time.time(), 0.0, 0.0
        for g in groups:
            names = [f"blk{l}_{k}" for k in g]
            acc = HessianAccumulator()
            wanted = set(names)

            def hook(name: str, x: np.ndarray) -> None:
                if name in wanted:
                    acc(name, x)

            # The last group needs the whole block; earlier ones stop after their sublayer.
            stop = g[-1] if len(groups) > 1 and g != groups[-1] else None
            t0 = time.time()
            for x in xs:
                model.block(l, x, hook, stop_after=stop)
            h = acc.hessians()
            t_h += time.time() - t0
            t0 = time.time()
            q = quantize(names, h)
            t_q += time.time() - t0
            for n in names:
                model.set_linear(n, q[n])
                fed[n] = q[n]
            hessians.update(h)
        t0 = time.time()
        xs = [model.block(l, x) for x in xs]
        if progress:
            progress(f"block {l + 1}/{cfg.n_layers} ({mode}): {time.time() - t_block:.1f} s "
                     f"(Hessians {t_h:.1f} s, baq-opt {t_q:.1f} s in {len(groups)} "
                     f"call{'s' if len(groups) > 1 else ''}, forward {time.time() - t0:.1f} s); "
                     f"elapsed {time.time() - t_start:.1f} s")
    return hessians, fed


_REPORT_RE = re.compile(r"(?:^|\s)report=(?:\"[^\"]*\"|'[^']*'|\{[^}]*\}|\S*)")


def strip_report(options: str) -> str:
    """``--baq-allocate`` options without ``report=...`` (only the final run writes it)."""
    return " ".join(_REPORT_RE.sub(" ", options).split())


class BaqOptQuantizer:
    """QuantizeFn running ``baq-opt --baq-allocate`` on a module of just the given layers."""

    def __init__(self, ckpt: Checkpoint, baq_opt: Path, options: str, work_dir: Path,
                 targets: dict[str, float] | None = None):
        self.ckpt, self.baq_opt, self.work_dir = ckpt, baq_opt, work_dir
        self.options = strip_report(options)
        self.targets = targets or {}
        self.calls = 0

    def __call__(self, names: list[str], hessians: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.calls += 1
        stem = self.work_dir / f"step{self.calls:03d}-{names[0]}"
        w = ModuleWriter()
        for n in names:
            key = hessian_key(n)
            w.add_linear(n, self.ckpt.linear(n), key, hessians[key], self.targets.get(n))
        src, out = stem.with_suffix(".mlir"), Path(f"{stem}.q.mlir")
        src.write_text(w.text())
        run_baq_opt(self.baq_opt, src, out, self.options, Path(f"{stem}.log"), echo=None)
        got = read_module(out)
        bad = [n for n in names if n not in got or got[n].layout is None]
        if bad:
            raise BaqOptError(f"baq-opt left {', '.join(bad)} unquantized (log {stem}.log)")
        return {n: got[n].weight for n in names}


def check_baq_opt(baq_opt: Path, options: str, work_dir: Path) -> None:
    """Fail fast on a missing tool or options the pass rejects (an empty module suffices)."""
    if not baq_opt.is_file():
        raise BaqOptError(f"baq-opt not found at {baq_opt} (build it: cmake --build build)")
    src = work_dir / "empty.mlir"
    src.write_text("module {}\n")
    try:
        p = subprocess.run([str(baq_opt), f"--baq-allocate={strip_report(options)}", str(src),
                            "-o", str(work_dir / "empty.q.mlir")],
                           capture_output=True, text=True)
    except OSError as e:
        raise BaqOptError(f"cannot run {baq_opt}: {e.strerror or e}") from e
    if p.returncode != 0:
        raise BaqOptError(f"--allocate {options!r} rejected by baq-opt (exit {p.returncode}): "
                          f"{first_diagnostic(p.stderr)}")


def choose_layer_mix(ckpt: Checkpoint, windows: Sequence[np.ndarray], baq_opt: Path,
                     options: str, weights: dict[str, np.ndarray], work_dir: Path, batch: int,
                     progress: ProgressFn | None) -> tuple[str, dict[str, float]]:
    """The per-layer mix baseline (``baq.mix``): bitwidths per layer from losses measured on
    FP32 Hessians of the same windows; returns the uniform options and per-layer targets."""
    uniform_opts, total = mix_options(options)
    fp32 = collect_hessians(ckpt, list(windows), batch)
    fp32_path = work_dir / "mix-fp32.mlir"
    fp32_path.write_text(build_module(ckpt, fp32))
    losses = measure_losses(baq_opt, fp32_path, strip_report(uniform_opts),
                            mix_candidates(total), work_dir)
    zero_bits = 8 if parse_allocate_options(options).get("zero-type", "u8") == "u8" else 0
    bits = choose_mix(weights, {n: fp32[hessian_key(n)] for n in weights}, losses, total,
                      zero_bits)
    if progress:
        hist = {b: sum(1 for v in bits.values() if v == b) for b in sorted(set(bits.values()))}
        progress(f"per-layer mix at {total:g} total bits: layers per bitwidth {hist}")
    return uniform_opts, {n: float(b) for n, b in bits.items()}


def quantize_model(ckpt: Checkpoint, windows: Sequence[np.ndarray], mode: str, baq_opt: Path,
                   options: str, output: Path, work_dir: Path, batch: int = 8,
                   progress: ProgressFn | None = None,
                   save_calibrated: Path | None = None, layer_mix: bool = False,
                   importance_windows: int = 16) -> dict:
    """The whole driver (see the module docstring); returns timings and call counts."""
    t0 = time.time()
    check_baq_opt(baq_opt, options, work_dir)
    names = [f"blk{l}_{k}" for l in range(ckpt.config.n_layers) for g in GROUPS for k in g]
    weights = {n: ckpt.linear(n) for n in names}
    targets: dict[str, float] | None = None
    if layer_mix:
        options, targets = choose_layer_mix(ckpt, windows, baq_opt, options, weights,
                                            work_dir, batch, progress)
    else:
        # A pooled module budget spans all layers, but each baq-opt run sees a few: every
        # run gets the whole model's per-layer equivalent instead, with the layers' rates
        # set by their measured output importance (baq.importance) unless disabled.
        chosen = None
        if importance_windows > 0:
            chosen = importance_options(ckpt, windows, baq_opt, strip_report(options), weights,
                                        work_dir, importance_windows, batch, progress)
        if chosen is not None:
            options, targets = chosen
        else:
            options, rate, targets = pooled_options(options, weights)
            if rate is not None and progress:
                progress(f"budget-scope=module: every layer at {rate:.4f} payload bits per "
                         f"weight (--allocate as {options!r})")
    quantizer = BaqOptQuantizer(ckpt, baq_opt, options, work_dir, targets)
    hessians, fed = calibrate(ckpt, windows, mode, quantizer, batch, progress)
    t_cal = time.time() - t0
    calibrated = save_calibrated or work_dir / "calibrated.mlir"
    calibrated.write_text(build_module(ckpt, hessians, targets))
    t1 = time.time()
    run_baq_opt(baq_opt, calibrated, output, options, work_dir / "final.log", echo=None)
    if fed:
        got = read_module(output)
        differ = [n for n, w in fed.items() if n not in got or
                  not np.array_equal(got[n].weight, w)]
        if differ:
            output.unlink()  # it does not hold the weights the calibration was made with
            raise BaqOptError(
                f"the final whole-module baq-opt run quantized {', '.join(differ[:4])}"
                f"{' ...' if len(differ) > 4 else ''} differently from the block-wise runs "
                f"whose outputs were fed forward: --allocate options that couple layers "
                f"(a module-wide budget) cannot be honoured block by block")
    if progress:
        progress(f"final module: baq-opt {time.time() - t1:.1f} s; wrote {output}")
    return {"calibration": mode, "windows": len(windows), "baq_opt_calls": quantizer.calls + 1,
            "calibrate_s": t_cal, "total_s": time.time() - t0}


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="baq-quantize", description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, required=True,
                    help="llama2.c checkpoint or Hugging Face Llama directory")
    ap.add_argument("--tokenizer", type=Path, required=True, help="llama2.c tokenizer.bin")
    ap.add_argument("--calib", type=Path, required=True,
                    help="calibration text (stories split by <|endoftext|> lines)")
    ap.add_argument("--baq-opt", type=Path, default=Path("build/bin/baq-opt"),
                    help="baq-opt binary (default build/bin/baq-opt)")
    ap.add_argument("--allocate", default="", metavar="OPTIONS",
                    help="--baq-allocate options, e.g. 'target-bits=2.47 budget=total' "
                         "(zeros are 8-bit codes unless 'zero-type=auto'); report=FILE is "
                         "written by the final whole-module run only")
    ap.add_argument("--calibration", choices=CALIBRATIONS, default=DEFAULT_CALIBRATION,
                    help=f"where Hessians come from (default {DEFAULT_CALIBRATION})")
    ap.add_argument("--windows", type=int, default=128,
                    help="calibration windows, drawn with --seed as --window-sampling says "
                         "(default 128; 0: every slot of the text)")
    ap.add_argument("--seed", type=int, default=0, help="window sampling seed (0)")
    ap.add_argument("--window-sampling", choices=tuple(WINDOW_SAMPLINGS), default="slots",
                    help="'slots' (default): distinct non-overlapping window-length slots "
                         "of the text; 'gptq': the official GPTQ code's draw (Python's "
                         "random, seed S: windows at random token offsets, overlaps "
                         "allowed), which gives its windows for the same seed")
    ap.add_argument("--window-len", type=int, default=512, help="tokens per window (512)")
    ap.add_argument("--batch", type=int, default=8, help="windows per forward batch (8)")
    ap.add_argument("--save-calibrated", type=Path, metavar="MLIR",
                    help="also keep the unquantized module with the Hessians used")
    ap.add_argument("--work-dir", type=Path,
                    help="keep per-step modules and baq-opt logs here (default: a temporary "
                         "directory, removed)")
    ap.add_argument("-o", "--output", type=Path, required=True, help="quantized model.mlir")
    ap.add_argument("--layer-mix", action="store_true",
                    help="baseline: every layer uniform, bitwidths chosen per layer under the "
                         "total budget of --allocate (target-bits=B budget=total) from losses "
                         "measured on FP32 Hessians (baq.mix)")
    ap.add_argument("--importance-windows", type=int, default=16, metavar="N",
                    help="with a pooled total budget (budget=total, budget-scope=module, "
                         "the defaults), set each layer's payload rate from its measured "
                         "output importance on the first N calibration windows (baq."
                         "importance; default 16); 0: every layer at the pooled rate")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.windows < 0:
        ap.error(f"--windows must be >= 0 (0: all), got {a.windows}")
    if a.window_len < 2:
        ap.error(f"--window-len must be >= 2, got {a.window_len}")
    if a.importance_windows < 0:
        ap.error(f"--importance-windows must be >= 0, got {a.importance_windows}")
    if a.batch < 1:
        ap.error(f"--batch must be >= 1, got {a.batch}")
    if not a.output.parent.is_dir():
        ap.error(f"output directory {a.output.parent} does not exist")

    def progress(msg: str) -> None:
        if not a.quiet:
            log("baq-quantize: " + msg)

    t0 = time.time()
    ckpt = read_checkpoint(a.checkpoint)
    tok = Tokenizer.load(a.tokenizer, ckpt.config.vocab_size)
    stream = calibration_stream(a.calib, tok)
    wl = min(a.window_len, ckpt.config.seq_len)
    slots = len(stream) // wl
    if a.window_sampling == "slots" and a.windows > slots:
        raise CalibrationError(f"--windows {a.windows}: {a.calib} has only {slots} windows of "
                               f"{wl} tokens ({len(stream)} tokens)")
    try:
        windows = WINDOW_SAMPLINGS[a.window_sampling](stream, wl, a.windows, a.seed)
    except ValueError as e:
        raise CalibrationError(f"--window-sampling {a.window_sampling}: {a.calib}: {e}") from e
    if not windows:
        raise CalibrationError(f"{a.calib}: no calibration tokens")
    progress(f"{len(stream)} calibration tokens, {len(windows)} windows of {wl} "
             f"({a.window_sampling}, seed {a.seed}), calibration {a.calibration}")
    with tempfile.TemporaryDirectory(prefix="baq-quantize-") as tmp:
        work = a.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        info = quantize_model(ckpt, windows, a.calibration, a.baq_opt, a.allocate, a.output,
                              work, a.batch, progress, a.save_calibrated, a.layer_mix,
                              a.importance_windows)
    progress(f"done in {time.time() - t0:.1f} s ({info['baq_opt_calls']} baq-opt runs)")
    return 0


def cli() -> int:
    """Console entry point: input errors become one ``baq-quantize: error:`` line, exit 2."""
    return run("baq-quantize", main)


if __name__ == "__main__":
    sys.exit(cli())
