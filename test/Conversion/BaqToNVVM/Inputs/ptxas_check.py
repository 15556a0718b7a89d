#!/usr/bin/env python3
"""Assembles the PTX of every gpu.binary in an MLIR file (the output of
gpu-module-to-binary format=isa) with ptxas and prints one line per kernel:

    <gpu.binary name>: ok registers=R spill_stores=S spill_loads=L

Exits non-zero if ptxas rejects a module. Also importable: extract_ptx() and
ptxas_info() are used by bench/kernels/ptx_analysis.py.

    ptxas_check.py --ptxas /usr/local/cuda/bin/ptxas --arch sm_90 in.mlir
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile


def unescape(text):
    """Decodes the body of an MLIR string literal (\\XX hex escapes)."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "\\":
            if text[i + 1] in "\\\"":
                out.append(ord(text[i + 1]))
                i += 2
            else:
                out.append(int(text[i + 1:i + 3], 16))
                i += 3
        else:
            out.extend(text[i].encode())
            i += 1
    return out.decode()


def extract_ptx(mlir):
    """[(binary name, PTX text)] of every gpu.binary with an assembly."""
    pattern = re.compile(
        r'gpu\.binary @(\w+)\s*\[#gpu\.object<.*?assembly = "((?:[^"\\]|\\.)*)"', re.S)
    return [(m.group(1), unescape(m.group(2))) for m in pattern.finditer(mlir)]


def ptxas_info(ptxas, arch, ptx):
    """Runs ptxas -v; returns (ok, {registers, spill_stores, spill_loads}, log)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "k.ptx")
        with open(src, "w") as f:
            f.write(ptx)
        proc = subprocess.run([ptxas, "-v", "--gpu-name", arch, src, "-o",
                               os.path.join(tmp, "k.cubin")],
                              capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    info = {"registers": 0, "spill_stores": 0, "spill_loads": 0}
    for m in re.finditer(r"Used (\d+) registers", log):
        info["registers"] = max(info["registers"], int(m.group(1)))
    for m in re.finditer(r"(\d+) bytes spill stores, (\d+) bytes spill loads", log):
        info["spill_stores"] += int(m.group(1))
        info["spill_loads"] += int(m.group(2))
    return proc.returncode == 0, info, log


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ptxas", default="/usr/local/cuda/bin/ptxas")
    p.add_argument("--arch", required=True)
    p.add_argument("input")
    args = p.parse_args()
    kernels = extract_ptx(open(args.input).read())
    if not kernels:
        print("error: no gpu.binary with PTX assembly found")
        return 1
    status = 0
    for name, ptx in kernels:
        ok, info, log = ptxas_info(args.ptxas, args.arch, ptx)
        if not ok:
            print(f"{name}: error\n{log}")
            status = 1
            continue
        print(f"{name}: ok registers={info['registers']} "
              f"spill_stores={info['spill_stores']} spill_loads={info['spill_loads']}")
    return status


if __name__ == "__main__":
    sys.exit(main())
