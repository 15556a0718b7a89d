#!/usr/bin/env python3
"""Appends a @main to a baq.export_model module: @prefill (if any) then @forward, logits printed.

usage: add_main.py MODULE > MODULE_WITH_MAIN

@main runs @prefill on tokens 1, 2, ..., T at position 0 (when the module has one), then
@forward on token 5 at the next position with the caches that came back (zero caches
without @prefill), and prints the logits of each call with printMemrefF32: every kernel of
the model, cache writes and reads included, on one output to compare between lowerings.
"""
import re
import sys


def signature(text: str, name: str):
    m = re.search(r"func\.func @" + name + r"\(%\w+: tensor<(\d+)xi32>, %\w+: index, "
                  r"%\w+: (tensor<[0-9x]+xf32>), %\w+: tensor<[0-9x]+xf32>\) -> "
                  r"\((tensor<[0-9x]+xf32>)", text)
    return (int(m.group(1)), m.group(2), m.group(3)) if m else None


def main() -> int:
    text = open(sys.argv[1]).read()
    fwd = signature(text, "forward")
    if not fwd:
        sys.exit("add_main.py: no @forward(tensor<1xi32>, index, cache, cache) found")
    _, cache, logits1 = fwd
    pre = signature(text, "prefill")
    lines = ["  func.func private @printMemrefF32(tensor<*xf32>)",
             "  func.func @main() {",
             f"    %zero = arith.constant dense<0.0> : {cache}"]
    k, v, pos = "%zero", "%zero", 0
    if pre:
        t, _, logits_t = pre
        ids = ", ".join(str(i + 1) for i in range(t))
        lines += [f"    %ptok = arith.constant dense<[{ids}]> : tensor<{t}xi32>",
                  "    %p0 = arith.constant 0 : index",
                  f"    %pl, %pk, %pv = call @prefill(%ptok, %p0, %zero, %zero) : "
                  f"(tensor<{t}xi32>, index, {cache}, {cache}) -> ({logits_t}, {cache}, {cache})",
                  f"    %plu = tensor.cast %pl : {logits_t} to tensor<*xf32>",
                  "    call @printMemrefF32(%plu) : (tensor<*xf32>) -> ()"]
        k, v, pos = "%pk", "%pv", t
    lines += ["    %ftok = arith.constant dense<[5]> : tensor<1xi32>",
              f"    %fpos = arith.constant {pos} : index",
              f"    %fl, %fk, %fv = call @forward(%ftok, %fpos, {k}, {v}) : "
              f"(tensor<1xi32>, index, {cache}, {cache}) -> ({logits1}, {cache}, {cache})",
              f"    %flu = tensor.cast %fl : {logits1} to tensor<*xf32>",
              "    call @printMemrefF32(%flu) : (tensor<*xf32>) -> ()",
              "    return",
              "  }"]
    end = text.index("{-#") if "{-#" in text else len(text)
    close = text.rindex("}", 0, end)
    sys.stdout.write(text[:close] + "\n".join(lines) + "\n" + text[close:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
