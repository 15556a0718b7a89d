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
import math
import struct
import sys
from pathlib import Path

import numpy as np

from .cli import ArgumentParser, BaqError, run

DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8")}
# The header is untrusted (its first 8 bytes choose its size): bounded before parsing, as
# baq-opt's reader does. A safetensors header is 3 levels deep ({name: {shape: [...]}}).
MAX_HEADER_BYTES = 100 << 20
MAX_HEADER_DEPTH = 3


class SafetensorsError(BaqError, ValueError):
    """A file that is not a valid safetensors file of F32/F16/F64 tensors (message located)."""


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
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r}: one of {', '.join(DTYPES)}")
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


class SafetensorsWriter:
    """A safetensors file written one tensor at a time: the names and shapes are declared up
    front (the header comes first), then :meth:`write` takes the tensors in that order, so
    only the tensor being written is in memory (``baq.export_model --hessians-file``)."""

    def __init__(self, path: str | Path, specs: list[tuple[str, tuple[int, ...]]],
                 dtype: str = "F32") -> None:
        if dtype not in DTYPES:
            raise ValueError(f"dtype {dtype!r}: one of {', '.join(DTYPES)}")
        self._type = DTYPES[dtype]
        header: dict[str, object] = {}
        offset = 0
        for name, shape in specs:
            n = math.prod(shape) * self._type.itemsize
            header[name] = {"dtype": dtype, "shape": list(shape),
                            "data_offsets": [offset, offset + n]}
            offset += n
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        self._specs = list(specs)
        self._next = 0
        self._file = open(path, "wb")
        self._file.write(struct.pack("<Q", len(text)) + text)

    def write(self, name: str, value: np.ndarray) -> None:
        if self._next >= len(self._specs) or self._specs[self._next][0] != name:
            want = self._specs[self._next][0] if self._next < len(self._specs) else "nothing"
            raise ValueError(f"safetensors writer: got tensor {name!r}, expected {want}")
        shape = self._specs[self._next][1]
        if tuple(np.shape(value)) != tuple(shape):
            raise ValueError(f"safetensors writer: {name} has shape {np.shape(value)}, "
                             f"declared {shape}")
        self._file.write(np.ascontiguousarray(value, dtype=self._type).tobytes())
        self._next += 1

    def close(self) -> None:
        self._file.close()
        if self._next != len(self._specs):
            raise ValueError(f"safetensors writer: {len(self._specs) - self._next} declared "
                             f"tensors were not written")

    def __enter__(self) -> "SafetensorsWriter":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._file.close()


def _nesting_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting of JSON text outside strings (linear, no recursion)."""
    depth = deepest = 0
    in_str = escaped = False
    for c in text:
        if in_str:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise SafetensorsError(f"duplicate key {k!r}")
        out[k] = v
    return out


def parse_safetensors(raw: bytes, where: str = "<bytes>") -> dict[str, np.ndarray]:
    """The F32/F16/F64 tensors of safetensors bytes (``__metadata__`` skipped); anything
    else is a SafetensorsError naming ``where`` and the tensor."""
    def bad(msg: str) -> SafetensorsError:
        return SafetensorsError(f"{where}: {msg}")

    if len(raw) < 8:
        raise bad(f"{len(raw)} bytes is too short for a safetensors header size")
    (size,) = struct.unpack("<Q", raw[:8])
    if size > MAX_HEADER_BYTES or size > len(raw) - 8:
        raise bad(f"not a valid safetensors header: its size field says {size} bytes, the "
                  f"file has {len(raw) - 8} after it (at most {MAX_HEADER_BYTES})")
    try:
        text = raw[8:8 + size].decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad(f"not a valid safetensors header: not UTF-8 at byte {8 + e.start}") from None
    if _nesting_depth(text) > MAX_HEADER_DEPTH:
        raise bad(f"not a valid safetensors header: nested deeper than {MAX_HEADER_DEPTH} "
                  f"levels")
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise bad(f"not a valid safetensors header: {e.msg} at byte {8 + e.pos}") from None
    except SafetensorsError as e:
        raise bad(f"not a valid safetensors header: {e}") from None
    if not isinstance(header, dict):
        raise bad(f"not a valid safetensors header: a JSON {type(header).__name__}, not an "
                  f"object")
    base, data_len = 8 + size, len(raw) - 8 - size
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
            raise bad(f"tensor {name!r}: needs dtype, shape and data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPES:
            raise bad(f"tensor {name!r}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        if not isinstance(shape, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise bad(f"tensor {name!r}: shape {json.dumps(shape)[:60]} is not a list of "
                      f"non-negative integers")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(
                isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            raise bad(f"tensor {name!r}: data_offsets {json.dumps(offsets)[:60]} is not "
                      f"[begin, end]")
        begin, end = offsets
        if not 0 <= begin <= end <= data_len:
            raise bad(f"tensor {name!r}: data_offsets [{begin}, {end}] outside the "
                      f"{data_len} data bytes")
        need = math.prod(shape) * DTYPES[dtype].itemsize
        if end - begin != need:
            raise bad(f"tensor {name!r}: {end - begin} data bytes, shape {shape} x {dtype} "
                      f"needs {need}")
        out[name] = np.frombuffer(raw[base + begin:base + end],
                                  dtype=DTYPES[dtype]).reshape(shape)
    return out


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Reads the F32/F16/F64 tensors of a safetensors file (``__metadata__`` skipped)."""
    return parse_safetensors(Path(path).read_bytes(), str(path))


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="baq-calibrate", description="Check Hessian files for "
                        "baq-opt --baq-attach-hessians: read each safetensors file as "
                        "baq-opt would and list its tensors (name, dtype, shape).")
    ap.add_argument("files", nargs="+", type=Path, metavar="FILE", help="safetensors file")
    a = ap.parse_args(argv)
    names = {v: k for k, v in DTYPES.items()}
    for f in a.files:
        for name, t in read_safetensors(f).items():
            print(f"{f}: {name}: {names[t.dtype]} {'x'.join(map(str, t.shape)) or 'scalar'}")
    return 0


def cli() -> int:
    return run("baq-calibrate", main)


if __name__ == "__main__":
    sys.exit(cli())
