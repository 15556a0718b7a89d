#!/usr/bin/env python3
"""Writes the seed corpus of baq-fuzz-safetensors into fuzz/corpus-safetensors:
valid files (every dtype the reader converts, metadata, empty tensors) and one
of each kind of lie the reader must reject. Synthetic data only.

    fuzz/make-safetensors-corpus.py
"""
import struct
from pathlib import Path

OUT = Path(__file__).resolve().parent / "corpus-safetensors"


def st(header, data=b"", delta=0):
    text = header.encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text) + delta) + text + data


def entry(name, dtype, shape, begin, end):
    shape = ",".join(str(d) for d in shape)
    return f'"{name}":{{"dtype":"{dtype}","shape":[{shape}],"data_offsets":[{begin},{end}]}}'


F32 = struct.pack("<4f", 1.0, 0.0, 0.0, 1.0)
F16 = bytes([0x00, 0x3C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3C])
BF16 = bytes([0x80, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3F])

SEEDS = {
    "valid-f32": st("{" + entry("fc1", "F32", [2, 2], 0, 16) + "}", F32),
    "valid-mixed": st('{"__metadata__":{"format":"pt"},' + entry("a", "F32", [2, 2], 0, 16)
                      + "," + entry("b", "F16", [2, 2], 16, 24) + ","
                      + entry("c", "BF16", [4], 24, 32) + "}", F32 + F16 + BF16),
    "valid-empty": st("{" + entry("e", "F32", [0, 4], 0, 0) + ","
                      + entry("s", "F32", [], 0, 4) + "}", F32[:4]),
    "valid-no-tensors": st("{}"),
    "escaped-keys": st('{"a\\"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                       '"\\u0063":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"xy"),
    "duplicate": st("{" + entry("t", "U8", [1], 0, 1) + "," + entry("t", "U8", [1], 1, 2) + "}", b"xy"),
    "deep": st('{"t":' + "[" * 2000 + "]" * 2000 + "}"),
    "too-large": st("{" + entry("t", "F32", [4, 4611686018427387904], 0, 16) + "}", F32),
    "truncated": st("{" + entry("fc1", "F32", [2, 2], 0, 16) + "}", F32[:12]),
    "header-past-end": st("{" + entry("fc1", "F32", [2, 2], 0, 16) + "}", F32, 17),
    "offsets-reversed": st("{" + entry("t", "U8", [1], 2, 1) + "}", b"xy"),
    "float-dim": st('{"t":{"dtype":"F32","shape":[9.223372036854775808e18],"data_offsets":[0,4]}}', F32[:4]),
}


def main():
    OUT.mkdir(exist_ok=True)
    for name, data in SEEDS.items():
        (OUT / f"{name}.safetensors").write_bytes(data)


if __name__ == "__main__":
    main()
