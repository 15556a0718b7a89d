#!/usr/bin/env python3
"""Assembles the PTX of every gpu.binary in an MLIR file (the output of
gpu-module-to-binary format=isa) with ptxas and prints one line per kernel:

    <gpu.binary name>: ok registers=R spill_stores=S spill_loads=L

Exits non-zero if ptxas rejects a module. Also importable: extract_ptx(),
ptxas_info() and the SASS counters are used by bench/kernels/ptx_analysis.py.

With --sass the line also gives the SASS instruction count of the kernel
(from the cubin's .text section) and, per innermost loop, its SASS
instruction count: `sass=N loops=[n1,n2,...]`. With --ptx the input is a
plain PTX file instead of MLIR.

    ptxas_check.py --ptxas /usr/local/cuda/bin/ptxas --arch sm_90 in.mlir

SASS (sm_70 and later) is a sequence of 16-byte instructions. Without
nvdisasm the cubin is read as an ELF file (stdlib struct): .text.<kernel>
holds the kernel's code. Opcode and branch fields were identified on
nvcc/ptxas-compiled kernels with known instructions (CUDA 13, sm_80/sm_90):
the low 9 bits of an instruction are its opcode (bits 9-11 select register /
immediate / constant operand forms); a BRA's signed byte offset, relative to
the next instruction, is bits 32-81 on sm_80 and, on sm_90, bits 16-23
(offset bits 2-9) and 34-81 (offset bits 10 and up). The loop counter's
add is IADD3 (0x010) on sm_80 and a different opcode (0x090) on sm_90; both
count as "iadd". test/Conversion/BaqToNVVM/sass-count.test checks this on
hand-written PTX.
"""
import argparse
import os
import re
import struct
import subprocess
import sys
import tempfile

# Low 9 bits of an sm_80/sm_90 instruction -> class.
SASS_OPCODES = {
    0x023: "ffma", 0x021: "fadd", 0x020: "fmul",
    0x031: "hfma2", 0x035: "hfma2", 0x030: "hadd2",
    0x012: "lop3", 0x019: "shf", 0x010: "iadd", 0x090: "iadd", 0x024: "imad", 0x025: "imad",
    0x00c: "isetp", 0x002: "mov", 0x007: "sel",
    0x181: "ldg", 0x186: "stg", 0x184: "lds", 0x182: "ldc", 0x0b9: "uldc",
    0x147: "bra", 0x14d: "exit", 0x118: "nop",
}
BRA = 0x147


def sass_sections(cubin):
    """{kernel name: [(lo, hi) 64-bit halves of each instruction]} of an ELF
    cubin (bytes)."""
    if cubin[:4] != b"\x7fELF" or cubin[4] != 2:
        raise ValueError("not a 64-bit ELF cubin")
    shoff = struct.unpack_from("<Q", cubin, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", cubin, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", cubin, shoff + i * shentsize)
               for i in range(shnum)]
    names = headers[shstrndx][4]

    def name(offset):
        start = names + offset
        return cubin[start:cubin.index(b"\0", start)].decode()

    kernels = {}
    for h in headers:
        n = name(h[0])
        if n.startswith(".text."):
            offset, size = h[4], h[5]
            kernels[n[len(".text."):]] = [
                struct.unpack_from("<QQ", cubin, offset + 16 * i)
                for i in range(size // 16)]
    return kernels


def sass_opcode(ins):
    return ins[0] & 0x1FF


def sm_of(arch):
    return int(re.match(r"sm_(\d+)", arch).group(1))


def branch_target(ins, index, sm):
    """Instruction index a BRA at `index` jumps to (`sm`: 80, 90, ...)."""
    lo, hi = ins
    word = lo | (hi << 64)
    if sm >= 90:
        raw, width = ((word >> 16) & 0xFF) << 2 | ((word >> 34) & ((1 << 48) - 1)) << 10, 58
    else:
        raw, width = (word >> 32) & ((1 << 50) - 1), 50
    if raw >> (width - 1):
        raw -= 1 << width
    return index + 1 + raw // 16


def sass_loops(code, sm):
    """Innermost loops as (first, last) instruction indices: a backward BRA
    and its target, with no other backward branch inside (the BRA-to-self
    after EXIT is not a loop)."""
    back = [(branch_target(ins, i, sm), i) for i, ins in enumerate(code)
            if sass_opcode(ins) == BRA and branch_target(ins, i, sm) < i]
    return [(t, i) for t, i in back
            if not any(t <= t2 and i2 < i or t < t2 and i2 <= i
                       for t2, i2 in back if (t2, i2) != (t, i))]


def sass_mix(code, first=0, last=None):
    last = len(code) - 1 if last is None else last
    counts = {}
    for ins in code[first:last + 1]:
        key = SASS_OPCODES.get(sass_opcode(ins), "other")
        counts[key] = counts.get(key, 0) + 1
    return counts


def trimmed_size(code):
    """Instructions up to the last EXIT/BRA (ptxas pads with NOPs)."""
    n = len(code)
    while n and sass_opcode(code[n - 1]) == 0x118:
        n -= 1
    return n


def unescape(text):
    """Decodes the body of an MLIR string literal (\\XX hex escapes)."""
    return re.sub(r'\\([0-9A-Fa-f]{2}|[\\"])',
                  lambda m: chr(int(m.group(1), 16)) if len(m.group(1)) == 2 else m.group(1),
                  text)


def extract_ptx(mlir):
    """[(binary name, PTX text)] of every gpu.binary with an assembly. Scans
    for the closing quote instead of matching the literal with one regular
    expression, which takes gigabytes on kernels with megabytes of weights."""
    result = []
    for m in re.finditer(r"gpu\.binary @(\w+)\s*\[#gpu\.object<", mlir):
        start = mlir.find('assembly = "', m.end())
        if start < 0:
            continue
        start += len('assembly = "')
        end = start
        while True:
            end = mlir.index('"', end)
            slashes = 0
            while mlir[end - 1 - slashes] == "\\":
                slashes += 1
            if slashes % 2 == 0:
                break
            end += 1
        result.append((m.group(1), unescape(mlir[start:end])))
    return result


def ptxas_info(ptxas, arch, ptx):
    """Runs ptxas -v; returns (ok, {registers, spill_stores, spill_loads,
    sass: {kernel: instructions}}, log)."""
    sass = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "k.ptx")
        with open(src, "w") as f:
            f.write(ptx)
        cubin = os.path.join(tmp, "k.cubin")
        proc = subprocess.run([ptxas, "-v", "--gpu-name", arch, src, "-o", cubin],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            with open(cubin, "rb") as f:
                sass = sass_sections(f.read())
    log = proc.stdout + proc.stderr
    info = {"registers": 0, "spill_stores": 0, "spill_loads": 0, "sass": sass}
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
    p.add_argument("--sass", action="store_true",
                   help="also print SASS instruction counts (kernel, innermost loops)")
    p.add_argument("--ptx", action="store_true", help="the input is a PTX file")
    p.add_argument("input")
    args = p.parse_args()
    text = open(args.input).read()
    kernels = [(os.path.basename(args.input), text)] if args.ptx else extract_ptx(text)
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
        line = (f"{name}: ok registers={info['registers']} "
                f"spill_stores={info['spill_stores']} spill_loads={info['spill_loads']}")
        if args.sass:
            for kernel, code in sorted(info["sass"].items()):
                found = sass_loops(code, sm_of(args.arch))
                loops = [last - first + 1 for first, last in found]
                line += f" {kernel}: sass={trimmed_size(code)} loops={loops}"
                for first, last in found:
                    counts = sass_mix(code, first, last)
                    line += " mix=[" + " ".join(f"{k}={v}" for k, v in sorted(counts.items())) + "]"
        print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
