#!/usr/bin/env python3
"""Writes a safetensors file of calibration Hessians for the attach tests with
baq.calibrate (random activations), optionally corrupted:

    make_safetensors.py OUT --tensor fc1:4 --tensor fc2:6:F16 [--shape fc1:4x5]
        [--truncate BYTES] [--header-size N] [--offsets NAME:BEGIN:END]
"""
import argparse
import json
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python"))
from baq.calibrate import Calibrator, write_safetensors  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out")
    p.add_argument("--tensor", action="append", default=[], help="NAME:N[:DTYPE]")
    p.add_argument("--shape", action="append", default=[], help="NAME:AxB (an N x N tensor reshaped)")
    p.add_argument("--truncate", type=int, help="drop this many bytes from the end")
    p.add_argument("--header-size", type=int, help="overwrite the 8-byte header size")
    p.add_argument("--offsets", help="NAME:BEGIN:END overwrites data_offsets")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    cal, dtypes = Calibrator(), {}
    for spec in args.tensor:
        name, n, *dtype = spec.split(":")
        cal.add(name, rng.standard_normal((64, int(n))))
        dtypes[name] = dtype[0] if dtype else "F32"
    tensors = cal.hessians()
    for spec in args.shape:
        name, shape = spec.split(":")
        tensors[name] = tensors[name].reshape([int(d) for d in shape.split("x")])
    # One file per dtype group would complicate the format; write F32 and
    # rewrite the dtypes of the others in place.
    if len(set(dtypes.values()) - {"F32"}) > 1:
        raise SystemExit("one non-F32 dtype at most")
    other = next((d for d in dtypes.values() if d != "F32"), None)
    if other:
        write_safetensors(args.out, {k: v for k, v in tensors.items() if dtypes[k] == other}, other)
        raw_other = Path(args.out).read_bytes()
    write_safetensors(args.out, tensors, "F32")
    raw = Path(args.out).read_bytes()
    if other:  # merge: F32 tensors first, then the others' bytes with shifted offsets
        size = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + size])
        osize = struct.unpack("<Q", raw_other[:8])[0]
        oheader = json.loads(raw_other[8:8 + osize])
        body = b""
        for name in tensors:
            if dtypes[name] == "F32":
                b, e = header[name]["data_offsets"]
                chunk = raw[8 + size + b:8 + size + e]
            else:
                b, e = oheader[name]["data_offsets"]
                chunk = raw_other[8 + osize + b:8 + osize + e]
                header[name] = dict(oheader[name])
            header[name]["data_offsets"] = [len(body), len(body) + len(chunk)]
            body += chunk
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        raw = struct.pack("<Q", len(text)) + text + body
    if args.offsets:
        name, b, e = args.offsets.split(":")
        size = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + size])
        header[name]["data_offsets"] = [int(b), int(e)]
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        raw = struct.pack("<Q", len(text)) + text + raw[8 + size:]
    if args.header_size is not None:
        raw = struct.pack("<Q", args.header_size) + raw[8:]
    if args.truncate:
        raw = raw[:-args.truncate]
    Path(args.out).write_bytes(raw)


if __name__ == "__main__":
    main()
