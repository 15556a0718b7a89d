#!/usr/bin/env python3
"""Writes the CPU benchmark problem: one packed mixed-bitwidth weight
(M x N, nn.Linear orientation) and functions @gemv_r<R>(x, c) = c + x W^T for
each requested activation row count R, as baq.packed_constant +
baq.dequantize + linalg.matmul (the form --baq-allocate produces), plus the
dequantized weight as raw little-endian f32 (M x N row-major) for OpenBLAS.

Bitwidths: --bits-from takes the #baq.bits of the first quantized matmul of
an MLIR file (e.g. --baq-allocate output, so the mix is a real BAQ
allocation); otherwise a normal(avg, 0.9) mix clipped to 0..8 and nudged to
exactly the average.

    gen_gemv.py --m 4096 --n 4096 --avg 2 --rows 1,8 -o gemv.mlir --weights w.f32
"""
import argparse
import importlib.util
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "gen_case", os.path.join(HERE, "..", "..", "test", "Conversion", "BaqToCPU",
                             "Inputs", "gen_case.py"))
gen_case = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_case)


def bits_from_mlir(path, n):
    text = open(path).read()
    m = re.search(r"baq\.bits = #baq\.bits<\[([0-9, ]+)\]>", text)
    if not m:
        sys.exit(f"{path}: no #baq.bits found")
    bits = [int(b) for b in m.group(1).split(",")]
    if len(bits) != n:
        sys.exit(f"{path}: {len(bits)} bitwidths, expected {n}")
    return bits


def synthetic_bits(n, avg, rng):
    bits = np.clip(np.rint(rng.normal(avg, 0.9, n)), 0, 8).astype(int)
    target = int(round(avg * n))
    order = rng.permutation(n)
    i = 0
    while bits.sum() != target:
        j = order[i % n]
        if bits.sum() < target and bits[j] < 8:
            bits[j] += 1
        elif bits.sum() > target and bits[j] > 0:
            bits[j] -= 1
        i += 1
    return [int(b) for b in bits]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--m", type=int, default=4096)
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--avg", type=float, default=2.0)
    p.add_argument("--bits-from", default="")
    p.add_argument("--uniform", type=int, default=-1, help="every channel gets this bitwidth")
    p.add_argument("--rows", default="1,8")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--weights", default="", help="write the dequantized W (f32 M x N) here")
    args = p.parse_args()

    rng = np.random.default_rng(args.seed)
    m, n = args.m, args.n
    if args.uniform >= 0:
        bits = [args.uniform] * n
    elif args.bits_from:
        bits = bits_from_mlir(args.bits_from, n)
    else:
        bits = synthetic_bits(n, args.avg, rng)
    perm, segs, nwords, live, groups = gen_case.layout(bits, 0, m)
    codes = np.zeros((m, n), dtype=np.int64)
    for j, b in enumerate(bits):
        if b:
            codes[:, j] = rng.integers(0, 1 << b, m)
    scales = rng.uniform(0.01, 0.03, (m, 1)).astype(np.float16)
    zeros = (-0.5 * scales.astype(np.float32)).astype(np.float16)
    words = gen_case.pack(codes, bits, perm, segs, nwords)
    if args.weights:
        w = np.zeros((m, n), dtype=np.float32)
        for j, b in enumerate(bits):
            if b:
                w[:, j] = gen_case.grid_weights(codes[:, j], b, scales[:, 0], zeros[:, 0])
        w.tofile(args.weights)

    flat = ", ".join(str(v) for s in segs for v in s)
    layout = (f"#baq.layout<outputs = {m}, inputs = {n}, channel_dim = 1, "
              f"bits = [{', '.join(map(str, bits))}], perm = [{', '.join(map(str, perm))}], "
              f"segments = [{flat}], group_size = 0, scale_type = f16, zero_type = f16, "
              f"payload_bytes = {4 * nwords}, scale_bytes = {2 * m}, zero_bytes = {2 * m}>")
    ptype, stype, wtype = f"tensor<{nwords}xi32>", f"tensor<{m}x1xf16>", f"tensor<{m}x{n}xf32>"
    maps = ("indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, "
            "affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]")
    out = [f"#layout = {layout}", "module {"]
    for r in [int(v) for v in args.rows.split(",")]:
        xt, yt = f"tensor<{r}x{n}xf32>", f"tensor<{r}x{m}xf32>"
        out.append(f"""  func.func @gemv_r{r}(%x: {xt}, %c: {yt}) -> {yt} {{
    %p, %s, %z = baq.packed_constant #layout
        payload(dense_resource<w_payload> : {ptype})
        scales(dense_resource<w_scales> : {stype})
        zeros(dense_resource<w_zeros> : {stype})
    %w = baq.dequantize %p, %s, %z layout(#layout) : {ptype}, {stype}, {stype} -> {wtype}
    %y = linalg.matmul {maps} ins(%x, %w : {xt}, {wtype}) outs(%c : {yt}) -> {yt}
    return %y : {yt}
  }}""")
    out.append("}")
    out.append("{-#\n  dialect_resources: {\n    builtin: {")
    out.append(f'      w_payload: "{gen_case.blob(words)}",')
    out.append(f'      w_scales: "{gen_case.blob(scales)}",')
    out.append(f'      w_zeros: "{gen_case.blob(zeros)}"')
    out.append("    }\n  }\n#-}")
    with open(args.output, "w") as f:
        f.write("\n".join(out) + "\n")
    hist = np.bincount(bits, minlength=9)
    print(f"bits: avg {np.mean(bits):.3f}, histogram 0..8 {hist.tolist()}, "
          f"{len(segs)} segments, {nwords} words, payload {4 * nwords} bytes "
          f"({32 * nwords / (m * n):.3f} bits/weight incl. padding)")


if __name__ == "__main__":
    main()
