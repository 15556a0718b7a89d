#!/usr/bin/env python3
"""Checks printed layer outputs against a numpy reference.

Reads the quantized module written by --baq-allocate, decodes every packed
weight from its dense_resource blobs following docs/FORMAT.md alone (the
permutation, segments and groups are rebuilt from the layout's `bits`; no
code is shared with the C++ packer or python/baq), computes each layer's
output on the input of expand_driver.py, and compares it with every given
mlir-runner output (printMemrefF32, one print per layer in order).

Prints one line per layer and output with the normwise relative error
max|y - ref| / max|ref| (and, for every output after the first, its
difference to the first, normalised alike), then OK if all are below --tol,
else FAIL.
"""
import argparse
import os
import re
import sys

import numpy as np

GRID = {"f16": np.float16, "f32": np.float32}


def resources(text):
    """Blob key -> raw bytes (the hex after the 4-byte alignment prefix)."""
    section = text[text.index("dialect_resources"):]
    return {k: bytes.fromhex(v[8:]) for k, v in re.findall(r'(\w+): "0x([0-9A-Fa-f]+)"', section)}


def grid(data, name, shape):
    if name == "bf16":
        raw = np.frombuffer(data, dtype="<u2").astype(np.uint32) << 16
        return raw.view(np.float32).reshape(shape)
    return np.frombuffer(data, dtype=np.dtype(GRID[name]).newbyteorder("<")).astype(np.float32).reshape(shape)


def dequantize(layout, blobs):
    """The logical M x N weight in float32, per FORMAT.md §1-4."""
    m, n = int(layout["outputs"]), int(layout["inputs"])
    bits = [int(b) for b in layout["bits"].strip("[]").split(",")]
    group_size = int(layout["group_size"])
    perm = sorted(range(n), key=lambda j: (-bits[j], j))
    live = sum(1 for b in bits if b > 0)
    groups = 1 if group_size == 0 else max(1, -(-live // group_size))

    # Each row is one stream of L = sum(bits) bits in packed order; stream
    # bit t < 32 F (F = L // 32) is bit t % 32 of word (t // 32) * M + i, the
    # rest of row i starts at bit i * r (r = L % 32) after the F * M words.
    L = sum(bits)
    F, r = L // 32, L % 32
    nwords = F * m + -(-(r * m) // 32)
    payload = np.frombuffer(blobs["payload"], dtype="<u4") if nwords else None
    assert payload is None or payload.size == nwords, (payload.size, nwords)
    if layout["scale_type"] == "i8":
        # 8-bit scale codes c: s = (16 + c % 16) * 2^(c // 16 - 16), 0 for c = 0.
        c = np.frombuffer(blobs["scales"], dtype=np.uint8).astype(np.int64).reshape(m, groups)
        scales = np.where(c == 0, 0.0, np.ldexp(16.0 + (c & 15), (c >> 4) - 16)).astype(np.float32)
    else:
        scales = grid(blobs["scales"], layout["scale_type"], (m, groups))
    if layout["zero_type"] == "i8":
        # 8-bit zero codes zq: z = -((s * zq) / 255), each step rounded to f32.
        zq = np.frombuffer(blobs["zeros"], dtype=np.uint8).astype(np.float32).reshape(m, groups)
        zeros = -((scales * zq) / np.float32(255))
    else:
        zeros = grid(blobs["zeros"], layout["zero_type"], (m, groups))
    w = np.zeros((m, n), dtype=np.float32)
    rows = np.arange(m)

    def bit(t):
        a = ((t // 32) * m + rows) * 32 + t % 32 if t < 32 * F else \
            32 * F * m + rows * r + (t - 32 * F)
        return (payload[a // 32] >> (a % 32).astype(np.uint32)) & 1

    t = 0
    for p in range(live):
        j, b = perm[p], bits[perm[p]]
        q = np.zeros(m, dtype=np.uint32)
        for k in range(b):
            q |= bit(t + k).astype(np.uint32) << np.uint32(k)
        t += b
        q = q.astype(np.float32)
        g = p // group_size if group_size else 0
        s, z = scales[:, g], zeros[:, g]
        # GPTQ's grid with an integer zero point (FORMAT.md §4), in f32.
        levels = np.float32((1 << b) - 1)
        step = s / levels
        with np.errstate(divide="ignore", invalid="ignore"):
            zp = np.where(step > 0, np.clip(np.round(-z / step), 0, levels), 0).astype(np.float32)
        w[:, j] = (q - zp) * step
    return w


def layers(text):
    """(name, layout fields, blob keys, weight dtype) per packed constant, in order."""
    blobs = resources(text)
    found = []
    pattern = re.compile(
        r"func\.func @(\w+)\(.*?baq\.packed_constant #baq\.layout<(.*?)> payload\(dense_resource<(\w+)>.*?"
        r"scales\(dense_resource<(\w+)>.*?zeros\(dense_resource<(\w+)>.*?baq\.dequantize .*?-> tensor<\d+x\d+x(\w+)>",
        re.S)
    for name, fields, kp, ks, kz, dtype in pattern.findall(text):
        layout = dict(re.findall(r"(\w+) = (\[[^]]*\]|[\w.]+)", fields))
        found.append((name, layout, {"payload": blobs.get(kp, b""), "scales": blobs[ks],
                                     "zeros": blobs[kz]}, dtype))
    return found


def inputs(kind, rows, n):
    if kind == "identity":
        return np.eye(rows, n)
    r, j = np.meshgrid(np.arange(rows), np.arange(n), indexing="ij")
    return ((7 * r + 3 * j) % 11 - 5) / 4.0


def printed(path):
    """Every printMemrefF32 output in the file, as a flat array."""
    text = open(path).read()
    return [np.array([float(v) for v in re.findall(r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf)", chunk)])
            for chunk in (c.split("Unranked")[0] for c in text.split("data =")[1:])]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("quantized")
    p.add_argument("outputs", nargs="+")
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--input-kind", choices=["ramp", "identity"], default="ramp")
    p.add_argument("--tol", type=float, default=1e-5)
    args = p.parse_args()

    found = layers(open(args.quantized).read())
    if not found:
        sys.exit("expand_reference: no packed layer found")
    ok = True
    results = [printed(path) for path in args.outputs]
    for index, (name, layout, blobs, dtype) in enumerate(found):
        w = dequantize(layout, blobs)
        if dtype != "f32":  # the dequantized weight is rounded to its type
            w = w.astype(GRID[dtype]).astype(np.float32)
        x = inputs(args.input_kind, args.rows, w.shape[1])
        ref = (x @ w.astype(np.float64).T).ravel()
        for path, result in zip(args.outputs, results):
            if index >= len(result) or result[index].shape != ref.shape:
                print(f"{name} {path}: missing or mis-shaped output")
                ok = False
                continue
            scale = max(np.max(np.abs(ref)), 1e-30)
            err = np.max(np.abs(result[index] - ref)) / scale
            ok &= bool(err < args.tol)
            line = f"{name} bits={layout['bits']} {os.path.basename(path)}: relative error {err:.3g}"
            # Later outputs are also compared with the first one directly.
            if path != args.outputs[0] and index < len(results[0]) and \
                    results[0][index].shape == ref.shape:
                diff = np.max(np.abs(result[index] - results[0][index])) / scale
                ok &= bool(diff < args.tol)
                line += f", difference to {os.path.basename(args.outputs[0])} {diff:.3g}"
            print(line)
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
