#!/usr/bin/env python3
"""Writes synthetic linalg.matmul modules with calibration Hessians.

Weights and Hessians are `dense_resource` blobs, Hessians attached as
`baq.hessian` (docs/FORMAT.md, BRIEF §3). Activations are correlated
(a random low-rank mixing plus noise) with a few outlier channels, so the
Hessians have the spread of sensitivities that real LLM layers show.

Used by the lit tests, the bundled example and the benchmarks:

    gen_synthetic.py --layer q:64x64 --layer k:32x64 --share-hessian q,k -o m.mlir
"""
import argparse
import sys

import numpy as np


def hessian(n: int, rng: np.random.Generator, samples: int, outliers: int) -> np.ndarray:
    """H = 2/P X X^T for correlated activations X (n x P) with outliers."""
    rank = max(1, n // 4)
    mix = rng.standard_normal((n, rank)) / np.sqrt(rank)
    x = mix @ rng.standard_normal((rank, samples)) + 0.3 * rng.standard_normal((n, samples))
    scale = np.exp(rng.normal(0.0, 0.5, size=n))
    scale[rng.choice(n, size=min(outliers, n), replace=False)] *= 20.0
    x *= scale[:, None]
    return (2.0 / samples) * (x @ x.T)


def hex_blob(array: np.ndarray) -> str:
    """dense_resource hex: 4-byte little-endian alignment, then raw data."""
    data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False)
    return "0x" + np.uint32(max(4, data.itemsize)).tobytes().hex().upper() + data.tobytes().hex().upper()


MLIR_TYPES = {"f32": np.float32, "f16": np.float16, "bf16": None}


def to_storage(x: np.ndarray, dtype: str) -> np.ndarray:
    """Values in the blob's element type (bf16: its 16-bit patterns, rounded to nearest even)."""
    if dtype != "bf16":
        return x.astype(MLIR_TYPES[dtype])
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    return (((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF).astype(np.uint16)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layer", action="append", required=True,
                   help="NAME:MxN (M outputs, N inputs); repeatable")
    p.add_argument("--share-hessian", action="append", default=[],
                   help="comma-separated layer names that share one Hessian blob")
    p.add_argument("--orientation", choices=["nk", "kn"], default="nk",
                   help="nk: weight [M, N] with transposed-B maps (nn.Linear); kn: plain [N, M]")
    p.add_argument("--dtype", choices=sorted(MLIR_TYPES), default="f32")
    p.add_argument("--rows", type=int, default=1, help="activation rows of each matmul")
    p.add_argument("--samples", type=int, default=0, help="calibration vectors (default 4N)")
    p.add_argument("--outliers", type=int, default=2)
    p.add_argument("--no-hessian", action="append", default=[], help="layer without Hessian")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", default="-")
    args = p.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    layers = []
    for spec in args.layer:
        name, shape = spec.split(":")
        m, n = (int(v) for v in shape.split("x"))
        layers.append((name, m, n))
    shared = {}
    for group in args.share_hessian:
        names = group.split(",")
        for name in names:
            shared[name] = names[0] + "_hessian"

    funcs, blobs, hessians = [], {}, {}
    for name, m, n in layers:
        # Column scales spread over two orders of magnitude: uneven sensitivity.
        w = rng.standard_normal((m, n)) * np.exp(rng.normal(0.0, 0.7, size=n))[None, :] * 0.05
        wt = "tensor<{}x{}x{}>".format(*((m, n) if args.orientation == "nk" else (n, m)), args.dtype)
        blobs[name] = to_storage(w if args.orientation == "nk" else w.T, args.dtype)
        attr = ""
        if name not in args.no_hessian:
            key = shared.get(name, name + "_hessian")
            if key not in hessians:
                hessians[key] = hessian(n, rng, args.samples or 4 * n, args.outliers).astype(np.float32)
                blobs[key] = hessians[key]
            attr = "{{baq.hessian = dense_resource<{}> : tensor<{}x{}xf32>}} ".format(key, n, n)
        maps = ("indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, "
                "affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] "
                if args.orientation == "nk" else "")
        r, t = args.rows, args.dtype
        funcs.append(f"""  func.func @{name}(%x: tensor<{r}x{n}x{t}>) -> tensor<{r}x{m}x{t}> {{
    %w = arith.constant dense_resource<{name}> : {wt}
    %zero = arith.constant 0.0 : {t}
    %empty = tensor.empty() : tensor<{r}x{m}x{t}>
    %acc = linalg.fill ins(%zero : {t}) outs(%empty : tensor<{r}x{m}x{t}>) -> tensor<{r}x{m}x{t}>
    %y = linalg.matmul {maps}{attr}ins(%x, %w : tensor<{r}x{n}x{t}>, {wt}) outs(%acc : tensor<{r}x{m}x{t}>) -> tensor<{r}x{m}x{t}>
    return %y : tensor<{r}x{m}x{t}>
  }}""")

    out = sys.stdout if args.output == "-" else open(args.output, "w")
    out.write("module {\n" + "\n".join(funcs) + "\n}\n")
    out.write("{-#\n  dialect_resources: {\n    builtin: {\n")
    out.write(",\n".join(f'      {k}: "{hex_blob(v)}"' for k, v in blobs.items()))
    out.write("\n    }\n  }\n#-}\n")
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
