#!/usr/bin/env python3
"""Every mgpu* function a lowered module calls is exported by the CUDA runtime library.

usage: check_symbols.py --ir MODULE.ll --lib libbaq_cuda_runtime.so [--nm llvm-nm]

Reads the `declare` lines of the LLVM IR (what the JIT must resolve) and the library's
defined dynamic symbols; prints both sets and the missing ones, exits 1 if any is missing.
"""
import argparse
import re
import subprocess
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ir", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--nm", default="llvm-nm")
    a = ap.parse_args()
    text = open(a.ir).read()
    needed = set(re.findall(r"^declare [^@]*@(mgpu\w+)\(", text, re.M))
    nm = subprocess.run([a.nm, "-D", "--defined-only", "--format=just-symbols", a.lib],
                        check=True, capture_output=True, text=True).stdout
    exported = {s for s in nm.split() if s.startswith(("mgpu", "baqCuda"))}
    missing = sorted(needed - exported)
    print("needed:", " ".join(sorted(needed)))
    print("exported:", " ".join(sorted(exported)))
    print("missing:", " ".join(missing) if missing else "none")
    print(f"detail: {len(needed)} mgpu* functions called, {len(needed) - len(missing)} exported")
    if not needed:
        print("error: the module calls no mgpu* function")
        return 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
