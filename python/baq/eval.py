"""baq-eval: perplexity and honest bits of a (quantized) model.mlir, and method sweeps.

The model is the original llama2.c checkpoint with every linear layer found in the MLIR
module (by function name ``blk{l}_{kind}``, and the classifier ``classifier`` of a
whole-model module that quantized it) replaced by the weight read back from it: packed
layers are dequantized by the independent reader in :mod:`baq.packed`, FP32 layers pass
through. Bits per weight follow docs/FORMAT.md §6 over all those layers. The checkpoint is a
llama2.c ``.bin`` or a Hugging Face Llama directory (:mod:`baq.hf`).

``--sweep`` runs ``baq-opt --baq-allocate`` for FP32, RTN, uniform GPTQ, BAQ-paper and
BAQ-exact at several target bits on the same exported model and tabulates the results.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cli import ArgumentParser, BaqError, read_text, run
from .llama2c import (CLASSIFIER, Checkpoint, Tokenizer, Transformer, perplexity,
                      read_checkpoint, token_stream)
from .packed import FormatError, read_module, total_bits


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def linear_weights_by_name(weights: dict, names: set[str]) -> dict:
    """Keys ``function/blk{l}_{kind}`` (a whole-model module from baq.export_model, whose
    functions read many weights) become the linear layer's name; others are kept."""
    out = {}
    for key, w in weights.items():
        tail = key.rsplit("/", 1)[-1]
        out[tail if "/" in key and tail in names and tail not in out else key] = w
    return out


def evaluate_module(ckpt: Checkpoint, stream: np.ndarray, mlir_path: str | Path,
                    window_len: int = 512, batch: int = 8) -> dict:
    """Perplexity of the checkpoint with the module's linear weights (and its classifier,
    when the module quantized it) substituted; bits are counted over what was substituted."""
    names = set(ckpt.config.linear_names()) | {CLASSIFIER}
    weights = linear_weights_by_name(read_module(mlir_path), names)
    unknown = sorted(set(weights) - names)
    missing = sorted(names - set(weights) - {CLASSIFIER})  # an FP32 head is the usual case
    if unknown:
        log(f"baq-eval: ignoring functions that are not linear layers: {', '.join(unknown)}")
    if missing:
        log(f"baq-eval: {len(missing)} linear layers not in the module stay FP32 (not counted "
            f"in bits): {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")
    used = {n: w for n, w in weights.items() if n in names}
    for n, w in used.items():
        want = ckpt.wcls.shape if n == CLASSIFIER else ckpt.linear(n).shape
        if w.shape != want:
            raise FormatError(f"{mlir_path}: @{n}: weight {w.shape[0]}x{w.shape[1]}, the "
                              f"checkpoint's {n} is {want[0]}x{want[1]} (a module of another "
                              f"model?)")
    model = Transformer(ckpt, {n: w.weight for n, w in used.items()})
    wl = min(window_len, ckpt.config.seq_len)
    r = perplexity(model, stream, wl, batch)
    bits = total_bits(used)
    return {"perplexity": r.perplexity, "mean_nll": r.mean_nll, "tokens": r.n_predicted,
            "windows": r.n_windows, "window_len": wl,
            "quantized_layers": sum(w.layout is not None for w in used.values()),
            "layers": len(used), "payload_bits": bits["payload_bits_per_weight"],
            "total_bits": bits["total_bits_per_weight"], "bits": bits}


def module_bits(mlir_path: str | Path) -> dict:
    """Honest bits (FORMAT.md §6) of every weight of any module: each packed weight once,
    unquantized 2-D weights at their element width."""
    weights = read_module(mlir_path)
    bits = total_bits(weights)
    layers = {}
    for name, w in weights.items():
        acc = w.bit_accounting()
        n = max(acc["weights"], 1)
        layers[name] = {"shape": list(w.shape), "quantized": w.layout is not None,
                        "payload_bits": acc["payload"] / n, "total_bits": acc["total"] / n}
    return {"layers": layers, "weights": bits["weights"],
            "payload_bits": bits["payload_bits_per_weight"],
            "total_bits": bits["total_bits_per_weight"], "bits": bits}


@dataclass
class Method:
    name: str
    options: str | None  # --baq-allocate options without target-bits; None: FP32 input


METHODS = [
    Method("fp32", None),
    Method("rtn", "quantizer=rtn uniform=true"),
    Method("gptq", "quantizer=gptq uniform=true"),
    Method("baq-paper", "quantizer=gptq allocator=paper"),
    Method("baq-exact", "quantizer=gptq allocator=exact"),
]


class BaqOptError(BaqError, RuntimeError):
    """``baq-opt`` could not be run or rejected its input/options (one line: its first
    diagnostic and where the full log is)."""


def first_diagnostic(log_text: str) -> str:
    """The line of a tool's output that says what went wrong: its first ``error:`` line,
    else its last non-empty line."""
    lines = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
    errs = [ln for ln in lines if "error:" in ln]
    return (errs[0] if errs else lines[-1] if lines else "no output")[:300]


def run_baq_opt(baq_opt: Path, model: Path, out: Path, options: str, log_path: Path,
                echo: str | None = "baq-eval") -> float:
    """``baq-opt --baq-allocate=<options> model -o out``, output to ``log_path``; seconds.

    ``echo``: program name to prefix the logged command line with (None: silent)."""
    cmd = [str(baq_opt), f"--baq-allocate={options}", str(model), "-o", str(out)]
    if echo:
        log(f"{echo}: $ " + " ".join(shlex.quote(c) for c in cmd))
    t0 = time.time()
    try:
        with open(log_path, "w") as lf:
            p = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT)
    except OSError as e:
        raise BaqOptError(f"cannot run {baq_opt}: {e.strerror or e}") from e
    if p.returncode != 0:
        diag = first_diagnostic(log_path.read_text(errors="replace"))
        raise BaqOptError(f"baq-opt failed (exit {p.returncode}) on {model}: {diag} "
                          f"(full log: {log_path})")
    return time.time() - t0


def sweep(a: argparse.Namespace, ckpt: Checkpoint, stream: np.ndarray) -> list[dict]:
    out_dir: Path = a.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    methods = [m for m in METHODS if not a.methods or m.name in a.methods]
    rows: list[dict] = []
    for m in methods:
        for b in ([None] if m.options is None else a.bits):
            tag = m.name if b is None else f"{m.name}-{b:g}b"
            row: dict = {"method": m.name, "target_bits": b, "mlir": None}
            try:
                if m.options is None:
                    path, qtime = a.model, 0.0
                else:
                    path = out_dir / f"{tag}.mlir"
                    opts = f"target-bits={b:g} {m.options} report={out_dir / (tag + '.report.json')}"
                    if a.allocate_options:
                        opts += " " + a.allocate_options
                    qtime = run_baq_opt(a.baq_opt, a.model, path, opts, out_dir / f"{tag}.log")
                t0 = time.time()
                res = evaluate_module(ckpt, stream, path, a.window_len, a.batch)
                row.update(mlir=str(path), quantize_s=round(qtime, 2),
                           eval_s=round(time.time() - t0, 2),
                           payload_bits=res["payload_bits"], total_bits=res["total_bits"],
                           perplexity=res["perplexity"], bits=res["bits"])
                rep_path = out_dir / f"{tag}.report.json"
                if m.options is not None and rep_path.is_file():
                    cross_check_report(row, json.loads(rep_path.read_text()), tag)
                log(f"baq-eval: {tag}: ppl {res['perplexity']:.3f}, payload "
                    f"{res['payload_bits']:.3f} b/w, total {res['total_bits']:.3f} b/w")
            except Exception as e:  # keep sweeping; the table records the failure
                row["error"] = str(e)
                log(f"baq-eval: {tag}: FAILED: {e}")
            rows.append(row)
    return rows


def cross_check_report(row: dict, report: dict, tag: str) -> None:
    """Record the pass's own bit totals next to the reader's and warn when they differ: the
    reader re-derives the accounting from the layout alone (FORMAT.md §6)."""
    tot = report.get("total", {})
    for ours, theirs in (("payload_bits", "payload_bits_per_weight"),
                         ("total_bits", "total_bits_per_weight")):
        if theirs in tot:
            row["report_" + ours] = tot[theirs]
            if abs(tot[theirs] - row[ours]) > 1e-9:
                log(f"baq-eval: {tag}: WARNING: {ours} {row[ours]:.6f} from the packed "
                    f"layouts, {tot[theirs]:.6f} in the pass report")


def markdown_table(rows: list[dict]) -> str:
    lines = ["| method | target bits | payload bits/w | total bits/w | perplexity |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        tb = "-" if r.get("target_bits") is None else f"{r['target_bits']:g}"
        if "error" in r:
            lines.append(f"| {r['method']} | {tb} | - | - | failed |")
            continue
        f = [("-" if r.get(k) is None else f"{r[k]:.3f}")
             for k in ("payload_bits", "total_bits", "perplexity")]
        lines.append(f"| {r['method']} | {tb} | {f[0]} | {f[1]} | {f[2]} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="baq-eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path, help="model.mlir (FP32 export or baq-opt output)")
    ap.add_argument("--checkpoint", type=Path,
                    help="llama2.c checkpoint or Hugging Face Llama directory")
    ap.add_argument("--tokenizer", type=Path, help="llama2.c tokenizer.bin")
    ap.add_argument("--text", type=Path, help="evaluation text")
    ap.add_argument("--bits-only", action="store_true",
                    help="honest bits of every weight of any module (no model, no perplexity)")
    ap.add_argument("--window-len", type=int, default=512, help="tokens per window (512)")
    ap.add_argument("--batch", type=int, default=8, help="windows per forward batch")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    ap.add_argument("--json", type=Path, help="write the result as JSON here")
    ap.add_argument("--sweep", action="store_true", help="run baq-opt for every method/bits")
    ap.add_argument("--baq-opt", type=Path, help="baq-opt binary (for --sweep)")
    ap.add_argument("--bits", type=float, nargs="+", default=[2, 3, 4])
    ap.add_argument("--methods", nargs="+", choices=[m.name for m in METHODS])
    ap.add_argument("--allocate-options", default="",
                    help="extra --baq-allocate options for every run, e.g. 'group-size=16' "
                         "or 'zero-type=auto' (f16 zeros instead of the default 8-bit codes)")
    ap.add_argument("--out-dir", type=Path, default=Path("sweep"),
                    help="sweep outputs: <method>-<b>b.mlir, reports, sweep.md, sweep.json")
    a = ap.parse_args(argv)
    if a.window_len < 2:
        ap.error(f"--window-len must be >= 2 (a window predicts its tokens 1..L-1), "
                 f"got {a.window_len}")
    if a.batch < 1:
        ap.error(f"--batch must be >= 1, got {a.batch}")
    if a.bits_only:
        res = module_bits(a.model)
        for name, bits in res["layers"].items():
            print(f"{name}: {bits['shape'][0]}x{bits['shape'][1]}, payload "
                  f"{bits['payload_bits']:.4f}, total {bits['total_bits']:.4f} bits/weight")
        print(f"payload bits/weight: {res['payload_bits']:.4f}")
        print(f"total bits/weight: {res['total_bits']:.4f}  ({res['weights']} weights)")
        if a.json:
            a.json.write_text(json.dumps(res, indent=2))
        return 0
    missing = [f"--{k}" for k in ("checkpoint", "tokenizer", "text") if getattr(a, k) is None]
    if missing:
        ap.error(f"{', '.join(missing)} required (or --bits-only)")
    if a.sweep and a.baq_opt is None:
        ap.error("--sweep needs --baq-opt PATH")
    if a.sweep and not a.baq_opt.is_file():
        ap.error(f"--baq-opt {a.baq_opt}: no such file")

    t0 = time.time()
    ckpt = read_checkpoint(a.checkpoint)
    tok = Tokenizer.load(a.tokenizer, ckpt.config.vocab_size)
    stream = token_stream(read_text(a.text, "evaluation text"), tok)
    if len(stream) < 2:
        raise BaqError(f"{a.text}: no text to evaluate (empty, whitespace or only "
                       f"<|endoftext|> lines)")
    if not a.quiet:
        log(f"baq-eval: {len(stream)} evaluation tokens from {a.text}")

    if a.sweep:
        rows = sweep(a, ckpt, stream)
        md = markdown_table(rows)
        (a.out_dir / "sweep.md").write_text(md)
        doc = {"model": str(a.model), "checkpoint": str(a.checkpoint), "text": str(a.text),
               "window_len": a.window_len, "allocate_options": a.allocate_options,
               "rows": rows}
        (a.out_dir / "sweep.json").write_text(json.dumps(doc, indent=2))
        if a.json:
            a.json.write_text(json.dumps(doc, indent=2))
        print(md, end="")
        log(f"baq-eval: sweep done in {time.time() - t0:.1f} s; tables in {a.out_dir}")
        return 1 if any("error" in r for r in rows) else 0

    res = evaluate_module(ckpt, stream, a.model, a.window_len, a.batch)
    b = res["bits"]
    n = max(b["weights"], 1)
    print(f"perplexity: {res['perplexity']:.4f}  ({res['tokens']} predicted tokens, "
          f"{res['windows']} windows of {res['window_len']})")
    print(f"layers: {res['layers']} ({res['quantized_layers']} quantized), "
          f"{b['weights']} weights")
    print(f"payload bits/weight: {res['payload_bits']:.4f}")
    print(f"total bits/weight: {res['total_bits']:.4f}  (payload {b['payload'] / n:.4f}, "
          f"padding {b['padding'] / n:.4f}, scales {b['scales'] / n:.4f}, "
          f"zeros {b['zeros'] / n:.4f}, bit table {b['bit_table'] / n:.4f}, permutation 0)")
    if a.json:
        a.json.write_text(json.dumps(res, indent=2))
    if not a.quiet:
        log(f"baq-eval: done in {time.time() - t0:.1f} s")
    return 0


def cli() -> int:
    """Console entry point: input errors become one ``baq-eval: error:`` line and exit 2."""
    return run("baq-eval", main)


if __name__ == "__main__":
    sys.exit(cli())
