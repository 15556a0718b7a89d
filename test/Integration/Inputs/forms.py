#!/usr/bin/env python3
"""Front-end forms of a linear layer y = x W^T, for --baq-allocate end to end.

    forms.py gen FORM            writes a module with @forward (the form, its
                                 weight constant and baq.hessian)
    forms.py check < allocated   appends a @main that runs @forward on fixed
                                 activations and compares with a float64 numpy
                                 reference computed from the packed codes
                                 (python/baq/packed.py, an independent reader
                                 of docs/FORMAT.md): prints the relative error
                                 and PASS or FAIL against --tol.
"""
import argparse
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "python"))
sys.path.insert(0, str(HERE.parents[1] / "Conversion" / "BaqToCPU" / "Inputs"))
from baq import packed  # noqa: E402
from gen_case import relative_error_check  # noqa: E402

N, M, R, B = 32, 24, 3, 2
FILL = """    %zero = arith.constant 0.0 : f32
    %empty = tensor.empty() : {t}
    %acc = linalg.fill ins(%zero : f32) outs(%empty : {t}) -> {t}"""
TRANSPOSED_B = ("indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, "
                "affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]")


def hexed(a):
    return f'dense<"0x{np.ascontiguousarray(a, np.float32).tobytes().hex().upper()}">'


def form_body(form, w, h):
    """(module-level ops, function text) with W [M, N] stored as each form does."""
    y2 = f"tensor<{R}x{M}xf32>"
    hess = f"{{baq.hessian = {h} : tensor<{N}x{N}xf32>}}"
    fill2 = FILL.format(t=y2)
    mm = (f"    %y = linalg.matmul {hess} ins(%x, %wk : tensor<{R}x{N}xf32>, tensor<{N}x{M}xf32>) "
          f"outs(%acc : {y2}) -> {y2}")
    head = f"  func.func @forward(%x: tensor<{R}x{N}xf32>) -> {y2} {{"
    tail = [f"    return %y : {y2}", "  }"]
    if form == "transpose":  # torch-mlir aten.linear: transpose of the [M, N] weight
        return "", [head, f"    %w = arith.constant {hexed(w)} : tensor<{M}x{N}xf32>",
                    f"    %e = tensor.empty() : tensor<{N}x{M}xf32>",
                    f"    %wk = linalg.transpose ins(%w : tensor<{M}x{N}xf32>) outs(%e : tensor<{N}x{M}xf32>) permutation = [1, 0]",
                    fill2, mm, *tail]
    if form == "generic":
        return "", [head, f"    %w = arith.constant {hexed(w)} : tensor<{M}x{N}xf32>", fill2,
                    "    %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, "
                    "affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], "
                    'iterator_types = ["parallel", "parallel", "reduction"]} '
                    f"ins(%x, %w : tensor<{R}x{N}xf32>, tensor<{M}x{N}xf32>) outs(%acc : {y2}) attrs = {hess} {{",
                    "    ^bb0(%a: f32, %b: f32, %c: f32):",
                    "      %p = arith.mulf %a, %b : f32",
                    "      %s = arith.addf %c, %p : f32",
                    "      linalg.yield %s : f32",
                    f"    }} -> {y2}", *tail]
    if form == "batch-matmul":
        y3, yo = f"tensor<{B}x{R}x{M}xf32>", f"tensor<{B * R}x{M}xf32>"
        return "", [f"  func.func @forward(%x: tensor<{B}x{R}x{N}xf32>) -> {yo} {{",
                    f"    %w = arith.constant {hexed(w.T)} : tensor<{N}x{M}xf32>",
                    f"    %e = tensor.empty() : tensor<{B}x{N}x{M}xf32>",
                    f"    %wb = linalg.broadcast ins(%w : tensor<{N}x{M}xf32>) outs(%e : tensor<{B}x{N}x{M}xf32>) dimensions = [0]",
                    FILL.format(t=y3),
                    f"    %y3 = linalg.batch_matmul {hess} ins(%x, %wb : tensor<{B}x{R}x{N}xf32>, tensor<{B}x{N}x{M}xf32>) "
                    f"outs(%acc : {y3}) -> {y3}",
                    f"    %y = tensor.collapse_shape %y3 [[0, 1], [2]] : {y3} into {yo}",
                    f"    return %y : {yo}", "  }"]
    if form in ("matvec", "vecmat"):
        yo = f"tensor<1x{M}xf32>"
        if form == "matvec":
            weight = f"    %w = arith.constant {hexed(w)} : tensor<{M}x{N}xf32>"
            op = (f"    %y1 = linalg.matvec {hess} ins(%w, %x : tensor<{M}x{N}xf32>, tensor<{N}xf32>) "
                  f"outs(%acc : tensor<{M}xf32>) -> tensor<{M}xf32>")
        else:
            weight = f"    %w = arith.constant {hexed(w.T)} : tensor<{N}x{M}xf32>"
            op = (f"    %y1 = linalg.vecmat {hess} ins(%x, %w : tensor<{N}xf32>, tensor<{N}x{M}xf32>) "
                  f"outs(%acc : tensor<{M}xf32>) -> tensor<{M}xf32>")
        return "", [f"  func.func @forward(%x: tensor<{N}xf32>) -> {yo} {{", weight,
                    FILL.format(t=f"tensor<{M}xf32>"), op,
                    f"    %y = tensor.expand_shape %y1 [[0, 1]] output_shape [1, {M}] : tensor<{M}xf32> into {yo}",
                    f"    return %y : {yo}", "  }"]
    if form == "ml-program-global":
        return (f"  ml_program.global private @fc_weight({hexed(w.T)} : tensor<{N}x{M}xf32>) : tensor<{N}x{M}xf32>",
                [head, f"    %wk = ml_program.global_load_const @fc_weight : tensor<{N}x{M}xf32>", fill2, mm, *tail])
    if form == "memref-global":  # transposed-B maps on a [M, N] buffer
        return (f'  memref.global "private" constant @fc_weight : memref<{M}x{N}xf32> = {hexed(w)}',
                [head, f"    %m = memref.get_global @fc_weight : memref<{M}x{N}xf32>",
                 f"    %w = bufferization.to_tensor %m restrict : memref<{M}x{N}xf32> to tensor<{M}x{N}xf32>",
                 fill2,
                 f"    %y = linalg.matmul {TRANSPOSED_B} {hess} ins(%x, %w : tensor<{R}x{N}xf32>, tensor<{M}x{N}xf32>) "
                 f"outs(%acc : {y2}) -> {y2}", *tail])
    if form == "reshape":  # unit-dim expand, collapse and a cast on the way
        return "", [head, f"    %w = arith.constant {hexed(w.T)} : tensor<{N}x{M}xf32>",
                    f"    %w3 = tensor.expand_shape %w [[0, 1], [2]] output_shape [{N}, 1, {M}] : tensor<{N}x{M}xf32> into tensor<{N}x1x{M}xf32>",
                    f"    %w2 = tensor.collapse_shape %w3 [[0, 1], [2]] : tensor<{N}x1x{M}xf32> into tensor<{N}x{M}xf32>",
                    f"    %wk = tensor.cast %w2 : tensor<{N}x{M}xf32> to tensor<{N}x{M}xf32>",
                    fill2, mm, *tail]
    raise SystemExit(f"unknown form {form}")


def gen(form, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((M, N)).astype(np.float32)
    x = rng.standard_normal((N, 256))
    h = (2.0 / x.shape[1]) * (x @ x.T)
    globals_, body = form_body(form, w, hexed(h))
    lines = ["module {"] + ([globals_] if globals_ else []) + body + ["}"]
    sys.stdout.write("\n".join(lines) + "\n")


HEADER = re.compile(r"^  func\.func @forward\(%\w+: (tensor<([0-9x]+)xf32>)\) -> (tensor<(\d+)x(\d+)xf32>)")


def check(tol, seed):
    text = sys.stdin.read()
    weights = packed.parse_module(text)
    lw = weights.get("forward")
    if lw is None or lw.layout is None:
        raise SystemExit("forms.py: @forward has no packed weight")
    lines = text.split("\n")
    m = next(HEADER.match(line) for line in lines if HEADER.match(line))
    xt, xshape, yt, rows, cols = m.group(1), [int(d) for d in m.group(2).split("x")], m.group(3), \
        int(m.group(4)), int(m.group(5))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, xshape).astype(np.float32)
    ref = x.reshape(-1, lw.weight.shape[1]).astype(np.float64) @ lw.weight.astype(np.float64).T
    main = ["  func.func @main() {",
            f"    %x = arith.constant {hexed(x)} : {xt}",
            f"    %y = call @forward(%x) : ({xt}) -> {yt}",
            f"    %ref = arith.constant {hexed(ref.reshape(rows, cols))} : {yt}",
            *relative_error_check("%y", yt, "%ref", yt, rows, cols, tol, label="forward "),
            "    return", "  }"]
    end = text.find("{-#")
    close = max(k for k, line in enumerate(lines) if line == "}" and (end < 0 or
                                                                     len("\n".join(lines[:k])) < end))
    lines[close:close] = main
    sys.stdout.write("\n".join(lines))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["gen", "check"])
    p.add_argument("form", nargs="?")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tol", type=float, default=1e-5)
    args = p.parse_args()
    if args.mode == "gen":
        gen(args.form, args.seed)
    else:
        check(args.tol, args.seed)


if __name__ == "__main__":
    main()
