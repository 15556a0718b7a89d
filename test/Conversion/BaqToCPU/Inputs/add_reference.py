#!/usr/bin/env python3
"""Makes a --baq-allocate output self-checking (stdin to stdout).

For every function `@f(%x: tensor<R x N x T>) -> tensor<R x M x T>` with one
quantized matmul (functions without a baq.dequantize are left alone) (the shape scripts/gen_synthetic.py writes), adds
`@f_reference`, the same function with a tensor.cast between the
baq.dequantize and the matmul, so that the weight is dequantized on its own
and multiplied by a plain linalg.matmul instead of the fused kernel; and a
`@main` that runs both on random activations and prints PASS if they agree
to --tol (normwise relative).
"""
import argparse
import re
import sys

import numpy as np

from gen_case import relative_error_check  # same directory

HEADER = re.compile(r"^  func\.func @(\w+)\((%\w+): (tensor<(\d+)x(\d+)x(\w+)>)\) -> (tensor<(\d+)x(\d+)x\w+>) \{$")
MATMUL = re.compile(r"linalg\.matmul .*ins\((%\w+), (%\w+) : (tensor<[^>]+>), (tensor<[^>]+>)\)")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tol", type=float, default=1e-5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    lines = sys.stdin.read().split("\n")
    rng = np.random.default_rng(args.seed)
    out, funcs, i = [], [], 0
    while i < len(lines):
        m = HEADER.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        end = lines.index("  }", i)
        body = lines[i:end + 1]
        out.extend(body)
        i = end + 1
        if not any("baq.dequantize" in line for line in body):
            continue  # not quantized (no Hessian): nothing to compare
        ref = [body[0].replace("@" + m.group(1) + "(", "@" + m.group(1) + "_reference(")]
        for line in body[1:]:
            mm = MATMUL.search(line)
            if mm:
                w, wt = mm.group(2), mm.group(4)
                ref.append(f"    %weight_ref = tensor.cast {w} : {wt} to {wt}")
                line = line.replace(f"ins({mm.group(1)}, {w} :", f"ins({mm.group(1)}, %weight_ref :")
            ref.append(line)
        out.extend(ref)
        funcs.append(m)
    # main goes before the closing brace of the module.
    close = max(k for k, l in enumerate(out) if l == "}")
    main_lines = ["  func.func @main() {"]
    for k, m in enumerate(funcs):
        name, xt, r, n, t, yt, mr, mm_ = (m.group(1), m.group(3), int(m.group(4)), int(m.group(5)),
                                          m.group(6), m.group(7), int(m.group(8)), int(m.group(9)))
        x = rng.uniform(-1, 1, (r, n)).astype(np.float16 if t == "f16" else np.float32)
        main_lines += [
            f'    %x{k} = arith.constant dense<"0x{x.tobytes().hex().upper()}"> : {xt}',
            f"    %y{k} = call @{name}(%x{k}) : ({xt}) -> {yt}",
            f"    %r{k} = call @{name}_reference(%x{k}) : ({xt}) -> {yt}",
            *relative_error_check(f"%y{k}", yt, f"%r{k}", yt, mr, mm_, args.tol,
                                  label=f"{name} ", tag=f"_{k}")]
    main_lines += ["    return", "  }"]
    out[close:close] = main_lines
    sys.stdout.write("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
