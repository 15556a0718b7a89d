#!/usr/bin/env python3
"""Runs --baq-allocate in every valid budget x budget-scope x allocator x
quantizer combination, once without and once with report=FILE, and checks
that the report never decides: both runs succeed or both fail with the same
diagnostics, their outputs are byte-identical, and the report is written
(valid JSON, one entry per quantized matmul) whenever the run succeeds.

usage: report_neutral.py BAQ_OPT INPUT.mlir WORKDIR TARGET [extra options]

Prints one line per combination and then OK, or FAIL lines.
"""
import json
import os
import subprocess
import sys


def combinations():
    for scope in ("layer", "module", "module-greedy"):
        # budget-scope=module-greedy needs allocator=exact and uniform=false.
        allocators = ("exact",) if scope == "module-greedy" else ("exact", "paper", "uniform")
        for allocator in allocators:
            for budget in ("payload", "total"):
                for quantizer in ("gptq", "rtn"):
                    yield scope, allocator, budget, quantizer


def main():
    baq_opt, source, workdir, target = sys.argv[1:5]
    extra = " ".join(sys.argv[5:])
    os.makedirs(workdir, exist_ok=True)
    failures = 0
    for scope, allocator, budget, quantizer in combinations():
        tag = f"{scope}-{allocator}-{budget}-{quantizer}"
        options = (f"target-bits={target} budget={budget} budget-scope={scope} "
                   f"quantizer={quantizer} progress=false")
        options += " uniform=true" if allocator == "uniform" else f" allocator={allocator}"
        if extra:
            options += " " + extra
        report = os.path.join(workdir, tag + ".json")
        if os.path.exists(report):
            os.remove(report)
        runs = []
        for with_report in (False, True):
            opts = options + (f" report={report}" if with_report else "")
            out = os.path.join(workdir, tag + (".report" if with_report else ".plain") + ".mlir")
            proc = subprocess.run([baq_opt, source, f"--baq-allocate={opts}", "-o", out],
                                  capture_output=True, text=True)
            output = open(out, "rb").read() if proc.returncode == 0 else b""
            runs.append((proc.returncode, proc.stderr, output))
        (rc0, err0, out0), (rc1, err1, out1) = runs
        status = "ok" if rc0 == 0 else "error"
        if rc0 != rc1:
            print(f"FAIL {tag}: exit {rc0} without report, {rc1} with: {err1.strip()}")
            failures += 1
            continue
        if err0 != err1:
            print(f"FAIL {tag}: diagnostics differ:\n{err0}\n---\n{err1}")
            failures += 1
            continue
        if out0 != out1:
            print(f"FAIL {tag}: outputs differ with report=")
            failures += 1
            continue
        if rc0 == 0:
            try:
                data = json.load(open(report))
            except (OSError, ValueError) as e:
                print(f"FAIL {tag}: report not written or not JSON: {e}")
                failures += 1
                continue
            matmuls = data.get("matmuls", [])
            quantized = out1.count(b"baq.bits = #baq.bits<")
            if not matmuls or len(matmuls) > quantized:
                print(f"FAIL {tag}: report has {len(matmuls)} matmuls, output {quantized}")
                failures += 1
                continue
            unavailable = sum(1 for m in matmuls if m.get("uniform_unavailable"))
            for m in matmuls:
                if m.get("uniform_unavailable") and (m.get("uniform_bits") is not None
                                                     or m.get("uniform_hessian_loss") is not None):
                    print(f"FAIL {tag}: {m['name']} has a reason and a baseline")
                    failures += 1
            status += f" matmuls={len(matmuls)} uniform_unavailable={unavailable}"
        print(f"{tag}: {status}")
    print("FAIL" if failures else "OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
