#!/usr/bin/env python3
"""BAQ against llama.cpp on the CPU: bench/model's synthetic decoder, both engines.

Steps (each skipped when its output exists, unless ``--fresh``):

1. ``build``: llama.cpp from source (``--llama-cpp-dir`` / ``LLAMA_CPP_DIR``) into
   ``--llama-build``: CPU only, ``-DGGML_NATIVE=ON``, targets llama-bench, llama-quantize,
   llama-imatrix and llama-simple (the greedy check), ``-j2``.
2. ``model``: the synthetic model of ``bench/model/run.py`` (dim 1024, 8 layers, seed 0) as
   an F32 GGUF (gguf_model.py), and BAQ's 2.47-bit module of the same weights through
   ``bench/model/run.py``'s ``prepare`` (same calibration, same allocation, same paths).
3. ``quantize``: ``llama-imatrix`` over the bench text, then ``llama-quantize`` to each
   ``--quants`` type (IQ2 types need the importance matrix; on a random model it is
   meaningless for quality, which this benchmark does not measure).
4. ``check``: greedy tokens from BOS of the F32 GGUF (``llama-simple``) against
   ``baq.llama2c.Transformer`` on the same weights: the layout conventions are right when
   they agree.
5. ``bench``: ``--rounds`` rounds, each one ``baq-run`` process (one compilation; prefill =
   ``--perplexity`` windows of 33 tokens, i.e. one 32-token @prefill each, then greedy
   decode of ``--decode-steps`` tokens, at each thread count) followed by ``llama-bench -p 32
   -n 128 -t 1,2 -r 3`` of every quant in turn: the engines alternate round by round.

Prints a markdown table (min / median / max over all timed runs, load average of each engine's
runs, decode GB/s = weight bytes read per token x tok/s) and writes JSON.

    bench/llamacpp/run.py --llama-cpp-dir ../llamacpp-src --llama-build ../llamacpp-build \\
        --build build --out out/llamacpp --json out/llamacpp/run.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from gguf_model import (LINEAR_GGUF, import_gguf, piece_text, spm_vocab,  # noqa: E402
                        synthetic_checkpoint, write_gguf)

from baq.export import synthetic_tokenizer  # noqa: E402
from baq.llama2c import Transformer  # noqa: E402


def _load_bench_model():
    """bench/model/run.py as a module (it is a script, and this file is run.py too)."""
    spec = importlib.util.spec_from_file_location("bench_model_run",
                                                  REPO / "bench" / "model" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


bench_model = _load_bench_model()

TARGETS = ["llama-bench", "llama-quantize", "llama-imatrix", "llama-simple"]
BAQ_NAME = "BAQ 2.47"


def log(msg: str) -> None:
    print(f"bench-llamacpp: {msg}", file=sys.stderr, flush=True)


def sh(cmd: list, **kw) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(c) for c in cmd))
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {cmd[0]}\n"
                         f"{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
    return p


def load() -> float:
    return round(os.getloadavg()[0], 2)


# ---------------------------------------------------------------------------------------
# 1. llama.cpp build


def build_llamacpp(a) -> None:
    bins = [a.llama_build / "bin" / t for t in TARGETS]
    if all(b.exists() for b in bins) and not a.fresh:
        return
    sh(["cmake", "-S", a.llama_cpp_dir, "-B", a.llama_build, "-DCMAKE_BUILD_TYPE=Release",
        "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF",
        "-DLLAMA_BUILD_SERVER=OFF"])
    sh(["cmake", "--build", a.llama_build, "-j2", "--target", *TARGETS])


# ---------------------------------------------------------------------------------------
# 2. the model, both forms


def synthetic_inputs(out: Path) -> tuple[Path, Path, list]:
    """Tokenizer, text and calibration windows exactly as bench/model/run.py's ``main``
    makes them for the synthetic model (same generator, same draw order)."""
    out.mkdir(parents=True, exist_ok=True)
    tokp = out / "synthetic-tok.bin"
    tokp.write_bytes(synthetic_tokenizer(512).to_bytes())
    rng = np.random.default_rng(1)
    words = ["the", "cat", "and", "a", "dog", "then", "he", "she", "ran", "end."]
    textp = out / "synthetic-text.txt"
    textp.write_text("\n<|endoftext|>\n".join(" ".join(rng.choice(words, 200))
                                             for _ in range(40)) + "\n")
    calib = list(rng.integers(0, 512, size=(8, 64)))
    return tokp, textp, calib


def make_models(a, ckpt) -> dict:
    tokp, textp, calib = synthetic_inputs(a.out)
    name = f"synthetic d{a.dim} L{a.layers}"
    ba = SimpleNamespace(out=a.out, build=a.build, fresh=a.fresh)
    _, q = bench_model.prepare(ba, name, ckpt, tokp, calib, textp, 32)
    f32 = a.out / f"{name.replace(' ', '-')}-F32.gguf"
    if not f32.exists() or a.fresh:
        gguf = import_gguf(a.llama_cpp_dir)
        write_gguf(ckpt, synthetic_tokenizer(512), f32, gguf, name)
        log(f"wrote {f32}")
    return {"tok": tokp, "text": textp, "baq": q, "f32": f32, "name": name}


# ---------------------------------------------------------------------------------------
# 3. llama.cpp quantizations


def quantize(a, m: dict) -> dict[str, Path]:
    imatrix = a.out / "imatrix.dat"
    bin_ = a.llama_build / "bin"
    if any(q.startswith("IQ") for q in a.quants) and (not imatrix.exists() or a.fresh):
        sh([bin_ / "llama-imatrix", "-m", m["f32"], "-f", m["text"], "-o", imatrix,
            "-c", 256, "-t", 2, "--chunks", 16, "--no-ppl"])
    files = {}
    for q in a.quants:
        f = m["f32"].with_name(m["f32"].name.replace("-F32", f"-{q}"))
        if not f.exists() or a.fresh:
            cmd = [bin_ / "llama-quantize"]
            if q.startswith("IQ"):
                cmd += ["--imatrix", imatrix]
            sh(cmd + [m["f32"], f, q, 2])
        files[q] = f
    return files


def gguf_bytes(path: Path, gguf) -> dict:
    """Bytes of the linear weights (what BAQ's bits per weight count), of the classifier
    (tied to the token embedding here) and tensor types, from the file's tensor table."""
    r = gguf.GGUFReader(str(path))
    lin = lin_n = total = total_n = 0
    types_: dict[str, set] = {}
    out = {}
    for t in r.tensors:
        total += int(t.n_bytes)
        total_n += int(t.n_elements)
        kind = t.name.split(".")[-2] if t.name.startswith("blk.") else t.name.split(".")[0]
        if kind in LINEAR_GGUF.values():
            lin += int(t.n_bytes)
            lin_n += int(t.n_elements)
            types_.setdefault(kind, set()).add(t.tensor_type.name)
        elif t.name in ("token_embd.weight", "output.weight"):
            out[t.name] = {"bytes": int(t.n_bytes), "type": t.tensor_type.name}
    return {"linear_bytes": lin, "linear_weights": lin_n,
            "linear_bits_per_weight": 8 * lin / lin_n,
            "linear_types": {k: sorted(v) for k, v in types_.items()},
            "file_bits_per_weight": 8 * total / total_n,
            "classifier": out.get("output.weight", out["token_embd.weight"]),
            # Per decoded token: every linear weight, the classifier, one embedding row.
            "bytes_per_token": lin + out.get("output.weight",
                                             out["token_embd.weight"])["bytes"]}


# ---------------------------------------------------------------------------------------
# 4. greedy check of the layout conventions


def check(a, m: dict, ckpt) -> dict:
    cmd = [a.llama_build / "bin" / "llama-simple", "-m", m["f32"], "-n", a.check_tokens, ""]
    log("$ " + " ".join(map(str, cmd)))
    p = subprocess.run([str(c) for c in cmd], capture_output=True)  # bytes: byte tokens
    if p.returncode != 0:
        raise SystemExit(f"llama-simple failed:\n{p.stderr.decode(errors='replace')[-3000:]}")
    pieces, _, types_ = spm_vocab(synthetic_tokenizer(512))
    ref = Transformer(ckpt).generate_greedy(a.check_tokens)
    # llama-simple prints the prompt (BOS) and each sampled token's piece with special=true;
    # it stops at EOS, the reference (run.c) at BOS.
    cut = next((i for i, t in enumerate(ref) if t in (1, 2)), len(ref))
    want = b"".join(piece_text(pieces, types_, t) for t in [1] + ref[:cut])
    ok = p.stdout.startswith(want)
    log(f"greedy check: reference {ref[:cut]} ({cut} tokens); llama.cpp F32 "
        f"{'matches' if ok else 'DIFFERS'}")
    return {"tokens": cut, "reference_ids": ref[:cut], "match": ok,
            "llama_simple_stdout": p.stdout.decode("utf-8", "replace"),
            "expected": want.decode("utf-8", "replace")}


# ---------------------------------------------------------------------------------------
# 5. alternated timing


def baq_samples(stderr: str) -> dict:
    """tok/s per thread count and phase of every --timing line (bench/model's regex): one
    baq-run repeats its runs for each entry of --omp-threads, repeated counts included."""
    out: dict = {}
    for mt in bench_model.TIMING_RE.finditer(stderr):
        for kind, n, wall in (mt.group(2, 3, 4), mt.group(6, 7, 8)):
            if kind in ("perplexity", "decode"):
                phase = "prefill" if kind == "perplexity" else "decode"
                out.setdefault(mt.group(1), {}).setdefault(phase, []).append(
                    int(n) / float(wall))
    return out


def run_baq(a, m: dict) -> dict:
    counts = ",".join(map(str, a.threads * a.baq_reps))
    cmd = [a.build / "bin" / "baq-run", m["baq"], "--tokenizer", m["tok"], "--timing",
           "--omp-threads", counts, "--perplexity", m["text"], "--window-len", 33,
           "--max-windows", a.prefill_windows, "--steps", a.decode_steps]
    # The compiled module's frames outgrow the default 8 MiB stack on the 8-layer model
    # (SIGSEGV at the first 1-thread @prefill call; the fault address is just below the
    # main thread's 8 MiB stack mapping): give the process and libomp's workers room.
    stack = a.baq_stack_mib * 2**20
    env = {**os.environ, "OMP_STACKSIZE": f"{a.baq_stack_mib}M"}
    t0 = load()
    p = sh(cmd, env=env,
           preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_STACK, (stack, stack)))
    runs = baq_samples(p.stderr)
    if sorted(runs) != sorted(map(str, a.threads)) or any(
            len(v.get(k, [])) != a.baq_reps for v in runs.values() for k in ("prefill", "decode")):
        raise SystemExit(f"unexpected baq-run --timing output:\n{p.stderr[-3000:]}")
    comp = re.search(r"lower ([\d.]+) s, jit ([\d.]+) s", p.stderr)
    return {"load_before": t0, "load_after": load(), "stack_mib": a.baq_stack_mib,
            "compile_s": [float(comp[1]), float(comp[2])] if comp else None,
            "runs": runs, "timing_lines": [ln for ln in p.stderr.splitlines() if "tokens in" in ln]}


def run_llama(a, f: Path) -> dict:
    t0 = load()
    p = sh([a.llama_build / "bin" / "llama-bench", "-m", f, "-p", 32, "-n", 128,
            "-t", ",".join(map(str, a.threads)), "-r", a.llama_reps, "-o", "json"])
    res: dict = {}
    meta = {}
    for e in json.loads(p.stdout):
        kind = "prefill" if e["n_prompt"] else "decode"
        res.setdefault(str(e["n_threads"]), {})[kind] = e["samples_ts"]
        meta = {k: e[k] for k in ("build_commit", "model_size", "model_n_params",
                                  "cpu_info", "model_type")}
    return {"load_before": t0, "load_after": load(), "runs": res, "meta": meta}


def read_bandwidth(threads: list[int], mib: int = 256, reps: int = 5) -> dict:
    """Best-of-``reps`` GB/s of OpenBLAS ``sdot`` over two ``mib`` MiB float32 vectors (16x
    the L3 here): a streaming read rate at each thread count, the bound a decoder that reads
    each weight byte once per token can approach."""
    from threadpoolctl import threadpool_limits
    n = mib * 2**20 // 4
    x = np.ones(n, np.float32)
    y = np.full(n, 0.5, np.float32)
    out = {}
    for t in threads:
        with threadpool_limits(limits=t):
            np.dot(x, y)
            best = min(_timed(lambda: np.dot(x, y)) for _ in range(reps))
        out[str(t)] = 8 * n / best / 1e9
    return out


def _timed(f) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def bench(a, m: dict, files: dict) -> list[dict]:
    rounds = []
    for r in range(a.rounds):
        one = {"round": r, "time": time.strftime("%H:%M:%S", time.gmtime()),
               "read_gb_s": read_bandwidth(a.threads), BAQ_NAME: run_baq(a, m)}
        for q, f in files.items():
            one[q] = run_llama(a, f)
        rounds.append(one)
        log(f"round {r} done, load {load()}")
    return rounds


# ---------------------------------------------------------------------------------------
# table


def samples(rounds: list[dict], eng: str, n: str, phase: str) -> list[float]:
    out = []
    for r in rounds:
        v = r[eng]["runs"][n][phase]
        out += v if isinstance(v, list) else [v]
    return out


def table(res: dict) -> str:
    rounds = res["rounds"]
    engines = [BAQ_NAME] + list(res["llama"]["files"])
    lines = ["| engine | linear bits / weight | MB read / token | threads | prefill pp32 tok/s "
             "min / median / max | decode tok/s min / median / max | decode GB/s (median) | "
             "of the read rate | decode vs BAQ, per round | prefill vs BAQ, per round | "
             "load (runs) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    bw = {n: statistics.median(r["read_gb_s"][n] for r in rounds) for n in map(str, res["threads"])}

    def vs_baq(eng: str, n: str, phase: str) -> str:
        """Range over rounds of the engine's median / BAQ's median in the same round: the
        load drifts between rounds more than within one."""
        rs = [statistics.median(samples([r], eng, n, phase)) /
              statistics.median(samples([r], BAQ_NAME, n, phase)) for r in rounds]
        lo, hi = f"{min(rs):.2f}", f"{max(rs):.2f}"
        return (lo if lo == hi else f"{lo}–{hi}") + "x"
    for eng in engines:
        info = res["baq_bytes"] if eng == BAQ_NAME else res["llama"]["bytes"][eng]
        bpt = info["bytes_per_token"]
        loads = [x for r in rounds for x in (r[eng]["load_before"], r[eng]["load_after"])]
        for n in map(str, res["threads"]):
            pre = samples(rounds, eng, n, "prefill")
            dec = samples(rounds, eng, n, "decode")
            med = statistics.median(dec)
            lines.append(
                f"| {eng if eng == BAQ_NAME else 'llama.cpp ' + eng} | "
                f"{info['linear_bits_per_weight']:.2f} | {bpt / 1e6:.1f} | {n} | "
                f"{min(pre):.0f} / {statistics.median(pre):.0f} / {max(pre):.0f} | "
                f"{min(dec):.0f} / {med:.0f} / {max(dec):.0f} | {bpt * med / 1e9:.1f} | "
                f"{100 * bpt * med / 1e9 / bw[n]:.0f} % | "
                f"{vs_baq(eng, n, 'decode')} | {vs_baq(eng, n, 'prefill')} | "
                f"{min(loads):.1f}–{max(loads):.1f} |")
    lines.append("")
    lines.append("Read rate (OpenBLAS sdot, 2 x 256 MiB, best of 5, median over rounds): " +
                 ", ".join(f"{bw[n]:.1f} GB/s at {n} thread(s)" for n in bw) + ".")
    return "\n".join(lines)


def formats(res: dict) -> str:
    """The weight formats: tensor types, bits per weight, bytes read per decoded token."""
    lines = ["| engine | linear tensor types | linear bits / weight | whole file bits / weight "
             "| classifier | MB read / token |", "|---|---|---:|---:|---|---:|"]
    b = res["baq_bytes"]
    lines.append(f"| {BAQ_NAME} | per-column mix (`--baq-allocate`) | "
                 f"{b['linear_bits_per_weight']:.2f} | – | F32 | "
                 f"{b['bytes_per_token'] / 1e6:.1f} |")
    for q, x in res["llama"]["bytes"].items():
        kinds = ", ".join(f"{k} {'/'.join(v)}" for k, v in x["linear_types"].items())
        lines.append(f"| llama.cpp {q} | {kinds} | {x['linear_bits_per_weight']:.2f} | "
                     f"{x['file_bits_per_weight']:.2f} | {x['classifier']['type']} | "
                     f"{x['bytes_per_token'] / 1e6:.1f} |")
    return "\n".join(lines)


def baq_bytes(ckpt, q: Path) -> dict:
    b = bench_model.weight_bytes(ckpt, q)
    return {"bytes_per_token": b["baq"], "linear_bits_per_weight": b["baq_linear_bits_per_weight"],
            "classifier": {"bytes": 4 * ckpt.config.vocab_size * ckpt.config.dim,
                           "type": "F32"}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--llama-cpp-dir", type=Path, default=os.environ.get("LLAMA_CPP_DIR"),
                    help="llama.cpp source tree (default: $LLAMA_CPP_DIR)")
    ap.add_argument("--llama-build", type=Path, help="llama.cpp build directory "
                    "(default: OUT/llama.cpp-build)")
    ap.add_argument("--llama-commit", default=os.environ.get("LLAMA_CPP_COMMIT", ""),
                    help="the source tree's commit, recorded in the JSON (a `git archive` "
                         "tree does not know it)")
    ap.add_argument("--build", type=Path, default=REPO / "build", help="BAQ build directory")
    ap.add_argument("--out", type=Path, default=REPO / "out" / "llamacpp")
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--quants", default="Q2_K,Q3_K_S,IQ2_XS,Q4_0")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--llama-reps", type=int, default=3, help="llama-bench -r")
    ap.add_argument("--baq-reps", type=int, default=3,
                    help="runs per thread count in each baq-run process (one compilation)")
    ap.add_argument("--baq-stack-mib", type=int, default=1024,
                    help="stack limit of baq-run and its OpenMP workers (MiB)")
    ap.add_argument("--prefill-windows", type=int, default=8)
    ap.add_argument("--decode-steps", type=int, default=128)
    ap.add_argument("--check-tokens", type=int, default=24)
    ap.add_argument("--steps", default="build,model,quantize,check,bench")
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--table-from", type=Path, help="only print the table of a --json file")
    a = ap.parse_args()
    if a.table_from:
        res = json.loads(a.table_from.read_text())
        print(formats(res) + "\n\n" + table(res))
        return 0
    if a.llama_cpp_dir is None:
        ap.error("--llama-cpp-dir or LLAMA_CPP_DIR: a llama.cpp source tree")
    a.llama_build = a.llama_build or a.out / "llama.cpp-build"
    a.quants = a.quants.split(",")
    a.threads = [int(t) for t in a.threads.split(",")]
    steps = set(a.steps.split(","))
    res: dict = {"machine": bench_model.cpu_model(), "threads": a.threads,
                 "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "llama_cpp_commit": a.llama_commit, "load_start": load(),
                 "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset"),
                 "baq_commit": subprocess.run(["git", "-C", REPO, "rev-parse", "--short",
                                               "HEAD"], capture_output=True,
                                              text=True).stdout.strip()}
    if "build" in steps:
        build_llamacpp(a)
    ckpt = synthetic_checkpoint(a.dim, a.layers)
    m = make_models(a, ckpt)
    res["model"] = {"name": m["name"], "config": ckpt.config.__dict__}
    gguf = import_gguf(a.llama_cpp_dir)
    # quantize() skips existing files: --steps bench alone reuses them.
    files = quantize(a, m) if steps & {"quantize", "bench"} else {}
    res["baq_bytes"] = baq_bytes(ckpt, m["baq"])
    res["llama"] = {"files": {q: str(f) for q, f in files.items()},
                    "bytes": {q: gguf_bytes(f, gguf) for q, f in files.items()}}
    res["llama"]["bytes"]["F32"] = gguf_bytes(m["f32"], gguf)
    if "check" in steps:
        res["check"] = check(a, m, ckpt)
    if "bench" in steps:
        res["rounds"] = bench(a, m, files)
        res["load_end"] = load()
        print(f"{res['date']}; machine: {res['machine']}; load average {res['load_start']} "
              f"at the start, {res['load_end']} at the end\n")
        print(formats(res) + "\n\n" + table(res))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(res, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
