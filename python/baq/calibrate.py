"""Calibration Hessians for any model: ``H = 2/n * sum_x x x^T`` per layer name, written as a
safetensors file that ``baq-opt --baq-attach-hessians="file=..."`` reads.

    cal = Calibrator()
    for batch in activations:               # any model, any layer names
        cal.add("fc1", batch["fc1_in"])      # [..., N] inputs of the layer
    cal.save("hessians.safetensors")

Sums are accumulated in float64; ``n`` counts activation rows (all leading dimensions).
The file format (https://huggingface.co/docs/safetensors): 8-byte little-endian header
size, a JSON header ``{name: {"dtype", "shape", "data_offsets": [begin, end]}}`` padded
with spaces to a multiple of 8, then the raw little-endian tensors.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8")}


class Calibrator:
    """Accumulates ``sum x x^T`` and the row count per layer name."""

    def __init__(self) -> None:
        self._sums: dict[str, np.ndarray] = {}
        self._rows: dict[str, int] = {}

    def add(self, name: str, x: np.ndarray) -> None:
        """Adds a batch of inputs of layer ``name``: shape [..., N], N input features."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 0:
            raise ValueError(f"{name}: activations need at least one dimension")
        x = x.reshape(-1, x.shape[-1])
        if name in self._sums and self._sums[name].shape[0] != x.shape[1]:
            raise ValueError(f"{name}: {x.shape[1]} features, earlier batches had "
                             f"{self._sums[name].shape[0]}")
        self._sums[name] = self._sums.get(name, 0.0) + x.T @ x
        self._rows[name] = self._rows.get(name, 0) + x.shape[0]

    def hessian(self, name: str) -> np.ndarray:
        """``2/n * sum x x^T`` (float64) of layer ``name``."""
        return (2.0 / self._rows[name]) * self._sums[name]

    def hessians(self) -> dict[str, np.ndarray]:
        return {name: self.hessian(name) for name in self._sums}

    def save(self, path: str | Path, dtype: str = "F32") -> None:
        write_safetensors(path, self.hessians(), dtype)


def calibrate(batches, path: str | Path | None = None, dtype: str = "F32") -> dict[str, np.ndarray]:
    """Hessians from an iterable of ``(layer name, activations [..., N])``; written to
    ``path`` as safetensors when given."""
    cal = Calibrator()
    for name, x in batches:
        cal.add(name, x)
    if path is not None:
        cal.save(path, dtype)
    return cal.hessians()


def write_safetensors(path: str | Path, tensors: dict[str, np.ndarray], dtype: str = "F32") -> None:
    """Writes ``tensors`` (converted to ``dtype``: F32, F16 or F64) as a safetensors file."""
    np_type = DTYPES[dtype]
    header: dict[str, object] = {}
    blobs, offset = [], 0
    for name, value in tensors.items():
        data = np.ascontiguousarray(value, dtype=np_type).tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(value)),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Reads the F32/F16/F64 tensors of a safetensors file (``__metadata__`` skipped)."""
    raw = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    base = 8 + size
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(raw[base + begin:base + end],
                                  dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out
