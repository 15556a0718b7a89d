#!/usr/bin/env python3
"""Checks a --baq-allocate JSON report against the budget rules.

usage: check_report.py REPORT --target T --mode exact|paper|uniform --budget payload|total
                       [--scope layer|module]
Prints one line per matmul and exits non-zero on the first violated rule."""
import argparse
import json
import sys

p = argparse.ArgumentParser()
p.add_argument("report")
p.add_argument("--target", type=float, required=True)
p.add_argument("--mode", required=True)
p.add_argument("--budget", default="payload")
p.add_argument("--scope", default="layer", help="where the budget is met")
p.add_argument("--baq-beats-uniform", action="store_true")
args = p.parse_args()
report = json.load(open(args.report))


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


scope = report["options"].get("budget_scope", "layer")
if scope == "module" and report["options"].get("budget") == "payload":
    scope = "layer"  # a pooled payload budget is every layer's own
if scope != args.scope:
    fail(f"report budget_scope {report['options'].get('budget_scope')} != {args.scope}")
weights = payload = stored = 0
for m in report["matmuls"]:
    rows, cols = m["shape"]
    bits = m["bits"]
    hist = m["bits_histogram"]
    if len(hist) != 9 or sum(hist) != cols:
        fail(f"{m['name']}: histogram {hist} does not cover {cols} channels")
    mean = sum(b * c for b, c in enumerate(hist)) / cols
    if abs(mean - bits["payload"]) > 1e-9:
        fail(f"{m['name']}: payload {bits['payload']} != histogram mean {mean}")
    parts = sum(bits[k] for k in ("payload", "padding", "scales", "zeros", "bit_table", "permutation"))
    if abs(parts - bits["total"]) > 1e-9:
        fail(f"{m['name']}: parts {parts} != total {bits['total']}")
    spent = bits["total"] if args.budget == "total" else bits["payload"]
    if args.scope == "layer" and args.mode in ("exact", "uniform") and spent > args.target + 1e-9:
        fail(f"{m['name']}: {spent} bits exceed the target {args.target}")
    if args.scope == "layer" and args.mode == "exact" and args.budget == "payload" \
            and rows * cols >= 1024 \
            and spent < args.target - 0.01:
        fail(f"{m['name']}: {spent} bits are more than 0.01 below the target {args.target}")
    if args.mode == "uniform" and max(hist) != cols:
        fail(f"{m['name']}: uniform allocation has several bitwidths {hist}")
    if not 0 < m["ratio_c"] <= 1:
        fail(f"{m['name']}: ratio_c {m['ratio_c']} outside (0, 1]")
    if args.baq_beats_uniform and not m["hessian_loss"] < m["uniform_hessian_loss"]:
        fail(f"{m['name']}: loss {m['hessian_loss']} not below uniform {m['uniform_hessian_loss']}")
    weights += rows * cols
    payload += bits["payload"] * rows * cols
    stored += bits["total"] * rows * cols
    print(f"{m['name']} {rows}x{cols} payload={bits['payload']:.4f} total={bits['total']:.4f} "
          f"ratio_c={m['ratio_c']:.3f} loss={m['hessian_loss']:.4g} uniform="
          + (f"{m['uniform_hessian_loss']:.4g}" if m.get("uniform_hessian_loss") is not None
             else f"unavailable ({m.get('uniform_unavailable')})"))

total = report["total"]
if total["weights"] != weights:
    fail(f"total weights {total['weights']} != {weights}")
if abs(total["payload_bits_per_weight"] - payload / weights) > 1e-9:
    fail("total payload_bits_per_weight is not the weighted mean of the matmuls")
if abs(total["total_bits_per_weight"] - stored / weights) > 1e-9:
    fail("total total_bits_per_weight is not the weighted mean of the matmuls")
module_spent = total["total_bits_per_weight"] if args.budget == "total" \
    else total["payload_bits_per_weight"]
if args.mode in ("exact", "uniform") and module_spent > args.target + 1e-9:
    fail(f"module: {module_spent} bits exceed the target {args.target}")
print(f"total weights={weights} payload={total['payload_bits_per_weight']:.4f} "
      f"total={total['total_bits_per_weight']:.4f}")
print("OK")
