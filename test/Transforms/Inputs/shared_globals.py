#!/usr/bin/env python3
"""Writes a module whose weights several functions read, for the nested
(multithreaded) --baq-allocate determinism test:

  * an ml_program.global @wq read by --functions functions @f0, @f1, ...
    (each with its own Hessian, so each quantizes it differently),
  * a memref.global @wm read by every function through get_global,
  * a dense_resource constant (key `shared`) that every function holds,
  * a dense constant named by a NameLoc ("fc") in every function,
  * a function @self whose dense constant is named after the function.

usage: shared_globals.py [--functions N] [--seed S]
"""
import argparse
import sys

import numpy as np

M, N = 8, 16


def hexed(a):
    return f'dense<"0x{np.ascontiguousarray(a, np.float32).tobytes().hex().upper()}">'


def blob(a):
    # dense_resource blobs: a 4-byte alignment word (4), then the data.
    return "0x04000000" + np.ascontiguousarray(a, np.float32).tobytes().hex().upper()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--functions", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    wq, wm, ws, wf = (rng.standard_normal((M, N)).astype(np.float32) for _ in range(4))
    t_w = f"tensor<{M}x{N}xf32>"
    t_x, t_y = f"tensor<1x{N}xf32>", f"tensor<1x{M}xf32>"
    maps = ("indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, "
            "affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]")
    out = ["module {",
           f"  ml_program.global private @wq({hexed(wq)} : {t_w}) : {t_w}",
           f'  memref.global "private" constant @wm : memref<{M}x{N}xf32> = {hexed(wm)}']

    def matmul(i, name, weight):
        x = rng.standard_normal((N, 64))
        h = hexed((2.0 / 64) * (x @ x.T))
        return [f"    %y{i} = linalg.matmul {maps} {{baq.hessian = {h} : tensor<{N}x{N}xf32>}} "
                f"ins(%x, {weight} : {t_x}, {t_w}) outs(%acc : {t_y}) -> {t_y}"
                + (f' loc("{name}")' if name else "")]

    for f in range(args.functions):
        out += [f"  func.func @f{f}(%x: {t_x}) -> {t_y} {{",
                "    %zero = arith.constant 0.0 : f32",
                f"    %empty = tensor.empty() : {t_y}",
                f"    %acc = linalg.fill ins(%zero : f32) outs(%empty : {t_y}) -> {t_y}",
                f"    %q = ml_program.global_load_const @wq : {t_w}",
                f"    %mb = memref.get_global @wm : memref<{M}x{N}xf32>",
                f"    %m = bufferization.to_tensor %mb restrict : memref<{M}x{N}xf32> to {t_w}",
                f"    %s = arith.constant dense_resource<shared> : {t_w}",
                f"    %c = arith.constant {hexed(wf)} : {t_w}"]
        out += matmul(0, None, "%q") + matmul(1, None, "%m") + matmul(2, None, "%s")
        # A NameLoc on the matmul names a dense constant's weight.
        out += matmul(3, "fc", "%c")
        out += [f"    %a = arith.addf %y0, %y1 : {t_y}",
                f"    %b = arith.addf %y2, %y3 : {t_y}",
                f"    %r = arith.addf %a, %b : {t_y}",
                f"    return %r : {t_y}", "  }"]
    out += [f"  func.func @self(%x: {t_x}) -> {t_y} {{",
            "    %zero = arith.constant 0.0 : f32",
            f"    %empty = tensor.empty() : {t_y}",
            f"    %acc = linalg.fill ins(%zero : f32) outs(%empty : {t_y}) -> {t_y}",
            f"    %c = arith.constant {hexed(wf)} : {t_w}"]
    out += matmul(0, None, "%c")
    out += [f"    return %y0 : {t_y}", "  }", "}",
            "{-#", "  dialect_resources: {", "    builtin: {",
            f'      shared: "{blob(ws)}"', "    }", "  }", "#-}"]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    sys.exit(main())
