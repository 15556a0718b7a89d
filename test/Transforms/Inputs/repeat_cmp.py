#!/usr/bin/env python3
"""Runs a command N times and checks that its stdout is the same bytes every
time (and that it succeeds): run-to-run determinism.

usage: repeat_cmp.py N COMMAND [ARGS...]

Prints the number of distinct outputs and OK, or FAIL with the first run
that differed.
"""
import subprocess
import sys


def main():
    runs = int(sys.argv[1])
    command = sys.argv[2:]
    outputs = []
    for i in range(runs):
        proc = subprocess.run(command, capture_output=True)
        if proc.returncode != 0:
            print(f"FAIL: run {i} exited {proc.returncode}: {proc.stderr.decode()}")
            return 1
        outputs.append(proc.stdout)
    distinct = len(set(outputs))
    print(f"runs {runs} distinct outputs {distinct}")
    if distinct != 1:
        first = next(i for i, o in enumerate(outputs) if o != outputs[0])
        print(f"FAIL: run {first} differs from run 0")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
