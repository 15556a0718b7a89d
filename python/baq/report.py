"""baq-report: PNG plots from ``--baq-allocate``'s JSON report(s) and from a baq-eval sweep.

* ``<stem>-bits.png``: per-layer histogram of column bitwidths (stacked fractions 0..8 bits);
* ``<stem>-ratio.png``: the paper's Ratio_C = G/A (predicted gain bound) against the realised
  Hessian-loss ratio BAQ / uniform per layer (points on y = x mean the bound is met);
* ``sweep-ppl.png``: perplexity against total honest bits per weight, one line per method.

Reports from different versions of the pass differ in detail, so every key is optional.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .cli import ArgumentParser, BaqError, read_json, run  # noqa: E402


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_numbers(path: Path, where: str, v: Any, allow_dict: bool = False) -> None:
    """``v`` is absent (None), a number, or a list of numbers; else a located error."""
    if v is None or _is_number(v):
        return
    if isinstance(v, list) and all(_is_number(x) for x in v):
        return
    if allow_dict and isinstance(v, dict):
        for k in ("per_column", "columns"):
            _check_numbers(path, f"{where}.{k}", v.get(k))
        return
    raise BaqError(f"{path}: {where}: expected a number or a list of numbers, got "
                   f"{json.dumps(v)[:60]}")


def load_report(path: Path) -> dict[str, Any]:
    """A ``--baq-allocate`` report, checked for the types the plots read (every key is
    optional, but what is there must have the right type)."""
    rep = read_json(path, "pass report")
    if not isinstance(rep, dict):
        raise BaqError(f"{path}: not a pass report (expected a JSON object, got "
                       f"{type(rep).__name__})")
    matmuls = rep.get("matmuls", [])
    if not isinstance(matmuls, list):
        raise BaqError(f"{path}: matmuls: expected a list, got {json.dumps(matmuls)[:60]}")
    for i, m in enumerate(matmuls):
        if not isinstance(m, dict):
            raise BaqError(f"{path}: matmuls[{i}]: expected an object, got "
                           f"{json.dumps(m)[:60]}")
        for k in ("ratio_c", "hessian_loss", "uniform_hessian_loss"):
            if m.get(k) is not None and not _is_number(m[k]):
                raise BaqError(f"{path}: matmuls[{i}].{k}: expected a number, got "
                               f"{json.dumps(m[k])[:60]}")
        _check_numbers(path, f"matmuls[{i}].bits_histogram", m.get("bits_histogram"))
        _check_numbers(path, f"matmuls[{i}].bits", m.get("bits"), allow_dict=True)
    return rep


def load_sweep(path: Path) -> dict[str, Any] | list:
    """A ``baq-eval --sweep`` JSON (an object with ``rows``, or the list of rows)."""
    doc = read_json(path, "sweep JSON")
    rows = doc.get("rows", []) if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BaqError(f"{path}: not a sweep (expected a list of row objects)")
    for i, r in enumerate(rows):
        for k in ("perplexity", "total_bits"):
            if r.get(k) is not None and not _is_number(r[k]):
                raise BaqError(f"{path}: rows[{i}].{k}: expected a number, got "
                               f"{json.dumps(r[k])[:60]}")
    return doc


def _layer_name(m: dict[str, Any], i: int) -> str:
    return str(m.get("name") or m.get("location") or m.get("func") or f"matmul{i}")


def _histogram(m: dict[str, Any]) -> np.ndarray | None:
    h = m.get("bits_histogram")
    if isinstance(h, list) and h:
        out = np.zeros(9)
        out[: min(len(h), 9)] = h[:9]
        return out
    b = m.get("bits")
    if isinstance(b, dict):
        b = b.get("per_column") or b.get("columns")
    if isinstance(b, list) and b and all(isinstance(v, (int, float)) for v in b):
        return np.bincount(np.asarray(b, dtype=int).clip(0, 8), minlength=9).astype(float)
    return None


def plot_bits_histogram(report: dict[str, Any], path: Path, title: str = "") -> bool:
    layers = [(_layer_name(m, i), _histogram(m)) for i, m in enumerate(report.get("matmuls", []))]
    layers = [(n, h) for n, h in layers if h is not None and h.sum() > 0]
    if not layers:
        return False
    names = [n for n, _ in layers]
    frac = np.stack([h / h.sum() for _, h in layers])  # [layers, 9]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.28 * len(names) + 2), 4.5))
    cmap = plt.get_cmap("viridis", 9)
    bottom = np.zeros(len(names))
    x = np.arange(len(names))
    for b in range(9):
        if frac[:, b].any():
            ax.bar(x, frac[:, b], bottom=bottom, color=cmap(b), label=f"{b} bit", width=0.85)
            bottom += frac[:, b]
    ax.set_xticks(x, names, rotation=90, fontsize=7)
    ax.set_ylabel("fraction of input columns")
    ax.set_ylim(0, 1)
    ax.set_title(title or "bitwidth histogram per layer")
    ax.legend(fontsize=7, ncol=1, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def plot_ratio(report: dict[str, Any], path: Path, title: str = "") -> bool:
    pts = []
    for i, m in enumerate(report.get("matmuls", [])):
        rc, hl, ul = m.get("ratio_c"), m.get("hessian_loss"), m.get("uniform_hessian_loss")
        if None in (rc, hl, ul) or not ul:
            continue
        pts.append((_layer_name(m, i), float(rc), float(hl) / float(ul)))
    if not pts:
        return False
    fig, ax = plt.subplots(figsize=(5.5, 5))
    rc = np.array([p[1] for p in pts])
    lr = np.array([p[2] for p in pts])
    ax.scatter(rc, lr, s=18)
    for n, a, b in pts:
        ax.annotate(n, (a, b), fontsize=5, alpha=0.7)
    lo = min(rc.min(), lr.min(), 1.0) * 0.95
    hi = max(rc.max(), lr.max(), 1.0) * 1.05
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="y = x (bound met exactly)")
    ax.axhline(1.0, color="gray", lw=0.6)
    ax.set_xlabel("Ratio_C = G/A (predicted loss ratio)")
    ax.set_ylabel("realised Hessian loss ratio BAQ / uniform")
    ax.set_title(title or "predicted vs realised gain per layer")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def plot_sweep(sweep: dict[str, Any] | list, path: Path) -> bool:
    rows = sweep.get("rows", []) if isinstance(sweep, dict) else sweep
    rows = [r for r in rows if r.get("perplexity") is not None and r.get("total_bits") is not None]
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    by_method: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        by_method.setdefault(str(r.get("method")), []).append(
            (float(r["total_bits"]), float(r["perplexity"])))
    for method, pts in by_method.items():
        pts.sort()
        if method == "fp32" or all(b >= 16 for b, _ in pts):
            ax.axhline(pts[0][1], ls="--", color="k", lw=0.8,
                       label=f"{method} ({pts[0][0]:g} b/w): {pts[0][1]:.3g}")
            continue
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=method)
    ax.set_yscale("log")
    ax.set_xlabel("total honest bits per weight")
    ax.set_ylabel("perplexity (dev text)")
    ax.set_title("perplexity vs honest bits")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="baq-report", description=__doc__.split("\n\n")[0])
    ap.add_argument("reports", type=Path, nargs="*", help="--baq-allocate report JSON files")
    ap.add_argument("--sweep", type=Path, help="sweep.json written by baq-eval --sweep")
    ap.add_argument("-o", "--out-dir", type=Path, default=Path("."))
    a = ap.parse_args(argv)
    if not a.reports and not a.sweep:
        ap.error("give report JSON files and/or --sweep")
    if a.out_dir.exists() and not a.out_dir.is_dir():
        ap.error(f"--out-dir {a.out_dir} is not a directory")
    a.out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for rp in a.reports:
        rep = load_report(rp)
        stem = rp.name.removesuffix(".json").removesuffix(".report")
        for suffix, fn in (("bits", plot_bits_histogram), ("ratio", plot_ratio)):
            out = a.out_dir / f"{stem}-{suffix}.png"
            if fn(rep, out, stem):
                written.append(out)
            else:
                print(f"baq-report: {rp}: no data for the {suffix} plot", file=sys.stderr)
    if a.sweep:
        out = a.out_dir / "sweep-ppl.png"
        if plot_sweep(load_sweep(a.sweep), out):
            written.append(out)
        else:
            print(f"baq-report: {a.sweep}: no rows with perplexity", file=sys.stderr)
    for p in written:
        print(p)
    return 0 if written else 1


def cli() -> int:
    """Console entry point: input errors become one ``baq-report: error:`` line, exit 2."""
    return run("baq-report", main)


if __name__ == "__main__":
    sys.exit(cli())
