#!/usr/bin/env python3
"""Quantization speed: BAQ allocation + GPTQ (C++, OpenBLAS) against the same
GPTQ algorithm in PyTorch (CPU) or numpy, on one layer, in one run.

The layer is synthetic but realistic: correlated activations with a few outlier
channels (scripts/gen_synthetic.py), H = 2 X X^T / P. The reference is GPTQ's
`fasterquant` (lazy-batch blocks of 128, Cholesky of H^-1, per-row min-max grid)
at uniform bits: BAQ adds allocation on top, so the comparison charges BAQ for it.

    /usr/bin/python3 bench/allocate/run.py --size 4096 [--build build] [--repeats 3]
"""
import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from gen_synthetic import hessian, hex_blob  # noqa: E402


LAYER_MLIR = """module {{
  func.func @layer(%x: tensor<1x{n}xf32>) -> tensor<1x{m}xf32> {{
    %w = arith.constant dense_resource<w> : tensor<{m}x{n}xf32>
    %zero = arith.constant 0.0 : f32
    %empty = tensor.empty() : tensor<1x{m}xf32>
    %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<1x{m}xf32>) -> tensor<1x{m}xf32>
    %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1)>]
        {{baq.hessian = dense_resource<h> : tensor<{n}x{n}xf32>}}
        ins(%x, %w : tensor<1x{n}xf32>, tensor<{m}x{n}xf32>) outs(%acc : tensor<1x{m}xf32>) -> tensor<1x{m}xf32>
    return %y : tensor<1x{m}xf32>
  }}
}}
"""


def gptq_torch(torch, w, h, bits, blocksize=128, damp=0.01):
    """GPTQ fasterquant (Frantar et al.) as in its reference code: uniform bits,
    per-row min-max grid with 0 inside, lazy-batch blocks."""
    m, n = w.shape
    w, h = w.clone(), h.clone()
    dead = torch.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    maxq = 2 ** bits - 1
    xmin = torch.clamp(w.min(1).values, max=0)
    xmax = torch.clamp(w.max(1).values, min=0)
    scale = (xmax - xmin) / maxq
    scale[scale == 0] = 1
    zero = torch.round(-xmin / scale)
    h += damp * torch.mean(torch.diag(h)) * torch.eye(n)
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    q = torch.zeros_like(w)
    for i1 in range(0, n, blocksize):
        i2 = min(i1 + blocksize, n)
        w1 = w[:, i1:i2].clone()
        err1 = torch.zeros_like(w1)
        hinv1 = hinv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            col, d = w1[:, i], hinv1[i, i]
            qc = scale * (torch.clamp(torch.round(col / scale) + zero, 0, maxq) - zero)
            q[:, i1 + i] = qc
            e = (col - qc) / d
            w1[:, i:] -= e.unsqueeze(1) @ hinv1[i, i:].unsqueeze(0)
            err1[:, i] = e
        w[:, i2:] -= err1 @ hinv[i1:i2, i2:]
    return q


def gptq_numpy(w, h, bits, blocksize=128, damp=0.01):
    """The same algorithm in numpy (used when PyTorch is not installed)."""
    m, n = w.shape
    w, h = w.copy(), h.copy()
    dead = np.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    maxq = 2 ** bits - 1
    xmin = np.minimum(w.min(1), 0)
    xmax = np.maximum(w.max(1), 0)
    scale = (xmax - xmin) / maxq
    scale[scale == 0] = 1
    zero = np.round(-xmin / scale)
    h += np.float32(damp * np.mean(np.diag(h))) * np.eye(n, dtype=np.float32)
    inv_l = np.linalg.inv(np.linalg.cholesky(h))
    hinv = np.linalg.cholesky(inv_l.T @ inv_l).T.copy()
    q = np.zeros_like(w)
    for i1 in range(0, n, blocksize):
        i2 = min(i1 + blocksize, n)
        w1 = w[:, i1:i2].copy()
        err1 = np.zeros_like(w1)
        hinv1 = hinv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            col, d = w1[:, i], hinv1[i, i]
            qc = scale * (np.clip(np.round(col / scale) + zero, 0, maxq) - zero)
            q[:, i1 + i] = qc
            e = (col - qc) / d
            w1[:, i:] -= np.outer(e, hinv1[i, i:])
            err1[:, i] = e
        w[:, i2:] -= err1 @ hinv[i1:i2, i2:]
    return q


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--bits", type=float, default=2.0)
    p.add_argument("--build", default="build")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    n = m = args.size

    rng = np.random.default_rng(0)
    h = hessian(n, rng, samples=2 * n, outliers=8).astype(np.float32)
    w = (rng.standard_normal((m, n)) * np.exp(rng.normal(0, 0.7, size=n))[None, :] * 0.05).astype(np.float32)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wf, hf = os.path.join(tmp, "w.f32"), os.path.join(tmp, "h.f32")
        w.tofile(wf)
        h.tofile(hf)
        tool = os.path.join(args.build, "bin", "baq-bench-allocate")
        for label, extra in (("C++ BAQ-exact + GPTQ", []), ("C++ uniform GPTQ", ["--uniform"])):
            out = subprocess.run([tool, f"--weights={wf}", f"--hessian={hf}", f"-m={m}", f"-n={n}",
                                  f"--target-bits={args.bits}", f"--repeats={args.repeats}", *extra],
                                 check=True, capture_output=True, text=True).stdout
            stats = dict(line.split() for line in out.splitlines())
            rows.append((label, float(stats["prepare"]) + float(stats["quantize"])))

        # The whole pass through baq-opt, from and to bytecode (parse, Hessian,
        # allocation, GPTQ, packing, verification, writing).
        text, bc = os.path.join(tmp, "layer.mlir"), os.path.join(tmp, "layer.mlirbc")
        with open(text, "w") as f:
            f.write(LAYER_MLIR.format(m=m, n=n) + '{-#\n  dialect_resources: {\n    builtin: {\n'
                    f'      w: "{hex_blob(w)}",\n      h: "{hex_blob(h)}"\n    }}\n  }}\n#-}}\n')
        opt = os.path.join(args.build, "bin", "baq-opt")
        subprocess.run([opt, text, "--emit-bytecode", "-o", bc], check=True)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([opt, bc, f"--baq-allocate=target-bits={args.bits} progress=false",
                            "--emit-bytecode", "-o", os.path.join(tmp, "out.mlirbc")], check=True)
            times.append(time.perf_counter() - t0)
        rows.append(("baq-opt --baq-allocate (bytecode I/O)", sorted(times)[len(times) // 2]))

    refs = []
    try:
        import torch
        torch.set_num_threads(os.cpu_count())
        wt, ht = torch.from_numpy(w), torch.from_numpy(h)
        refs.append((f"PyTorch {torch.__version__} GPTQ (CPU)",
                     lambda: gptq_torch(torch, wt, ht, int(args.bits)), args.repeats))
    except ImportError:
        print("# PyTorch not installed (Debian: python3-torch); numpy reference only", file=sys.stderr)
    refs.append((f"numpy {np.__version__} GPTQ", lambda: gptq_numpy(w, h, int(args.bits)), 1))
    for label, run, repeats in refs:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        rows.append((label, sorted(times)[len(times) // 2]))

    cpu = platform.processor() or "cpu"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"# GPTQ on one {m}x{n} layer, {args.bits:g} bits, {os.cpu_count()} cores ({cpu}), "
          f"{time.strftime('%Y-%m-%d')}; median of {args.repeats}")
    base = rows[0][1]
    print(f"| {'implementation':<38} | {'seconds':>8} | {'vs C++ BAQ':>10} |")
    print(f"|{'-' * 40}|{'-' * 9}:|{'-' * 11}:|")
    for label, seconds in rows:
        print(f"| {label:<38} | {seconds:8.2f} | {seconds / base:9.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
