#!/usr/bin/env python3
"""Static analysis of the BAQ decode kernel's PTX (no GPU needed).

For a 4096 x 4096 weight and one activation row (a decode step) it builds,
per bitwidth 1..8 and for a ~2-bit mixed layer, the kernels with
baq-opt --baq-lower-nvvm, turns them into PTX (gpu-module-to-binary
format=isa), assembles them with ptxas, and reports:

  * registers and spill bytes of the decode kernel (ptxas -v);
  * SASS instructions per weight in the inner (chunk) loops, counted in the
    cubin ptxas writes (ptxas_check.sass_sections: .text.<kernel>, 16-byte
    instructions; a loop is a backward BRA and its target), and their mix;
    the bound on SASS per weight below which the kernel stays memory-bound;
  * PTX instructions per weight in the inner (chunk) loops, and their mix;
  * payload bytes loaded per weight by the inner loop (from the loads in the
    PTX) against the ideal bits/8;
  * bytes of weight data one decode step reads from DRAM (payload, padding,
    scales, zeros) against the ideal (bits/8 + metadata), the other traffic
    (activations, K-split partial sums), and the H100 bandwidth-bound time
    (bytes / 3.35 TB/s).

    ptx_analysis.py --baq-opt build/bin/baq-opt [--bits-from allocated.mlir]
        [--chip sm_90] [--unpack half2] [--only 2,3,mixed] [--clock-ghz 1.98]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "Conversion", "BaqToNVVM", "Inputs"))
import ptxas_check  # noqa: E402

H100_BW = 3.35e12
# Memory-bound limit on instructions: an SM issues 4 warp-instructions per
# clock (4 schedulers), i.e. 128 thread-instructions, at --clock-ghz (1.98:
# H100/H200 SXM boost, as issue 11's targets assume; 1.755 gives 11 % less).
GPUS = {"H100": dict(bw=3.35e12, sms=132), "H200": dict(bw=4.8e12, sms=132)}


def max_sass_per_weight(bytes_per_weight, gpu, clock_ghz):
    """SASS instructions per weight at which issue time equals the time to
    stream the weights: above it the kernel is compute-bound."""
    g = GPUS[gpu]
    weights_per_s = g["bw"] / bytes_per_weight
    return g["sms"] * 4 * 32 * clock_ghz * 1e9 / weights_per_s


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{proc.stderr}")
    return proc.stdout


def loops(ptx):
    """Innermost loops: (label, instruction lines) of blocks that end in a
    branch back to their own label."""
    lines = [l.strip() for l in ptx.splitlines()]
    result = []
    label_at = {}
    for i, l in enumerate(lines):
        m = re.match(r"^(\$L__\w+):$", l)
        if m:
            label_at[m.group(1)] = i
        m = re.search(r"\bbra(?:\.uni)?\s+(\$L__\w+);", l)
        if m and m.group(1) in label_at and label_at[m.group(1)] < i:
            start = label_at[m.group(1)]
            body = [x for x in lines[start + 1:i + 1]
                    if x.endswith(";") and not x.startswith("//") and not x.startswith(".")]
            # Innermost: no other label inside.
            if not any(re.match(r"^\$L__\w+:$", x) for x in lines[start + 1:i]):
                result.append((m.group(1), body))
    return result


def mix(body):
    counts = {}
    for l in body:
        op = l.split()[0]
        if op.startswith("@"):
            op = l.split()[1]
        base = op.split(".")[0]
        key = {"and": "lop", "or": "lop", "xor": "lop", "lop3": "lop", "shl": "shift",
               "shr": "shift", "shf": "shift", "bfe": "shift", "fma": "fma",
               "add": "add", "sub": "add", "ld": "ld", "cvt": "cvt", "mul": "mul"}.get(base, "other")
        if op.startswith("add.rn.f32") or op.startswith("sub.rn.f32") or op.startswith("add.f32"):
            key = "fadd"
        counts[key] = counts.get(key, 0) + 1
    return counts


def loaded_payload_bytes(body):
    total = 0
    for l in body:
        m = re.match(r"ld\.global\.nc(?:\.v(\d))?\.(?:b|u)(\d+)", l)
        if m:
            total += int(m.group(1) or 1) * int(m.group(2)) // 8
    return total


def layout_of(mlir):
    m = re.search(r"#baq\.layout<outputs = (\d+), inputs = (\d+).*?bits = \[([0-9, ]+)\]"
                  r".*?segments = \[([0-9, ]+)\].*?payload_bytes = (\d+), scale_bytes = (\d+), "
                  r"zero_bytes = (\d+)>", mlir, re.S)
    m_, n = int(m.group(1)), int(m.group(2))
    bits = [int(b) for b in m.group(3).split(",")]
    flat = [int(v) for v in m.group(4).split(",")]
    segs = [tuple(flat[i:i + 4]) for i in range(0, len(flat), 4)]
    return dict(m=m_, n=n, bits=bits, segs=segs, payload=int(m.group(5)),
                scales=int(m.group(6)), zeros=int(m.group(7)))


def analyse(name, gen_args, args, tmp):
    src = os.path.join(tmp, name + ".mlir")
    run([sys.executable, os.path.join(HERE, "gen_gemv.py"), "--m", str(args.m), "--n", str(args.n),
         "--rows", "1", "-o", src] + gen_args)
    text = open(src).read()
    lay = layout_of(text)
    nvvm = run([args.baq_opt, src, f"--baq-lower-nvvm=chip={args.chip} unpack={args.unpack}"])
    binary = run([args.baq_opt, f"--gpu-module-to-binary=format=isa"], input=nvvm)
    nests = run([args.baq_opt, src, f"--baq-build-kernels=target=gpu unpack={args.unpack}",
                 "--mlir-elide-elementsattrs-if-larger=16"])
    split = 1
    m = re.search(r"-> \(tensor<(\d+)x1x%dxf32>\)" % lay["m"], nests)
    if m:
        split = int(m.group(1))
    v = 4  # rows per thread of the GPU decode configuration for 1 row
    kernels = dict(ptxas_check.extract_ptx(binary))
    decode = next(p for k, p in kernels.items() if k.endswith("baq_decode"))
    ok, info, log = ptxas_check.ptxas_info(args.ptxas, args.chip, decode)
    if not ok:
        sys.exit(f"ptxas rejected {name}:\n{log}")
    # The decode module holds one kernel; its innermost SASS loops are paired
    # in program order with the PTX ones (ptxas keeps the loop order).
    code = next(iter(info["sass"].values()))
    sm = ptxas_check.sm_of(args.chip)
    sass_loops = ptxas_check.sass_loops(code, sm)
    ptx_loops = loops(decode)
    if len(sass_loops) != len(ptx_loops):
        sass_loops = [None] * len(ptx_loops)
    per_bits = {}
    for (_, body), sloop in zip(ptx_loops, sass_loops):
        payload = loaded_payload_bytes(body)
        # With one activation row every weight costs exactly one FMA (one
        # f16x2 FMA per two weights on the half2 path).
        weights = sum(1 for l in body if l.startswith("fma.rn.f32")) + \
            2 * sum(1 for l in body if l.startswith("fma.rn.f16x2"))
        if not weights or not payload:
            continue
        bits = round(payload * 8 / weights)
        if bits < 1 or bits > 8:
            continue
        # Keep the unrolled main loop (most weights per iteration).
        if bits in per_bits and per_bits[bits][4] >= weights:
            continue
        sass = sloop[1] - sloop[0] + 1 if sloop else float("nan")
        smix = ptxas_check.sass_mix(code, *sloop) if sloop else {}
        per_bits[bits] = (len(body) / weights, payload / weights, mix(body), len(body), weights,
                          sass / weights, sass, smix)
    mn = lay["m"] * lay["n"]
    live_bits = sum(lay["bits"])
    ideal = (live_bits * lay["m"] / 8 + lay["scales"] + lay["zeros"] + lay["n"] / 2) / mn
    weight_bytes = lay["payload"] + lay["scales"] + lay["zeros"]
    padded = sum((c + 31) // 32 * 32 for _, _, c, _ in lay["segs"])
    other = 4 * (lay["n"] + 2 * padded + 2 * split * lay["m"] + 2 * lay["m"])
    # Weighted instructions per weight over the segments.
    ipw = spw = 0.0
    counted = 0
    for b, _, count, _ in lay["segs"]:
        if b in per_bits:
            ipw += per_bits[b][0] * count
            spw += per_bits[b][5] * count
            counted += count
    ipw = ipw / counted if counted else float("nan")
    spw = spw / counted if counted else float("nan")
    return dict(name=name, avg_bits=live_bits / lay["n"], regs=info["registers"],
                spills=info["spill_stores"] + info["spill_loads"], per_bits=per_bits,
                ipw=ipw, spw=spw, sass_total=ptxas_check.trimmed_size(code), ideal=ideal, loaded=weight_bytes / mn, other=other,
                split=split, weight_bytes=weight_bytes,
                t_weights=weight_bytes / H100_BW, t_all=(weight_bytes + other) / H100_BW)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baq-opt", required=True)
    p.add_argument("--ptxas", default="/usr/local/cuda/bin/ptxas")
    p.add_argument("--chip", default="sm_90")
    p.add_argument("--m", type=int, default=4096)
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--clock-ghz", type=float, default=1.98)
    p.add_argument("--only", default="", help="comma list of layers: 1..8, mixed")
    p.add_argument("--unpack", default="default",
                   help="--baq-lower-nvvm unpack option (default, magic, half2, ...)")
    p.add_argument("--bits-from", default="",
                   help="take the mixed layer's bitwidths from this MLIR file (--baq-allocate output)")
    args = p.parse_args()

    configs = [(f"uniform{b}", ["--uniform", str(b)]) for b in range(1, 9)
               if not args.only or str(b) in args.only.split(",")]
    if not args.only or "mixed" in args.only.split(","):
        configs.append(("baq-mixed", ["--bits-from", args.bits_from] if args.bits_from
                        else ["--avg", "2"]))
    with tempfile.TemporaryDirectory() as tmp:
        results = [analyse(n, g, args, tmp) for n, g in configs]

    print(f"# BAQ decode kernel, static PTX/SASS analysis ({args.chip}, {args.m} x {args.n}, "
          f"1 activation row, GPU config: 4 rows/thread, unpack={args.unpack})\n")
    print("| layer | avg bits | regs | spill B | inner-loop SASS instr/weight | max SASS/weight "
          "memory-bound H100 / H200 | kernel SASS instr | inner-loop PTX instr/weight | "
          "inner-loop payload B/weight (ideal: bits/8) | weight B/weight read (ideal incl. metadata) "
          "| K slices | other traffic KiB | H100 time weights (+other) us |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        loop_bytes = ", ".join(f"{b}b: {v[1]:.3f}" for b, v in sorted(r["per_bits"].items()))
        bound = " / ".join(f"{max_sass_per_weight(r['loaded'], g, args.clock_ghz):.2f}"
                           for g in ("H100", "H200"))
        print(f"| {r['name']} | {r['avg_bits']:.3f} | {r['regs']} | {r['spills']} | **{r['spw']:.2f}** | "
              f"{bound} | {r['sass_total']} | {r['ipw']:.2f} | "
              f"{loop_bytes} | {r['loaded']:.4f} ({r['ideal']:.4f}) | {r['split']} | "
              f"{r['other'] / 1024:.0f} | {r['t_weights'] * 1e6:.2f} (+{(r['t_all'] - r['t_weights']) * 1e6:.2f}) |")
    print("\n## Inner-loop instruction mix per bitwidth (one loop iteration: unrolled "
          "32-code chunks x 4 rows)\n")
    print("| bits | weights/iter | SASS instr | SASS/weight | SASS mix | PTX instr | PTX instr/weight "
          "| fma | fadd | lop | shift | ld | other |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    seen = {}
    for r in results:
        for b, v in r["per_bits"].items():
            seen.setdefault(b, v)
    for b in sorted(seen):
        ipw, _, mx, n, w, spw, sn, smix = seen[b]
        rest = n - sum(mx.get(k, 0) for k in ("fma", "fadd", "lop", "shift", "ld"))
        smix_text = " ".join(f"{k} {v}" for k, v in sorted(smix.items(), key=lambda kv: -kv[1]))
        print(f"| {b} | {w} | {sn} | {spw:.2f} | {smix_text} | {n} | {ipw:.2f} | {mx.get('fma', 0)} | "
              f"{mx.get('fadd', 0)} | {mx.get('lop', 0)} | "
              f"{mx.get('shift', 0)} | {mx.get('ld', 0)} | {rest} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
