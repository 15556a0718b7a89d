#!/usr/bin/env python3
"""Writes a self-checking module for the BAQ kernels.

The module holds a quantized matmul (baq.packed_constant + baq.dequantize +
linalg.matmul, as --baq-allocate produces) or a lone baq.dequantize, and a
`@main` that runs it on fixed data and compares with a reference computed
here in float64 from the codes (not from the packed words), with the weights
of docs/FORMAT.md §4 in float32: step = scale / (2^b - 1), integer zero point
zp = clamp(round_half_even(-zero / step), 0, 2^b - 1), w = (q - zp) * step,
0 for 0-bit channels. `@main` prints the normwise relative error max|y - ref| / max|ref|
and PASS or FAIL against --tol.

    gen_case.py --bits 3 --m 37 --n 70 --rows 2 --orientation kn | \
        baq-opt --baq-lower-cpu | mlir-runner -e main ...
"""
import argparse
import sys

import numpy as np

NP = {"f32": np.float32, "f16": np.float16, "bf16": None}


def layout(bits, group_size, m):
    """FORMAT.md §1-3: segments (bits, start, count, bit_offset) and the
    payload size in words, F * M + ceil(M * r / 32)."""
    n = len(bits)
    perm = sorted(range(n), key=lambda j: (-bits[j], j))
    segs, off = [], 0
    p = 0
    while p < n and bits[perm[p]] > 0:
        b = bits[perm[p]]
        e = p
        while e < n and bits[perm[e]] == b:
            e += 1
        segs.append((b, p, e - p, off))
        off += b * (e - p)
        p = e
    live = p
    groups = 1 if group_size == 0 else max(1, -(-live // group_size))
    words = (off // 32) * m + -(-(off % 32) * m // 32)
    return perm, segs, words, live, groups


def pack(codes, bits, perm, segs, nwords):
    """Bit by bit: row stream bit t < 32F is bit t % 32 of word (t // 32) * M
    + i; the rest of row i starts at bit i * r of the tail after F * M words."""
    m = codes.shape[0]
    L = sum(bits)
    F, r = L // 32, L % 32
    out = np.zeros(nwords, dtype=np.uint64)
    for b, start, count, off in segs:
        for k in range(count):
            q = codes[:, perm[start + k]].astype(np.uint64)
            i = np.arange(m)
            for bit in range(b):
                t = off + k * b + bit
                a = ((t // 32) * m + i) * 32 + t % 32 if t < 32 * F else \
                    32 * F * m + i * r + (t - 32 * F)
                v = ((q >> np.uint64(bit)) & np.uint64(1)) << (a % 32).astype(np.uint64)
                np.bitwise_or.at(out, a // 32, v)
    return out.astype(np.uint32)


def grid_weights(codes, bits, scales, zeros):
    """FORMAT.md §4 in float32: step = s / (2^b - 1), zp = clamp(rint(-z /
    step), 0, 2^b - 1) (0 if step <= 0), w = (q - zp) * step."""
    levels = np.float32((1 << bits) - 1)
    step = scales.astype(np.float32) / levels
    with np.errstate(divide="ignore", invalid="ignore"):
        zp = np.clip(np.rint(-zeros.astype(np.float32) / step), np.float32(0), levels)
    zp = np.where(step > 0, zp, np.float32(0)).astype(np.float32)
    return ((codes.astype(np.float32) - zp) * step).astype(np.float32)


def half2_scale_exp(b, i):
    """In-place scale exponent of pair i of a b-bit chunk (half2::pairUnpack)."""
    t = (i * b) % 16
    if t + b > 16:
        return 0
    if t + b <= 10:
        return t
    return t - 6 if t >= 6 else 0


def half2_emulated(a, codes, perm, b, m, n, r, scales, zeros):
    """The unpack=half2 decode kernel's result with its f16 roundings
    emulated (one segment, no groups, k-split=1 unroll=1): per 32-code chunk
    and lane, 16 f16 FMAs (d x' + acc computed exactly in float64, rounded
    once to f16) on x' = f16(x 2^-e); other codes and the rest exactly."""
    levels = np.float32((1 << b) - 1)
    step = scales[:, 0].astype(np.float32) / levels
    with np.errstate(divide="ignore", invalid="ignore"):
        zp = np.clip(np.rint(-zeros[:, 0].astype(np.float32) / step), np.float32(0), levels)
    zp = np.where(step > 0, zp, np.float32(0)).astype(np.float64)
    x32 = a.astype(np.float32)
    sums = np.zeros((r, m))
    full = n // 32
    for c in range(full):
        acc = np.zeros((2, r, m), dtype=np.float16)
        for i in range(16):
            e = half2_scale_exp(b, i)
            for h in range(2):
                ch = perm[32 * c + 16 * h + i]
                xh = (x32[:, ch] * np.float32(2.0 ** -e)).astype(np.float16).astype(np.float64)
                d = codes[:, ch].astype(np.float64) * 2.0 ** e
                acc[h] = (xh[:, None] * d[None, :] + acc[h].astype(np.float64)).astype(np.float16)
        sums += acc[0].astype(np.float64) + acc[1].astype(np.float64)
    for k in range(32 * full, n):
        ch = perm[k]
        sums += x32[:, ch].astype(np.float64)[:, None] * codes[:, ch].astype(np.float64)[None, :]
    sum_x = x32.astype(np.float64).sum(axis=1)
    return step.astype(np.float64)[None, :] * (sums - zp[None, :] * sum_x[:, None])


def hexdata(array):
    return "0x" + np.ascontiguousarray(array).tobytes().hex().upper()


def blob(array):
    return "0x04000000" + np.ascontiguousarray(array).tobytes().hex().upper()


def relative_error_check(y, y_type, ref, ref_type, rows, cols, tol, label="", tag=""):
    """MLIR lines for a function body that print `<label>relative error: E`
    and then PASS or FAIL (E <= tol), with E = max|y - ref| / max|ref| over a
    rows x cols tensor pair whose elements are f16 or f32. `tag` keeps the
    names unique when a function checks several pairs (add_reference.py)."""
    def to_f32(value, ty, name):
        if ty.endswith("xf16>"):
            return [f"        %{name}f = arith.extf %{name} : f16 to f32"], f"%{name}f"
        return [], f"%{name}"
    # chk_ names: nothing here may shadow the caller's values (e.g. %a, %c).
    ya, yv = to_f32(y, y_type, "chk_y")
    ra, rv = to_f32(ref, ref_type, "chk_ref")
    return [
        f"    %chk_c0{tag} = arith.constant 0 : index",
        f"    %chk_c1{tag} = arith.constant 1 : index",
        f"    %chk_rows{tag} = arith.constant {rows} : index",
        f"    %chk_cols{tag} = arith.constant {cols} : index",
        f"    %chk_f0{tag} = arith.constant 0.0 : f32",
        f"    %chk_res{tag}:2 = scf.for %chk_i = %chk_c0{tag} to %chk_rows{tag} step %chk_c1{tag} "
        f"iter_args(%chk_e0 = %chk_f0{tag}, %chk_m0 = %chk_f0{tag}) -> (f32, f32) {{",
        f"      %chk_in:2 = scf.for %chk_j = %chk_c0{tag} to %chk_cols{tag} step %chk_c1{tag} "
        "iter_args(%chk_acc = %chk_e0, %chk_mx = %chk_m0) -> (f32, f32) {",
        f"        %chk_y = tensor.extract {y}[%chk_i, %chk_j] : {y_type}", *ya,
        f"        %chk_ref = tensor.extract {ref}[%chk_i, %chk_j] : {ref_type}", *ra,
        f"        %chk_d = arith.subf {yv}, {rv} : f32",
        "        %chk_ad = math.absf %chk_d : f32",
        f"        %chk_ar = math.absf {rv} : f32",
        "        %chk_e = arith.maximumf %chk_acc, %chk_ad : f32",
        "        %chk_m = arith.maximumf %chk_mx, %chk_ar : f32",
        "        scf.yield %chk_e, %chk_m : f32, f32",
        "      }",
        "      scf.yield %chk_in#0, %chk_in#1 : f32, f32",
        "    }",
        # An all-zero reference must not turn the error into NaN.
        f"    %chk_tiny{tag} = arith.constant 1.0e-30 : f32",
        f"    %chk_den{tag} = arith.maximumf %chk_res{tag}#1, %chk_tiny{tag} : f32",
        f"    %chk_err{tag} = arith.divf %chk_res{tag}#0, %chk_den{tag} : f32",
        f'    vector.print str "{label}relative error: "',
        f"    vector.print %chk_err{tag} : f32",
        f"    %chk_tol{tag} = arith.constant {tol:.9e} : f32",
        f"    %chk_ok{tag} = arith.cmpf ole, %chk_err{tag}, %chk_tol{tag} : f32",
        f"    scf.if %chk_ok{tag} {{",
        '      vector.print str "PASS\\n"',
        "    } else {",
        '      vector.print str "FAIL\\n"',
        "    }",
    ]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bits", default="mixed",
                   help="one bitwidth for every channel, a comma list, or 'mixed'")
    p.add_argument("--avg", type=float, default=0.0,
                   help="with --bits mixed: mostly 1-3 bits around this average")
    p.add_argument("--m", type=int, default=16, help="outputs")
    p.add_argument("--n", type=int, default=16, help="inputs")
    p.add_argument("--rows", type=int, default=1, help="activation rows")
    p.add_argument("--orientation", choices=["nk", "kn"], default="nk")
    p.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    p.add_argument("--grid-type", choices=["f16", "f32"], default="f16")
    p.add_argument("--group-size", type=int, default=0)
    p.add_argument("--scale-type", choices=["grid", "i8"], default="grid",
                   help="i8: 8-bit scale codes (FORMAT.md §4) instead of --grid-type scales")
    p.add_argument("--zero-type", choices=["grid", "i8"], default="grid",
                   help="zeros of the grid type, or 8-bit codes zq with "
                        "z = -((s * zq) / 255) (FORMAT.md §4)")
    p.add_argument("--what", choices=["matmul", "dequantize"], default="matmul")
    p.add_argument("--ref-weight-dtype", choices=["f32", "f16"], default="f32",
                   help="round reference weights (the tiled kernel's f16 path)")
    p.add_argument("--tol", type=float, default=None,
                   help="relative error bound (0: exact); default 1e-5 for f32, "
                        "2^-11 + 1e-5 for f16")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--half2-emulate", action="store_true",
                   help="reference of the unpack=half2 decode kernel with its f16 "
                        "roundings emulated (one bitwidth, no groups; run with "
                        "k-split=1 unroll=1)")
    p.add_argument("--half2-bound", type=int, default=0, metavar="N",
                   help="tolerance of the unpack=half2 decode kernel whose f16 "
                        "sums hold N products (16 x unroll): the rounding bound "
                        "(1 + N / (1 - N u)) u max_i sum_k |q step x| / max|ref| "
                        "+ the default tolerance, u = 2^-11 (docs/KERNELS.md §4)")
    p.add_argument("--grid-edges", action="store_true",
                   help="some groups with scale 0, zero > 0 or zero < -scale "
                        "(zero point 0 or clamped)")
    args = p.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    m, n, r = args.m, args.n, args.rows
    if args.bits == "mixed":
        if args.avg:
            bits = list(np.clip(np.rint(rng.normal(args.avg, 0.9, n)), 0, 8).astype(int))
        else:
            bits = list(rng.integers(0, 9, n))
    elif "," in args.bits:
        bits = [int(b) for b in args.bits.split(",")]
    else:
        bits = [int(args.bits)] * n
    assert len(bits) == n
    bits = [int(b) for b in bits]
    gs = args.group_size
    perm, segs, nwords, live, groups = layout(bits, gs, m)

    codes = np.zeros((m, n), dtype=np.int64)
    for j, b in enumerate(bits):
        if b:
            codes[:, j] = rng.integers(0, 1 << b, m)
    gt = np.float16 if args.grid_type == "f16" else np.float32
    scales = rng.uniform(0.5, 1.5, (m, groups)).astype(gt)
    zeros = (-rng.uniform(0.0, 1.0, (m, groups)) * scales.astype(np.float32)).astype(gt)
    if args.grid_edges:
        pick = rng.integers(0, 4, (m, groups))
        scales = np.where(pick == 1, 0, scales).astype(gt)
        zeros = np.where(pick == 2, np.abs(zeros) + 0.25,
                         np.where(pick == 3, zeros - 2 * scales.astype(np.float32), zeros)).astype(gt)
    sstored = scales
    if args.scale_type == "i8":
        # 8-bit scale codes (FORMAT.md §4), mostly near 1, the ends included.
        sstored = rng.integers(150, 221, (m, groups)).astype(np.uint8)
        sstored.flat[:3] = [0, 1, 255]
        if args.grid_edges:
            sstored = np.where(pick == 1, 0, sstored).astype(np.uint8)
        c = sstored.astype(np.int64)
        scales = np.where(c == 0, 0, np.ldexp(16.0 + (c & 15), (c >> 4) - 16)).astype(np.float32)
        zeros = (-rng.uniform(0.0, 1.0, (m, groups)) * scales).astype(gt)
    zstored = zeros
    if args.zero_type == "i8":
        # Codes over the whole range, the ends included.
        zstored = rng.integers(0, 256, (m, groups)).astype(np.uint8)
        zstored.flat[:2] = [0, 255]
        sf = scales.astype(np.float32)
        zeros = -((sf * zstored.astype(np.float32)) / np.float32(255))
    words = pack(codes, bits, perm, segs, nwords)

    pos = {perm[q]: q for q in range(n)}
    w = np.zeros((m, n), dtype=np.float32)
    qstep = np.zeros((m, n), dtype=np.float64)  # |q| step: f16 products' size
    for j, b in enumerate(bits):
        if not b:
            continue
        g = 0 if gs == 0 else min(pos[j] // gs, groups - 1)
        w[:, j] = grid_weights(codes[:, j], b, scales[:, g], zeros[:, g])
        qstep[:, j] = grid_weights(codes[:, j], b, scales[:, g], 0 * zeros[:, g])
    if args.ref_weight_dtype == "f16":
        w = w.astype(np.float16).astype(np.float32)

    t = args.dtype
    tnp = NP[t]
    wshape = (n, m) if args.orientation == "kn" else (m, n)
    cdim = 0 if args.orientation == "kn" else 1
    flat_segs = [v for s in segs for v in s]
    gbytes = 2 if args.grid_type == "f16" else 4
    stname = "i8" if args.scale_type == "i8" else args.grid_type
    sbytes = 1 if args.scale_type == "i8" else gbytes
    ztname = "i8" if args.zero_type == "i8" else args.grid_type
    zbytes = 1 if args.zero_type == "i8" else gbytes
    lay = ("#baq.layout<outputs = {m}, inputs = {n}, channel_dim = {cdim}, "
           "bits = [{bits}], perm = [{perm}], segments = [{segs}], group_size = {gs}, "
           "scale_type = {g}, zero_type = {zt}, payload_bytes = {pb}, "
           "scale_bytes = {sb}, zero_bytes = {zb}>").format(
               m=m, n=n, cdim=cdim, bits=", ".join(map(str, bits)),
               perm=", ".join(map(str, perm)), segs=", ".join(map(str, flat_segs)),
               gs=gs, g=stname, zt=ztname, pb=4 * nwords, sb=sbytes * m * groups,
               zb=zbytes * m * groups)
    ptype = f"tensor<{nwords}xi32>"
    stype = f"tensor<{m}x{groups}x{stname}>"
    ztype = f"tensor<{m}x{groups}x{ztname}>"
    wtype = f"tensor<{wshape[0]}x{wshape[1]}x{t}>"
    out = []
    emit = out.append
    emit(f"#layout = {lay}")
    emit("module {")
    packed = (f"    %p, %s, %z = baq.packed_constant #layout\n"
              f"        payload(dense_resource<w_payload> : {ptype})\n"
              f"        scales(dense_resource<w_scales> : {stype})\n"
              f"        zeros(dense_resource<w_zeros> : {ztype})\n"
              f"    %w = baq.dequantize %p, %s, %z layout(#layout) : {ptype}, {stype}, {ztype} -> {wtype}\n")
    if args.what == "matmul":
        a = rng.uniform(-1, 1, (r, n)).astype(tnp)
        c = rng.uniform(-1, 1, (r, m)).astype(tnp)
        ref = c.astype(np.float64) + a.astype(np.float64) @ w.astype(np.float64).T
        if args.half2_emulate:
            assert len(segs) == 1 and gs == 0 and live == n, "one segment, no groups"
            ref = c.astype(np.float64) + half2_emulated(
                a, codes, perm, segs[0][0], m, n, r, scales, zeros)
        ytype = f"tensor<{r}x{m}x{t}>"
        atype = f"tensor<{r}x{n}x{t}>"
        maps = ("indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, "
                "affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] "
                if args.orientation == "nk" else "")
        emit(f"  func.func @kernel(%a: {atype}, %c: {ytype}) -> {ytype} {{")
        emit(packed.rstrip("\n"))
        emit(f"    %y = linalg.matmul {maps}{{baq.bits = #baq.bits<[{', '.join(map(str, bits))}]>}} "
             f"ins(%a, %w : {atype}, {wtype}) outs(%c : {ytype}) -> {ytype}")
        emit(f"    return %y : {ytype}")
        emit("  }")
        inputs = [("a", a, atype), ("c", c, ytype)]
        call = f"call @kernel(%a, %c) : ({atype}, {ytype}) -> {ytype}"
        shape = (r, m)
    else:
        ref = w.astype(np.float64) if args.orientation == "nk" else w.T.astype(np.float64)
        ytype = wtype
        emit(f"  func.func @kernel() -> {ytype} {{")
        emit(packed.rstrip("\n"))
        emit(f"    return %w : {ytype}")
        emit("  }")
        inputs = []
        call = f"call @kernel() : () -> {ytype}"
        shape = wshape
        if t == "f16":
            ref = ref.astype(np.float16).astype(np.float64)
    tol = args.tol if args.tol is not None else (1e-5 if t == "f32" else 2.0 ** -11 + 1e-5)
    if args.half2_bound:
        # x rounded to f16 (u), N f16 FMAs per lane (<= N u / (1 - N u) of the
        # sum of |products|), the rest in f32, and the final rounding.
        assert args.what == "matmul"
        u, k = 2.0 ** -11, args.half2_bound
        size = np.abs(a.astype(np.float64)) @ np.abs(qstep).T
        tol = (u + k * u / (1 - k * u)) * size.max() / np.abs(ref).max() + \
            (1e-5 if t == "f32" else 2.0 ** -11 + 1e-5)
    rtype = f"tensor<{shape[0]}x{shape[1]}xf32>"
    emit("  func.func @main() {")
    for name, value, ty in inputs:
        emit(f'    %{name} = arith.constant dense<"{hexdata(value)}"> : {ty}')
    emit(f'    %ref = arith.constant dense<"{hexdata(ref.astype(np.float32))}"> : {rtype}')
    emit(f"    %y = {call}")
    for line in relative_error_check("%y", ytype, "%ref", rtype, shape[0], shape[1], tol):
        emit(line)
    emit("    return\n  }")
    emit("}")
    emit("{-#\n  dialect_resources: {\n    builtin: {")
    emit(f'      w_payload: "{blob(words)}",')
    emit(f'      w_scales: "{blob(sstored)}",')
    emit(f'      w_zeros: "{blob(zstored)}"')
    emit("    }\n  }\n#-}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
