#!/usr/bin/env python3
"""Whole-model tokens/s: compiled FP32 vs compiled BAQ (baq-run) vs the numpy reference.

For each model (stories260K when its data is present, and a synthetic larger decoder with
random weights) this exports the whole forward pass (baq.export_model), quantizes it with
``baq-opt --baq-allocate="target-bits=2.47 budget=total"`` and times, in one run:

* prefill tokens/s: ``baq-run --perplexity`` with windows of P + 1 tokens, so every window is
  exactly one @prefill call of P tokens (log-softmax included, it is negligible);
* decode tokens/s: then, in the same baq-run process, greedy generation from BOS, one
  @forward call per token (attention over the static context with a causal mask);
* the numpy reference (baq.llama2c.Transformer, OpenBLAS): prefill = forward of P-token
  windows; decode = forward of the whole prefix per token (it has no KV cache);
* weight bytes read per decoded token: every linear weight (packed bytes for BAQ, f32 for
  FP32) plus the f32 classifier, which BAQ leaves unquantized (it has no Hessian).

Threads: ``--threads 1,2`` (the default) times every engine at each count in the same
process: baq-run compiles once and repeats its runs with ``--omp-threads 1,2`` (the BAQ
kernels and the FP32 module's ``baq-dense-matmul`` nests are OpenMP-threaded by
``--baq-lower-cpu`` when large enough), numpy under ``threadpoolctl`` limits on OpenBLAS.
Prints a markdown table (ratios taken within this run, against compiled FP32 and against
the OpenBLAS ceilings at the same thread count, by wall clock and per CPU-second) with the
load average and ``OPENBLAS_CORETYPE`` of the run, and writes JSON.

    bench/model/run.py --build build --out out/bench-model [--threads 1,2] [--synthetic-dim 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

from baq.eval import module_bits  # noqa: E402
from baq.export import calibration_windows, collect_hessians, synthetic_tokenizer  # noqa: E402
from baq.export_model import build_model_module  # noqa: E402
from baq.llama2c import (Config, Transformer, load_model, random_checkpoint,  # noqa: E402
                         token_stream)

TIMING_RE = re.compile(r"threads (\d+)(?: \(module not threaded\))?; .*?"
                       r"(prefill|decode|perplexity) (\d+) tokens in ([\d.]+) s, cpu ([\d.]+) s"
                       r"(?:.*?(decode) (\d+) tokens in ([\d.]+) s, cpu ([\d.]+) s)?")


def log(msg: str) -> None:
    print(f"bench-model: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(c) for c in cmd))
    p = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p


def timed(out: str, threads: int) -> dict:
    """The perplexity (prefill) and decode rates of one thread count from --timing lines."""
    res = {}
    for m in TIMING_RE.finditer(out):
        if int(m.group(1)) != threads:
            continue
        for kind, n, wall, cpu in (m.group(2, 3, 4, 5), m.group(6, 7, 8, 9)):
            if kind:
                key = "prefill" if kind == "perplexity" else kind
                if key == "prefill" and kind == "prefill":
                    continue  # generation's prompt phase (BOS only): not a prefill rate
                res[key] = {"tokens": int(n), "wall_s": float(wall), "cpu_s": float(cpu),
                            "tok_s": int(n) / float(wall)}
    if set(res) != {"prefill", "decode"}:
        raise SystemExit(f"no timing for {threads} thread(s) in baq-run output:\n{out}")
    return res


def bench_compiled(a, module: Path, tok: Path, text: Path, prefill: int) -> dict:
    common = [a.build / "bin" / "baq-run", module, "--tokenizer", tok, "--timing",
              "--omp-threads", ",".join(map(str, a.threads))]
    if a.lower_options:
        common += ["--lower-options", a.lower_options]
    # One compilation: per thread count, perplexity (prefill timing), then generation from
    # BOS (decode).
    p = run(common + ["--perplexity", text, "--window-len", prefill + 1,
                      "--max-windows", a.prefill_windows, "--steps", a.decode_steps],
            dict(os.environ))
    res = {n: timed(p.stderr, n) for n in a.threads}
    res["compile"] = {k: float(v) for k, v in
                      re.search(r"lower (?P<lower>[\d.]+) s, jit (?P<jit>[\d.]+) s",
                                p.stderr).groupdict().items()}
    return res


def bench_numpy(ckpt, stream: np.ndarray, prefill: int, a) -> dict:
    res = {}
    for n in a.threads:
        with threadpool_limits(limits=n):
            res[n] = bench_numpy_once(ckpt, stream, prefill, a)
    return res


def bench_gemv(ckpt, prefill: int, a) -> dict:
    """FP32 weight streaming through OpenBLAS: one sgemv per linear layer and the classifier
    (decode) or one sgemm of ``prefill`` columns (prefill), nothing else of the model. A
    ceiling on what an FP32 engine with good matmuls reaches on this machine, to read the
    compiled FP32 baseline (scalar loops) against."""
    ws = [np.ascontiguousarray(w) for w in ckpt.linear_weights().values()]
    ws.append(np.ascontiguousarray(ckpt.wcls))
    rng = np.random.default_rng(0)
    xs = {w.shape[1]: rng.standard_normal(w.shape[1]).astype(np.float32) for w in ws}
    xp = {k: np.ascontiguousarray(np.tile(v[:, None], (1, prefill))) for k, v in xs.items()}
    res = {}
    for n in a.threads:
        with threadpool_limits(limits=n):
            one = {}
            for kind, xin, reps in (("decode", xs, max(8, a.numpy_decode_steps)),
                                    ("prefill", xp, max(2, a.prefill_windows))):
                for w in ws:  # warm-up
                    w @ xin[w.shape[1]]
                t0, c0 = time.perf_counter(), time.process_time()
                for _ in range(reps):
                    for w in ws:
                        w @ xin[w.shape[1]]
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                toks = reps * (1 if kind == "decode" else prefill)
                one[kind] = {"tokens": toks, "wall_s": wall, "cpu_s": cpu, "tok_s": toks / wall}
            res[n] = one
    return res


def bench_numpy_once(ckpt, stream: np.ndarray, prefill: int, a) -> dict:
    model = Transformer(ckpt)
    wins = [stream[i:i + prefill] for i in range(0, a.prefill_windows * prefill, prefill)]
    wins = [w for w in wins if len(w) == prefill]
    model.forward(np.stack(wins[:1]))  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for w in wins:
        model.forward(w)
    pre, pre_cpu = time.perf_counter() - t0, time.process_time() - c0
    steps = min(a.numpy_decode_steps, ckpt.config.seq_len)
    t0, c0 = time.perf_counter(), time.process_time()
    model.generate_greedy(steps)
    dec, dec_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"prefill": {"tokens": prefill * len(wins), "wall_s": pre, "cpu_s": pre_cpu,
                        "tok_s": prefill * len(wins) / pre},
            "decode": {"tokens": steps, "wall_s": dec, "cpu_s": dec_cpu, "tok_s": steps / dec}}


def weight_bytes(ckpt, q_module: Path) -> dict:
    cfg = ckpt.config
    linear = sum(int(np.prod(cfg.linear_shape(n.split("_", 1)[1]))) for n in cfg.linear_names())
    classifier = cfg.vocab_size * cfg.dim
    bits = module_bits(q_module)["bits"]
    return {"fp32": 4 * (linear + classifier),
            "baq": bits["total"] / 8 + 4 * classifier,
            "baq_linear_bits_per_weight": bits["total_bits_per_weight"]}


def prepare(a, name: str, ckpt, tok_path: Path, calib_windows, text_path: Path,
            prefill: int) -> tuple[Path, Path]:
    d = a.out / name
    d.mkdir(parents=True, exist_ok=True)
    fp32, hess, q = d / "fp32.mlir", d / "hessians.mlir", d / "baq.mlir"
    if not (fp32.exists() and q.exists()) or a.fresh:
        log(f"{name}: exporting")
        fp32.write_text(build_model_module(ckpt, None, prefill))
        hess.write_text(build_model_module(ckpt, collect_hessians(ckpt, calib_windows), prefill))
        run([a.build / "bin" / "baq-opt", hess,
             "--baq-allocate=target-bits=2.47 budget=total progress=false", "-o", q],
            dict(os.environ))
    return fp32, q


def bench_model(a, name, ckpt, tok_path, calib_windows, text_path, stream, prefill):
    if a.ceiling_only:
        res = bench_gemv(ckpt, prefill, a)
        print(f"{name}: OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, "
              f"load average {os.getloadavg()[0]:.2f}: " + "; ".join(
                  f"{n} thread(s) decode {x['decode']['tok_s']:.1f} tok/s "
                  f"({x['decode']['tokens'] / x['decode']['cpu_s']:.1f} per CPU s), prefill "
                  f"{x['prefill']['tok_s']:.1f} tok/s "
                  f"({x['prefill']['tokens'] / x['prefill']['cpu_s']:.1f} per CPU s)"
                  for n, x in res.items()))
        return None
    fp32, q = prepare(a, name, ckpt, tok_path, calib_windows, text_path, prefill)
    row = {"model": name, "config": ckpt.config.__dict__, "prefill_tokens": prefill,
           "bytes": weight_bytes(ckpt, q), "load_start": os.getloadavg()[0],
           "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset")}
    row["numpy"] = bench_numpy(ckpt, stream, prefill, a)
    row["gemv"] = bench_gemv(ckpt, prefill, a)
    row["fp32"] = bench_compiled(a, fp32, tok_path, text_path, prefill)
    row["baq"] = bench_compiled(a, q, tok_path, text_path, prefill)
    return row


def table(runs: list[list[dict]]) -> str:
    """Wall-clock tokens/s and, in parentheses, tokens per CPU-second; ratios against
    compiled FP32 at the same thread count. With several runs of the same configuration
    (``--table-from a.json b.json``) each cell is the min–max over the runs."""
    out = ["| model | engine | threads | weight MB / token | prefill tok/s (per CPU s) | "
           "decode tok/s (per CPU s) | decode vs compiled FP32 (CPU) | "
           "decode vs FP32 streaming ceiling (CPU) | prefill vs GEMM ceiling (CPU) |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]

    def rate(e: dict, cpu: bool) -> float:
        return e["tokens"] / max(e["cpu_s"] if cpu else e["wall_s"], 1e-9)

    def span(vals: list[float], fmt: str) -> str:
        lo, hi = format(min(vals), fmt), format(max(vals), fmt)
        return lo if lo == hi else f"{lo}–{hi}"

    for i, r in enumerate(runs[0]):
        rs = [run[i] for run in runs]
        threads = [k for k in r["fp32"] if k != "compile"]
        for eng, label, mb in (("numpy", "numpy reference (no KV cache)", r["bytes"]["fp32"]),
                               ("gemv", "OpenBLAS FP32 projections only (ceiling)",
                                r["bytes"]["fp32"]),
                               ("fp32", "compiled FP32", r["bytes"]["fp32"]),
                               ("baq", f"compiled BAQ {r['bytes']['baq_linear_bits_per_weight']:.2f} b/w",
                                r["bytes"]["baq"])):
            have = [x for x in rs if eng in x]
            if not have:
                continue
            if len(have) < len(rs):
                label += f" ({len(have)} of {len(rs)} runs)"
            for n in threads:
                cell = {}
                for phase in ("prefill", "decode"):
                    cell[phase] = " ".join((
                        span([rate(x[eng][n][phase], False) for x in have], ".0f"),
                        f"({span([rate(x[eng][n][phase], True) for x in have], '.0f')})"))
                ratio = " ".join((
                    span([rate(x[eng][n]["decode"], False) / rate(x["fp32"][n]["decode"], False)
                          for x in have], ".2f") + "x",
                    f"({span([rate(x[eng][n]['decode'], True) / rate(x['fp32'][n]['decode'], True) for x in have], '.2f')}x)"))
                # Against the OpenBLAS ceiling of the same run and thread count (sgemv per
                # decoded token, sgemm of the prefill width per window).
                ceil = {}
                for phase in ("decode", "prefill"):
                    both = [x for x in have if "gemv" in x]
                    ceil[phase] = " ".join((
                        span([rate(x[eng][n][phase], False) / rate(x["gemv"][n][phase], False)
                              for x in both], ".2f") + "x",
                        f"({span([rate(x[eng][n][phase], True) / rate(x['gemv'][n][phase], True) for x in both], '.2f')}x)"
                    )) if both else "–"
                out.append(f"| {r['model']} | {label} | {n} | {mb / 1e6:.3f} | {cell['prefill']} | "
                           f"{cell['decode']} | {ratio} | {ceil['decode']} | {ceil['prefill']} |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get(
        "BAQ_DATA_DIR", REPO.parent / "shared" / "data")))
    ap.add_argument("--out", type=Path, default=REPO / "out" / "bench-model")
    ap.add_argument("--threads", default=os.environ.get("BAQ_THREADS", "1,2"),
                    help="comma-separated thread counts, each timed in the same process")
    ap.add_argument("--lower-options", default="", help="passed to baq-run --lower-options")
    ap.add_argument("--prefill-windows", type=int, default=8)
    ap.add_argument("--decode-steps", type=int, default=256)
    ap.add_argument("--numpy-decode-steps", type=int, default=64)
    ap.add_argument("--synthetic-dim", type=int, default=1024, help="0: skip the synthetic model")
    ap.add_argument("--synthetic-layers", type=int, default=8)
    ap.add_argument("--synthetic-seq-len", type=int, default=256)
    ap.add_argument("--fresh", action="store_true", help="re-export and re-quantize")
    ap.add_argument("--ceiling-only", action="store_true",
                    help="only the OpenBLAS FP32 ceiling, nothing exported or compiled (to "
                         "repeat it under another OPENBLAS_CORETYPE)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--table-from", type=Path, nargs="+",
                    help="only print the table of --json files (runs of one configuration: "
                         "min–max per cell)")
    a = ap.parse_args()
    if a.table_from:
        print(table([json.loads(f.read_text()) for f in a.table_from]))
        return 0
    a.threads = [int(t) for t in a.threads.split(",")]
    if not a.threads or min(a.threads) < 1:
        ap.error("--threads takes counts of at least 1, e.g. 1,2")
    rows = []
    load0 = os.getloadavg()[0]
    ck, tk = a.data / "stories260K.bin", a.data / "tok512.bin"
    if ck.is_file() and tk.is_file():
        ckpt, tok = load_model(ck, tk)
        calib = token_stream((a.data / "tinystories-calib.txt").read_text(encoding="utf-8"), tok)
        text = a.data / "tinystories-dev.txt"
        stream = token_stream(text.read_text(encoding="utf-8"), tok)
        rows.append(bench_model(a, "stories260K", ckpt, tk,
                                calibration_windows(calib, 512, 32, 0), text, stream, 32))
    else:
        log(f"{ck} absent: stories260K skipped")
    if a.synthetic_dim > 0:
        d = a.synthetic_dim
        hidden = int(8 * d / 3 / 256 + 1) * 256
        cfg = Config(dim=d, hidden_dim=hidden, n_layers=a.synthetic_layers, n_heads=d // 64,
                     n_kv_heads=d // 64, vocab_size=512, seq_len=a.synthetic_seq_len)
        ckpt = random_checkpoint(cfg, seed=0)
        tokp = a.out / "synthetic-tok.bin"
        a.out.mkdir(parents=True, exist_ok=True)
        tok = synthetic_tokenizer(512)
        tokp.write_bytes(tok.to_bytes())
        rng = np.random.default_rng(1)
        words = ["the", "cat", "and", "a", "dog", "then", "he", "she", "ran", "end."]
        story = lambda: " ".join(rng.choice(words, 200))  # noqa: E731
        textp = a.out / "synthetic-text.txt"
        textp.write_text("\n<|endoftext|>\n".join(story() for _ in range(40)) + "\n")
        stream = token_stream(textp.read_text(), tok)
        calib = list(rng.integers(0, 512, size=(8, 64)))
        rows.append(bench_model(a, f"synthetic d{d} L{cfg.n_layers}", ckpt, tokp, calib,
                                textp, stream, 32))
    if a.ceiling_only:
        return 0
    print(f"threads: {a.threads}; machine: {cpu_model()}; load average: {load0:.2f} at the "
          f"start, {os.getloadavg()[0]:.2f} at the end; OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', 'unset')}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print(table([rows]))
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1, default=str))
    return 0


def cpu_model() -> str:
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
