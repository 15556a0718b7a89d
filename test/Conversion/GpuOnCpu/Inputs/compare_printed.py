#!/usr/bin/env python3
"""Compares the numbers two printMemref outputs print.

usage: compare_printed.py A B TOLERANCE

Prints the count and the worst |a - b| over max |a|; exits 1 if the counts differ or the
error exceeds TOLERANCE.
"""
import re
import sys

NUM = re.compile(r"-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan)")


def numbers(path: str) -> list[float]:
    vals = []
    for line in open(path):
        if line.startswith("Unranked Memref") or "data =" in line:
            continue
        vals += [float(x) for x in NUM.findall(line)]
    return vals


def main() -> int:
    a, b = numbers(sys.argv[1]), numbers(sys.argv[2])
    tol = float(sys.argv[3])
    if len(a) != len(b) or not a:
        print(f"FAIL: {len(a)} vs {len(b)} numbers")
        return 1
    scale = max(abs(x) for x in a) or 1.0
    err = max(abs(x - y) for x, y in zip(a, b)) / scale
    print(f"{len(a)} numbers, relative error {err:.3g}")
    print("PASS" if err <= tol else "FAIL")
    return 0 if err <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
