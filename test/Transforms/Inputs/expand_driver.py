#!/usr/bin/env python3
"""Adds a `@main` to a module of generated layers (scripts/gen_synthetic.py).

`@main` calls every `func.func @NAME(%x: tensor<RxNxT>) -> tensor<RxMxT>` in
order of appearance on a fixed input and prints each result, widened to f32,
with printMemrefF32. The module may be at any level that keeps those tensor
signatures (baq ops, after --baq-expand); the result is text for mlir-opt or
baq-opt. The inputs must match expand_reference.py:

  ramp:     x[r, j] = ((7 r + 3 j) mod 11 - 5) / 4   (exact in f16)
  identity: x = I (needs R = N), so y = W^T exactly, even in f16
"""
import argparse
import re
import sys

SIGNATURE = re.compile(
    r"func\.func @(\w+)\(%\w+: tensor<(\d+)x(\d+)x(\w+)>\) -> tensor<(\d+)x(\d+)x\w+>")


def input_values(mode, rows, n):
    if mode == "identity":
        if rows != n:
            sys.exit(f"expand_driver: identity input needs rows == inputs, got {rows} and {n}")
        return [[1.0 if r == j else 0.0 for j in range(n)] for r in range(rows)]
    return [[((7 * r + 3 * j) % 11 - 5) / 4 for j in range(n)] for r in range(rows)]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("input", help="module file, or - for stdin")
    p.add_argument("--input-kind", choices=["ramp", "identity"], default="ramp")
    p.add_argument("-o", "--output", default="-")
    args = p.parse_args()
    text = sys.stdin.read() if args.input == "-" else open(args.input).read()

    lines = ["  func.func @main() {"]
    for k, (name, r, n, t, _, m) in enumerate(SIGNATURE.findall(text)):
        r, n, m = int(r), int(n), int(m)
        x = input_values(args.input_kind, r, n)
        literal = "[" + ", ".join("[" + ", ".join(repr(v) for v in row) + "]" for row in x) + "]"
        xt, yt, ft = f"tensor<{r}x{n}x{t}>", f"tensor<{r}x{m}x{t}>", f"tensor<{r}x{m}xf32>"
        widen = "%v = arith.extf %in : {t} to f32\n      linalg.yield %v : f32" if t != "f32" \
            else "linalg.yield %in : f32"
        lines.append(f"""    %x{k} = arith.constant dense<{literal}> : {xt}
    %y{k} = func.call @{name}(%x{k}) : ({xt}) -> {yt}
    %e{k} = tensor.empty() : {ft}
    %w{k} = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}} ins(%y{k} : {yt}) outs(%e{k} : {ft}) {{
    ^bb0(%in: {t}, %out: f32):
      {widen.format(t=t)}
    }} -> {ft}
    %b{k} = bufferization.to_buffer %w{k} : {ft} to memref<{r}x{m}xf32>
    %u{k} = memref.cast %b{k} : memref<{r}x{m}xf32> to memref<*xf32>
    func.call @printMemrefF32(%u{k}) : (memref<*xf32>) -> ()""")
    if len(lines) == 1:
        sys.exit("expand_driver: no layer function found")
    lines.append("    return\n  }")
    lines.append("  func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}")

    # Insert before the explicit module's closing '}', or else before the
    # resource section (an implicit module).
    end = text.find("{-#")
    end = end if end >= 0 else len(text)
    if re.search(r"^module\b", text, re.M):
        end = text.rindex("}", 0, end)
    out = text[:end] + "\n".join(lines) + "\n" + text[end:]
    (sys.stdout if args.output == "-" else open(args.output, "w")).write(out)


if __name__ == "__main__":
    main()
