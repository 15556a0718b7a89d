#!/usr/bin/env python3
"""Checks decoded weights against the ORIGINAL float weights (stdin to stdout).

    original_weights.py ORIGINAL.mlir [--via dequantize|matmul] < ALLOCATED.mlir

ORIGINAL.mlir is what scripts/gen_synthetic.py wrote (float weights as
`dense_resource` blobs, f32/f16/bf16); ALLOCATED.mlir is its --baq-allocate
output with `quantizer=rtn`. The output module has, per quantized layer,
`@NAME_weight()` returning the weight decoded from the packed constant (the
`baq.dequantize` alone, or `--via matmul`: an identity activation times the
weight through the matmul kernels, i.e. W^T), and a `@main` that prints
`NAME violations: K` and PASS when every element w' satisfies

    |w' - w| <= step / 2 * (1 + 2^-10) + rounding of w' to the weight type
                (+ the f16 rounding of the grid's ends, for w within a step
                 of its group's min or max)

with w the original weight and step = (max(w, 0) - min(w, 0)) / (2^b - 1)
over the live channels of the (row, group), computed here from the original
weights and the layout's bits/perm/group_size (docs/FORMAT.md §4), not from
the stored scales. 0-bit channels must decode to exactly 0. With 8-bit scale
codes (scale_type = i8) the min-max grid stores the code at or above the
range, up to 1/16 above it (codes are 1/16 to 1/32 apart) instead of within
2^-11: the step may grow by that much (and the bound allows a clip of 1/32
of the range, as a nearest code would).
"""
import argparse
import re
import sys

import numpy as np

RESOURCE = re.compile(r'^\s*(\w+): "0x([0-9A-Fa-f]+)"')
CONST = re.compile(r"arith\.constant dense_resource<(\w+)> : tensor<(\d+)x(\d+)x(\w+)>")
FUNC = re.compile(r"^  func\.func @(\w+)\(")
ARRAY = r"{} = \[([-0-9, ]*)\]"
FIELD = r"{} = (-?\d+)"
ROUND = {"f32": 2.0 ** -24, "f16": 2.0 ** -11, "bf16": 2.0 ** -8}


def resources(text):
    return {m.group(1): bytes.fromhex(m.group(2))[4:]
            for m in map(RESOURCE.match, text.splitlines()) if m}


def decode(raw, dtype, shape):
    if dtype == "bf16":
        bits = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    return np.frombuffer(raw, {"f32": "<f4", "f16": "<f2"}[dtype]).astype(np.float32).reshape(shape)


def functions(lines):
    """(name, body lines) for each top-level func.func."""
    out, i = [], 0
    while i < len(lines):
        m = FUNC.match(lines[i])
        if not m:
            i += 1
            continue
        end = lines.index("  }", i)
        out.append((m.group(1), lines[i:end + 1]))
        i = end + 1
    return out


def layout_fields(line):
    get = lambda k: int(re.search(FIELD.format(k), line).group(1))
    arr = lambda k: [int(v) for v in re.search(ARRAY.format(k), line).group(1).split(",")]
    return get("outputs"), get("inputs"), get("channel_dim"), arr("bits"), arr("perm"), get("group_size")


def bound(w_mn, bits, perm, group_size, dtype, scale_codes=False):
    """Per-element bound [M, N] (see the module docstring); -1 marks 0-bit channels."""
    rel = 2.0 ** -4 if scale_codes else 0.0
    m, n = w_mn.shape
    live = [j for j in perm if bits[j] > 0]
    size = group_size or max(1, len(live))
    out = np.full((m, n), -1.0)
    w = w_mn.astype(np.float64)
    for start in range(0, len(live), size):
        cols = live[start:start + size]
        lo = np.minimum(w[:, cols].min(axis=1), 0.0)
        hi = np.maximum(w[:, cols].max(axis=1), 0.0)
        for j in cols:
            step = (hi - lo) / ((1 << bits[j]) - 1) * (1 + rel)
            b = 0.5 * step * (1 + 2.0 ** -10) + ROUND[dtype] * (np.abs(w[:, j]) + step)
            # Grid ends: zero and scale are stored in f16 (relative 2^-11 each),
            # or the scale as a code (relative 2^-5).
            clip = rel / 2 * (hi - lo)
            near_end = (w[:, j] < lo + step + clip) | (w[:, j] > hi - step - clip)
            out[:, j] = b + np.where(near_end, 2.0 ** -10 * (np.abs(lo) + np.abs(hi)) + clip, 0.0)
    return out


def hexdense(a):
    return '"0x' + np.ascontiguousarray(a, dtype="<f4").tobytes().hex().upper() + '"'


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("original")
    p.add_argument("--via", choices=["dequantize", "matmul"], default="dequantize")
    args = p.parse_args()
    original = open(args.original).read()
    blobs = resources(original)
    weights = {}
    for name, body in functions(original.splitlines()):
        m = next(CONST.search(l) for l in body if CONST.search(l))
        weights[name] = decode(blobs[m.group(1)], m.group(4), (int(m.group(2)), int(m.group(3)))), m.group(4)

    allocated = sys.stdin.read()
    lines = allocated.splitlines()
    out, checks = ["module {"], []
    for name, body in functions(lines):
        packed = [l for l in body if "baq.packed_constant" in l]
        deq = [l for l in body if "baq.dequantize" in l]
        if not packed:
            continue
        assert len(packed) == 1 and len(deq) == 1, f"@{name}: one quantized weight expected"
        w, dtype = weights[name]
        M, N, cdim, bits, perm, gs = layout_fields(packed[0])
        w_mn = w if cdim == 1 else w.T
        assert w_mn.shape == (M, N), (name, w.shape, M, N)
        bnd = bound(w_mn, bits, perm, gs, dtype, "scale_type = i8" in packed[0])
        wt = re.search(r"-> (tensor<\w+>)", deq[0]).group(1)
        value = re.match(r"\s*(%\w+) =", deq[0]).group(1)
        fn = [f"  func.func @{name}_weight() -> {{T}} {{", packed[0], deq[0]]
        if args.via == "dequantize":
            ref, bnd_out, rt = (w_mn, bnd, wt) if cdim == 1 else (w_mn.T, bnd.T, wt)
            fn.append(f"    return {value} : {wt}")
        else:
            # y = I W^T: the activation rows pick the weight's input channels.
            ref, bnd_out = w_mn.T, bnd.T
            rt = f"tensor<{N}x{M}x{dtype}>"
            it = f"tensor<{N}x{N}x{dtype}>"
            maps = ("indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, "
                    "affine_map<(d0, d1, d2) -> (d0, d1)>] " if cdim == 1 else "")
            eye = np.eye(N, dtype=np.float32)
            eye = {"f32": eye, "f16": eye.astype("<f2"),
                   "bf16": (eye.view(np.uint32) >> 16).astype("<u2")}[dtype]
            fn += [f'    %eye = arith.constant dense<"0x{eye.tobytes().hex().upper()}"> : {it}',
                   f"    %zero = arith.constant 0.0 : {dtype}",
                   f"    %acc_e = tensor.empty() : {rt}",
                   f"    %acc = linalg.fill ins(%zero : {dtype}) outs(%acc_e : {rt}) -> {rt}",
                   f"    %y = linalg.matmul {maps}{{baq.bits = #baq.bits<[{', '.join(map(str, bits))}]>}} "
                   f"ins(%eye, {value} : {it}, {wt}) outs(%acc : {rt}) -> {rt}",
                   f"    return %y : {rt}"]
        fn[0] = fn[0].replace("{T}", rt)
        out += fn + ["  }"]
        checks.append((name, rt, ref, bnd_out))
    out.append("  func.func @main() {")
    for k, (name, rt, ref, bnd) in enumerate(checks):
        r, c = ref.shape
        ft = f"tensor<{r}x{c}xf32>"
        ext = "arith.extf %v{0} : {1} to f32".format(k, rt.split("x")[-1][:-1]) if not rt.endswith("xf32>") else None
        out += [f"    %w{k} = call @{name}_weight() : () -> {rt}",
                f"    %ref{k} = arith.constant dense<{hexdense(ref)}> : {ft}",
                f"    %bnd{k} = arith.constant dense<{hexdense(bnd)}> : {ft}",
                f"    %c0_{k} = arith.constant 0 : index",
                f"    %c1_{k} = arith.constant 1 : index",
                f"    %r_{k} = arith.constant {r} : index",
                f"    %c_{k} = arith.constant {c} : index",
                f"    %n0_{k} = arith.constant 0 : i64",
                f"    %one_{k} = arith.constant 1 : i64",
                f"    %f0_{k} = arith.constant 0.0 : f32",
                f"    %bad{k} = scf.for %i = %c0_{k} to %r_{k} step %c1_{k} iter_args(%a = %n0_{k}) -> (i64) {{",
                f"      %in = scf.for %j = %c0_{k} to %c_{k} step %c1_{k} iter_args(%b = %a) -> (i64) {{",
                f"        %v{k} = tensor.extract %w{k}[%i, %j] : {rt}",
                (f"        %vf = {ext}" if ext else f"        %vf = arith.addf %v{k}, %f0_{k} : f32"),
                f"        %rf = tensor.extract %ref{k}[%i, %j] : {ft}",
                f"        %bf = tensor.extract %bnd{k}[%i, %j] : {ft}",
                "        %d = arith.subf %vf, %rf : f32",
                "        %ad = math.absf %d : f32",
                # Zero-bit channels (bound -1) must decode to exactly 0.
                f"        %dead = arith.cmpf olt, %bf, %f0_{k} : f32",
                f"        %nz = arith.cmpf une, %vf, %f0_{k} : f32",
                "        %far = arith.cmpf ugt, %ad, %bf : f32",
                "        %bad = arith.select %dead, %nz, %far : i1",
                f"        %inc = arith.select %bad, %one_{k}, %n0_{k} : i64",
                "        %nb = arith.addi %b, %inc : i64",
                "        scf.yield %nb : i64",
                "      }",
                "      scf.yield %in : i64",
                "    }",
                f'    vector.print str "{name} violations: "',
                f"    vector.print %bad{k} : i64",
                f"    %ok{k} = arith.cmpi eq, %bad{k}, %n0_{k} : i64",
                f"    scf.if %ok{k} {{",
                '      vector.print str "PASS\\n"',
                "    } else {",
                '      vector.print str "FAIL\\n"',
                "    }"]
    out += ["    return", "  }", "}"]
    # The allocated module's resources (packed blobs).
    res = allocated.find("{-#")
    sys.stdout.write("\n".join(out) + "\n" + (allocated[res:] if res >= 0 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
