"""baq-results: regenerate docs/RESULTS.md's measured section and its PNG plots.

Runs the matrix method x calibration x bit target x calibration seed, each run being
``python -m baq.quantize`` (the sequential driver) followed by ``python -m baq.eval --json``
on the dev text, and tabulates every configuration as mean and min-max over the seeds.

* methods: ``rtn``, ``gptq`` (uniform), ``baq-paper``, ``baq-exact`` plus one ``baq-exact``
  variant per ``--extra OPTIONS`` string (the allocator's levers, e.g. ``group-size=32``),
  or a variant of another method with ``--extra METHOD:OPTIONS`` (``gptq:mse-grid=false``);
  every run names its zero storage (``zero-type=u8``, 8-bit codes, unless the method or
  variant sets one, e.g. ``+zero-type=auto`` for f16 zeros), whatever baq-opt's default;
* calibrations: ``fp32``, ``sequential``, ``true-sequential`` (RTN reads no Hessian and the
  sequential driver cannot honour ``budget-scope=module-greedy`` block by block, so both run
  with ``fp32`` only; the pooled ``budget-scope=module``, the default, runs everywhere);
* targets: ``total:B`` (``budget=total``, every stored bit counted), ``payload:B``
  (``budget=payload``) and ``uniform:B``: uniform GPTQ and RTN at B payload bits, the other
  methods at ``budget=total`` equal to uniform GPTQ's measured total (4 decimals, rounded
  down), so every row of that column stores at most as many bits as uniform GPTQ.

Runs are cached in ``--work-dir`` (one directory per run under a hash of baq-opt, the
Python code and the data, so a rebuilt tool never reuses old numbers; result written
atomically) and
claimed with an exclusive lock file, so an interrupted matrix resumes and several
invocations (or ``--jobs N``) can share one work directory without running anything twice.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .cli import ArgumentParser, BaqError, read_json, read_text, run
from .eval import METHODS
from .quantize import CALIBRATIONS

METHOD_OPTIONS = {m.name: m.options for m in METHODS if m.options is not None}
UNIFORM = ("rtn", "gptq")
BEGIN, END = "<!-- BEGIN baq.results -->", "<!-- END baq.results -->"

# Every run states its zero storage, so that a label means the same whatever baq-opt's
# default: a method (or variant) without a zero-type stores 8-bit zero codes, `+zero-type=auto`
# float zeros. (Before 8-bit codes became the default, `baq-exact+zero-type=u8` was the u8
# row: that label still works and gives baq-exact's numbers.)
DEFAULT_ZERO_TYPE = "zero-type=u8"
# The levers of issue 10, each a baq-exact variant measured at equal total bits: f16 zeros
# (the earlier default), act-order, the cross-layer greedy budget, groups of 32; uniform GPTQ
# with f16 zeros, and with the official code's default min-max grid (its 433 at 2 bits).
LEVERS = ["zero-type=auto", "act-order=true", "budget-scope=module-greedy", "group-size=32",
          "gptq:zero-type=auto", "gptq:mse-grid=false zero-type=auto act-order=false"]
FULL = dict(methods=["rtn", "gptq", "baq-paper", "baq-exact"], calibrations=list(CALIBRATIONS),
            targets=["total:2.47", "total:3.47", "total:4.47", "uniform:2", "uniform:3",
                     "uniform:4"], seeds=[0, 1, 2], extra=LEVERS)
QUICK = dict(methods=["gptq", "baq-exact"], calibrations=list(CALIBRATIONS),
             targets=["total:2.47", "uniform:2"], seeds=[0, 1, 2], extra=[])


def log(msg: str) -> None:
    print(f"baq-results: {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Run:
    method: str  # rtn | gptq | baq-paper | baq-exact | baq-exact+<extra>
    calibration: str
    column: str  # the table column, e.g. "total:2.47" or "uniform:2"
    budget: str  # payload | total
    target: float
    seed: int
    extra: str = ""

    @property
    def options(self) -> str:
        base = METHOD_OPTIONS[self.method.split("+", 1)[0]]
        opts = f"target-bits={self.target:.10g} budget={self.budget} {base} {self.extra}".split()
        if not any(o.startswith("zero-type=") for o in opts):
            opts.append(DEFAULT_ZERO_TYPE)
        return " ".join(opts)

    @property
    def slug(self) -> str:
        raw = f"{self.method}_{self.calibration}_{self.budget}{self.target:.10g}_s{self.seed}"
        return re.sub(r"[^A-Za-z0-9_.+-]", "-", raw)


def parse_target(t: str) -> tuple[str, float]:
    kind, _, val = t.partition(":")
    if kind not in ("total", "payload", "uniform") or not val:
        raise argparse.ArgumentTypeError(f"target {t!r}: expected total:B, payload:B or "
                                         f"uniform:B")
    try:
        b = float(val)
    except ValueError:
        raise argparse.ArgumentTypeError(f"target {t!r}: {val!r} is not a number") from None
    if not 0 < b <= 32:
        raise argparse.ArgumentTypeError(f"target {t!r}: bits outside (0, 32]")
    return kind, b


def method_names(methods: list[str], extras: list[str]) -> list[tuple[str, str]]:
    """(row label, extra options); each extra is a baq-exact variant, or a variant of the
    method it names as ``METHOD:OPTIONS`` (e.g. ``gptq:mse-grid=false``)."""
    out = [(m, "") for m in methods]
    for e in extras:
        base, sep, opts = e.partition(":")
        if sep and base in METHOD_OPTIONS:
            out.append((f"{base}+{opts}", opts))
        else:
            out.append((f"baq-exact+{e}", e))
    return out


def plan(a: argparse.Namespace, uniform_totals: dict[float, float]) -> tuple[list[Run], list[Run]]:
    """(runs ready now, runs waiting for uniform GPTQ's totals)."""
    ready, waiting = [], []
    for label, extra in method_names(a.methods, a.extra):
        base = label.split("+", 1)[0]
        # RTN reads no Hessian; the cross-layer greedy couples layers, which the sequential
        # driver cannot honour block by block (baq.quantize rejects it)
        cals = ["fp32"] if base == "rtn" or "budget-scope=module-greedy" in extra.split() \
            else a.calibrations
        for col in a.targets:
            kind, b = parse_target(col)
            for cal in cals:
                for seed in a.seeds:
                    if kind == "uniform" and base in UNIFORM:
                        ready.append(Run(label, cal, col, "payload", b, seed, extra))
                    elif kind == "uniform":
                        tot = uniform_totals.get(b)
                        r = Run(label, cal, col, "total", math.floor(tot * 1e4) / 1e4
                                if tot is not None else -1.0, seed, extra)
                        (waiting if tot is None else ready).append(r)
                    else:
                        ready.append(Run(label, cal, col, kind, b, seed, extra))
    return ready, waiting


def _alive(lock: Path) -> bool:
    try:
        host, pid = lock.read_text().split()
    except (OSError, ValueError):
        return True  # being written right now
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fingerprint(a: argparse.Namespace) -> str:
    """Cache key of everything a run's numbers depend on besides its own options: the
    baq-opt binary, the Python code that calibrates, reads and evaluates, the data files."""
    import hashlib
    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parent
    for f in [a.baq_opt] + [pkg / f"{m}.py" for m in ("quantize", "export", "llama2c", "mlir",
                                                     "packed", "eval")]:
        h.update(f.read_bytes())
    for f in (a.checkpoint, a.tokenizer, a.calib, a.text):
        st = f.stat()
        h.update(f"{f.name} {st.st_size} {st.st_mtime_ns}".encode())
    h.update(f"windows={a.windows}".encode())
    return h.hexdigest()[:12]


def run_dir(run: Run, a: argparse.Namespace) -> Path:
    return a.work_dir / "runs" / a.fingerprint / run.slug


def execute(run: Run, a: argparse.Namespace) -> dict | None:
    """Quantize + evaluate one run unless it is cached or another process holds it."""
    d = run_dir(run, a)
    res = d / "result.json"
    if res.is_file():
        return read_cached(res)
    # (the caller re-labels the result with the requesting run: one run can serve several
    # table columns, e.g. uniform GPTQ's payload:2 and uniform:2)
    d.mkdir(parents=True, exist_ok=True)
    lock = d / "run.lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        if _alive(lock):
            log(f"{run.slug}: held by another process ({lock.read_text().strip()}), skipped")
            return None
        lock.unlink(missing_ok=True)
        return execute(run, a)
    os.write(fd, f"{socket.gethostname()} {os.getpid()}".encode())
    os.close(fd)
    try:
        return _execute_locked(run, a, d, res)
    finally:
        lock.unlink(missing_ok=True)


def _execute_locked(run: Run, a: argparse.Namespace, d: Path, res: Path) -> dict:
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # runs are parallel: one BLAS thread each
    pkg = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = pkg + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    q, ev = d / "q.mlir", d / "eval.json"
    qcmd = [sys.executable, "-m", "baq.quantize", "--checkpoint", str(a.checkpoint),
            "--tokenizer", str(a.tokenizer), "--calib", str(a.calib), "--baq-opt",
            str(a.baq_opt), "--allocate", run.options, "--calibration", run.calibration,
            "--windows", str(a.windows), "--seed", str(run.seed), "-o", str(q)]
    ecmd = [sys.executable, "-m", "baq.eval", "--checkpoint", str(a.checkpoint), "--tokenizer",
            str(a.tokenizer), "--text", str(a.text), "--json", str(ev), str(q)]
    out: dict = {"run": asdict(run), "options": run.options, "slug": run.slug,
                 "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                 "load_start": os.getloadavg()[0]}
    t0 = time.time()
    with open(d / "quantize.log", "w") as lf:
        p = subprocess.run(qcmd, stdout=lf, stderr=subprocess.STDOUT, env=env)
    out["quantize_s"] = round(time.time() - t0, 2)
    if p.returncode == 0:
        t1 = time.time()
        with open(d / "eval.log", "w") as lf:
            p = subprocess.run(ecmd, stdout=lf, stderr=subprocess.STDOUT, env=env)
        out["eval_s"] = round(time.time() - t1, 2)
        if p.returncode == 0:
            e = read_json(ev, "baq.eval JSON result")
            out.update(perplexity=e["perplexity"], payload_bits=e["payload_bits"],
                       total_bits=e["total_bits"], bits=e["bits"])
        else:
            out["error"] = ("baq.eval failed: " +
                            (d / "eval.log").read_text(errors="replace")[-1500:])
    else:
        out["error"] = ("baq.quantize failed: " +
                        (d / "quantize.log").read_text(errors="replace")[-1500:])
    out["load_end"] = os.getloadavg()[0]
    tmp = res.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1))
    tmp.replace(res)
    status = (f"ppl {out['perplexity']:.3f}, total {out['total_bits']:.4f} b/w"
              if "error" not in out else "FAILED")
    log(f"{run.slug}: {status} ({out['quantize_s']:.0f} s quantize)")
    return out


def run_all(runs: list[Run], a: argparse.Namespace) -> list[dict]:
    """Results of ``runs`` (each slug executed once), labelled with each requesting run;
    runs held by another process are left out."""
    unique = list({r.slug: r for r in runs}.values())
    if a.render_only:
        got = [read_cached(p) if (p := run_dir(r, a) / "result.json").is_file()
               else None for r in unique]
    elif a.jobs <= 1:
        got = [execute(r, a) for r in unique]
    else:
        with ThreadPoolExecutor(a.jobs) as ex:
            got = list(ex.map(lambda r: execute(r, a), unique))
    by_slug = {r.slug: g for r, g in zip(unique, got) if g is not None}
    return [{**by_slug[r.slug], "run": asdict(r)} for r in runs if r.slug in by_slug]


def read_cached(path: Path, key: str | None = None) -> dict:
    """A cached JSON result; a corrupt one (an interrupted write by an older version, a
    hand edit) is a located error that says how to recover."""
    try:
        doc = read_json(path, "cached result")
        if not isinstance(doc, dict) or (key is not None and key not in doc):
            raise BaqError(f"{path}: not a cached result (expected a JSON object"
                           f"{f' with {key!r}' if key else ''})")
    except BaqError as e:
        raise BaqError(f"{e}; delete it to recompute") from None
    return doc


def fp32_perplexity(a: argparse.Namespace) -> float:
    cache = a.work_dir / "fp32.json"
    if cache.is_file():
        return read_cached(cache, "perplexity")["perplexity"]
    from .llama2c import Transformer, load_model, perplexity, token_stream
    ckpt, tok = load_model(a.checkpoint, a.tokenizer)
    stream = token_stream(read_text(a.text, "dev text"), tok)
    if len(stream) < 2:
        raise BaqError(f"{a.text}: no text to evaluate (empty, whitespace or only "
                       f"<|endoftext|> lines)")
    ppl = perplexity(Transformer(ckpt), stream, min(512, ckpt.config.seq_len), 8).perplexity
    a.work_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"perplexity": ppl}))
    return ppl


# ----------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------


def first_error(log_text: str) -> str:
    """The most specific diagnostic of a failed run's log (baq-opt's own ``error:`` line)."""
    errs = [ln for ln in log_text.splitlines() if "error:" in ln]
    if not errs:
        return log_text.strip().splitlines()[-1][:200] if log_text.strip() else "failed"
    ln = errs[-1]
    return ln[ln.index("error:"):][:240]


def aggregate(results: list[dict]) -> dict[tuple[str, str, str], dict]:
    """(method, calibration, column) -> stats over seeds."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in results:
        k = (r["run"]["method"], r["run"]["calibration"], r["run"]["column"])
        groups.setdefault(k, []).append(r)
    out = {}
    for k, rs in groups.items():
        ok = [r for r in rs if "error" not in r]
        s = {"n": len(ok), "failed": len(rs) - len(ok),
             "seeds": sorted(r["run"]["seed"] for r in ok),
             "budget": rs[0]["run"]["budget"], "target": rs[0]["run"]["target"],
             "errors": [first_error(r["error"]) for r in rs if "error" in r]}
        if ok:
            p = np.array([r["perplexity"] for r in ok])
            t = np.array([r["total_bits"] for r in ok])
            s.update(ppl_mean=float(p.mean()), ppl_min=float(p.min()), ppl_max=float(p.max()),
                     total_mean=float(t.mean()), total_min=float(t.min()),
                     total_max=float(t.max()),
                     payload_mean=float(np.mean([r["payload_bits"] for r in ok])),
                     payload_max=float(np.max([r["payload_bits"] for r in ok])),
                     quantize_s=float(np.mean([r["quantize_s"] for r in ok])))
        out[k] = s
    return out


def fmt_ppl(x: float) -> str:
    """Perplexity with 3-4 significant digits, large values without exponents."""
    if x >= 1000:
        return f"{x:,.0f}"
    return f"{x:.1f}" if x >= 100 else f"{x:.2f}" if x >= 10 else f"{x:.3f}"


def _cell(s: dict | None, nseeds: int = 0) -> str:
    if s is None:
        return "–"
    if not s["n"]:
        return f"failed ({s['failed']})"
    txt = (f"**{fmt_ppl(s['ppl_mean'])}** ({fmt_ppl(s['ppl_min'])}–{fmt_ppl(s['ppl_max'])}) "
           f"@ {s['total_mean']:.3f}")
    if s["total_max"] - s["total_min"] > 5e-4:
        txt += f" ({s['total_min']:.3f}–{s['total_max']:.3f})"
    used = s["total_max"] if s["budget"] == "total" else s["payload_max"]
    if used > s["target"] + 1e-9:
        txt += f" ⚠ over the {s['budget']} budget ({used:.4f} > {s['target']:.4g})"
    if s["failed"]:
        txt += f", {s['failed']} failed"
    if s["n"] + s["failed"] < nseeds:
        txt += f" [seeds {','.join(map(str, s['seeds']))} only]"
    return txt


def column_title(col: str, stats: dict) -> str:
    kind, b = parse_target(col)
    if kind == "total":
        return f"budget=total, target {b:g} bits/weight"
    if kind == "payload":
        return f"budget=payload, target {b:g} bits/weight"
    tot = [s["target"] for (m, _, c), s in stats.items() if c == col and
           m.split("+")[0] not in UNIFORM]
    t = f" = {tot[0]:.4f}" if tot else ""
    return (f"uniform GPTQ's own total at {b:g} payload bits (RTN, GPTQ: budget=payload "
            f"target {b:g}; the others budget=total target{t})")


def render(a: argparse.Namespace, results: list[dict], expected: int, fp32: float,
           header: dict) -> str:
    stats = aggregate(results)
    labels = [m for m, _ in method_names(a.methods, a.extra)]
    lines = [BEGIN, "",
             "<!-- generated by `python -m baq.results`; edit the script, not this block -->",
             "", f"Command: `{header['command']}`", "",
             f"Machine: {header['cpu']}, {os.cpu_count()} CPUs; rendered {header['date']}, load "
             f"average {header['load_start']} at start, {header['load_end']} at end; baq-opt "
             f"`{a.baq_opt}` (repository at `{header['commit']}`, run cache key "
             f"`{a.fingerprint}`); {header['elapsed']}.", "",
             f"{header['runs']}", "",
             f"Model `{a.checkpoint.name}`, calibration `{a.calib.name}` ({a.windows} windows "
             f"per run, seeds {', '.join(map(str, a.seeds))}), perplexity on "
             f"`{a.text.name}` (every 512-token window). FP32 perplexity **{fp32:.4f}**.", "",
             "Each cell: **mean** (min–max) perplexity over the calibration seeds @ mean total "
             "honest bits per weight (FORMAT.md §6, all linear layers, from the independent "
             "reader); ⚠ marks a configuration whose stored bits exceed its budget in some "
             "seed. RTN reads no Hessian and the sequential driver cannot honour a "
             "module-wide budget block by block: both run with FP32 calibration only.", ""]
    if len(results) < expected:
        lines += [f"**Incomplete: {len(results)} of {expected} runs finished.**", ""]
    for col in a.targets:
        rows = []
        for m in labels:
            cells = [_cell(stats.get((m, c, col)), len(a.seeds)) for c in a.calibrations]
            if any(c != "–" for c in cells):
                rows.append(f"| {m} | " + " | ".join(cells) + " |")
        if not rows:
            lines += [f"### {column_title(col, stats)}", "", "No run finished.", ""]
            continue
        lines += [f"### {column_title(col, stats)}", "",
                  "| method | " + " | ".join(a.calibrations) + " |",
                  "|---|" + "---:|" * len(a.calibrations), *rows, ""]
    errs = sorted({(k, e) for k, s in stats.items() for e in s["errors"]})
    if errs:
        lines += ["Failures (last line of the log):", ""]
        lines += [f"* {k[0]} / {k[1]} / {k[2]}: `{e}`" for k, e in errs[:20]]
        lines.append("")
    times = {}
    for (m, c, _), s in stats.items():
        if s["n"]:
            times.setdefault(c, []).append(s["quantize_s"])
    lines += ["Driver time per run (`baq.quantize`, wall clock, runs sharing the machine): " +
              "; ".join(f"{c} {np.mean(v):.0f} s (mean of {len(v)} configurations)"
                        for c, v in times.items()) + ".", ""]
    lines += [f"![perplexity against total bits]({header['plot_rel']})", "", END]
    return "\n".join(lines) + "\n"


def plot(a: argparse.Namespace, results: list[dict], fp32: float, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    stats = aggregate(results)
    labels = [m for m, _ in method_names(a.methods, a.extra)]
    fig, axes = plt.subplots(1, len(a.calibrations), figsize=(5.2 * len(a.calibrations), 4.4),
                             sharey=True, squeeze=False)
    for ax, cal in zip(axes[0], a.calibrations):
        for m in labels:
            pts = sorted((s["total_mean"], s["ppl_mean"], s["ppl_min"], s["ppl_max"])
                         for (mm, c, _), s in stats.items()
                         if mm == m and (c == cal or (mm == "rtn" and c == "fp32")) and s["n"])
            if not pts:
                continue
            x, y, lo, hi = map(np.array, zip(*pts))
            ax.errorbar(x, y, yerr=[y - lo, hi - y], marker="o", ms=3, capsize=2, label=m)
        ax.axhline(fp32, color="gray", ls=":", lw=1, label="fp32")
        ax.set_yscale("log")
        ax.set_xlabel("total bits per weight (honest)")
        ax.set_title(f"{cal} Hessians")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("dev perplexity (mean, min–max over seeds)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_doc(doc: Path, block: str) -> None:
    text = read_text(doc, "markdown") if doc.is_file() else "# Results\n\n"
    if BEGIN in text and END in text:
        i, j = text.index(BEGIN), text.index(END) + len(END)
        text = text[:i] + block.rstrip("\n") + text[j:]
    else:
        nl = text.find("\n") + 1
        text = text[:nl] + "\n" + block + "\n" + text[nl:]
    doc.write_text(text)


def _sh(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="baq-results", description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--calib", type=Path, required=True, help="calibration text")
    ap.add_argument("--text", type=Path, required=True, help="dev text for perplexity")
    ap.add_argument("--baq-opt", type=Path, default=Path("build/bin/baq-opt"))
    ap.add_argument("--quick", action="store_true",
                    help="2-bit class only: gptq and baq-exact at total:2.47 and uniform:2, "
                         "all calibrations, seeds 0-2 (the options below override)")
    ap.add_argument("--methods", nargs="+", choices=list(METHOD_OPTIONS))
    ap.add_argument("--calibrations", nargs="+", choices=CALIBRATIONS)
    ap.add_argument("--targets", nargs="+", metavar="KIND:BITS",
                    help="total:B, payload:B or uniform:B (default: total:2.47 total:3.47 "
                         "total:4.47 uniform:2 uniform:3 uniform:4)")
    ap.add_argument("--seeds", nargs="+", type=int)
    ap.add_argument("--windows", type=int, default=128, help="calibration windows per run")
    ap.add_argument("--extra", action="append", default=None, metavar="OPTIONS",
                    help="an extra baq-exact configuration: additional --baq-allocate options "
                         "(repeatable), e.g. --extra 'group-size=32'; METHOD:OPTIONS makes a "
                         "variant of another method, e.g. --extra 'gptq:mse-grid=false' "
                         "(default: the levers of issue 10 when no --methods are selected, "
                         "none with --quick)")
    ap.add_argument("--jobs", type=int, default=1, help="runs in parallel (1)")
    ap.add_argument("--work-dir", type=Path, default=Path("results-work"),
                    help="run cache (default results-work/), keyed by a hash of baq-opt, "
                         "the Python code and the data")
    ap.add_argument("--doc", type=Path, default=Path("docs/RESULTS.md"),
                    help="markdown file whose generated block is replaced")
    ap.add_argument("--plot", type=Path, default=Path("docs/results/ppl-vs-total-bits.png"))
    ap.add_argument("--render-only", action="store_true",
                    help="tabulate the cached runs without running anything")
    a = ap.parse_args(argv)
    base = QUICK if a.quick else FULL
    if a.extra is None and a.methods is not None:
        a.extra = []  # a method selection runs exactly those methods
    for k in ("methods", "calibrations", "targets", "seeds", "extra"):
        if getattr(a, k) is None:
            setattr(a, k, list(base[k]))
    a.extra = [e for e in a.extra if e.strip()]
    for t in a.targets:
        try:
            parse_target(t)
        except argparse.ArgumentTypeError as e:
            ap.error(str(e))
    if a.jobs < 1 or a.windows < 0:
        ap.error("--jobs must be >= 1 and --windows >= 0")
    for f in (a.checkpoint, a.tokenizer, a.calib, a.text):
        if not f.is_file():
            ap.error(f"{f} not found")
    if a.work_dir.exists() and not a.work_dir.is_dir():
        ap.error(f"--work-dir {a.work_dir} is not a directory")
    if not a.render_only and not a.baq_opt.is_file():
        ap.error(f"baq-opt not found at {a.baq_opt}")
    for p in ("checkpoint", "tokenizer", "calib", "text", "baq_opt", "work_dir"):
        setattr(a, p, getattr(a, p).resolve())

    if a.render_only and not a.baq_opt.is_file():
        ap.error(f"baq-opt not found at {a.baq_opt} (it is part of the cache key)")
    a.fingerprint = fingerprint(a)
    t0 = time.time()
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    fp32 = fp32_perplexity(a)
    uniform_totals: dict[float, float] = {}
    results: list[dict] = []

    def collect(runs: list[Run]) -> None:
        results.extend(run_all(runs, a))

    ready, waiting = plan(a, uniform_totals)
    # uniform GPTQ's own totals first: the uniform:B columns of the other methods need them
    first = [r for r in ready if r.method == "gptq" and r.column.startswith("uniform:")]
    if waiting and not first:  # gptq not selected: still measure its totals (seed 0, fp32)
        first = [Run("gptq", "fp32", f"uniform:{b:g}", "payload", b, 0)
                 for b in sorted({parse_target(c)[1] for c in a.targets
                                  if c.startswith("uniform:")})]
    collect(first)
    for r in results:
        if r["run"]["method"] == "gptq" and "error" not in r:
            uniform_totals[r["run"]["target"]] = r["total_bits"]
    ready, waiting = plan(a, uniform_totals)
    collect([r for r in ready if r not in first])
    results = [r for r in results if r["run"]["method"] in
               {m for m, _ in method_names(a.methods, a.extra)}]
    expected = len(ready) + len(waiting)
    header = {
        "command": "python -m baq.results " + " ".join(shlex.quote(x) for x in
                                                     (argv if argv is not None else sys.argv[1:])),
        "cpu": next((ln.split(":", 1)[1].strip() for ln in _sh(["lscpu"]).splitlines()
                     if ln.startswith("Model name")), platform.processor() or "unknown CPU"),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_start": load_start,
        "load_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "commit": _sh(["git", "-C", str(a.baq_opt.parent), "rev-parse", "--short", "HEAD"]
                      ).strip() or "unknown",
        "elapsed": f"this invocation took {time.time() - t0:.0f} s"
                   + (" (tables from cached runs)" if a.render_only else ""),
        "plot_rel": os.path.relpath(a.plot.resolve(), a.doc.resolve().parent),
    }
    started = sorted(r["started"] for r in results if "started" in r)
    loads = [r[k] for r in results for k in ("load_start", "load_end") if k in r]
    n_runs = len({r["slug"] for r in results})
    header["runs"] = (f"The {n_runs} runs were made {started[0]} – {started[-1]}; 1-minute "
                      f"load average at their starts and ends {min(loads):.1f}–{max(loads):.1f}."
                      if started and loads else "No runs finished.")
    block = render(a, results, expected, fp32, header)
    plot(a, results, fp32, a.plot)
    write_doc(a.doc, block)
    (a.work_dir / "results.json").write_text(json.dumps(
        {"fingerprint": a.fingerprint, "fp32_perplexity": fp32,
         "uniform_totals": uniform_totals, "runs": results}, indent=1))
    log(f"{len(results)}/{expected} runs; wrote {a.doc}, {a.plot} and "
        f"{a.work_dir / 'results.json'} in {time.time() - t0:.0f} s")
    return 0 if len(results) == expected and not any("error" in r for r in results) else 1


def cli() -> int:
    """Console entry point: input errors become one ``baq-results: error:`` line, exit 2."""
    return run("baq-results", main)


if __name__ == "__main__":
    sys.exit(cli())
