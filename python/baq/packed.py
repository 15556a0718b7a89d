"""Independent reader of the BAQ packed weight format (docs/FORMAT.md), from text MLIR.

It shares no code with the C++ packer: it takes only the per-channel bitwidths, the shape,
``group_size``, ``channel_dim`` and the scale/zero types from the ``#baq.layout<...>``
attribute and re-derives the permutation, segments, bit offsets and groups from the
bitwidths as FORMAT.md §1-§4 prescribe. Fields the attribute repeats (``perm``,
``segments``, byte sizes) are only cross-checked, so a disagreement between the C++ side
and the spec is reported instead of silently trusted.

Un-quantized functions (a plain float ``dense_resource``/``dense`` weight feeding the matmul)
are read too, so a partially quantized or FP32 module evaluates the same way.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cli import ArgumentParser, BaqError, read_text, run
from .mlir import (ELEM_BITS, MlirError, find_balanced, parse_elements, parse_resources,
                   parse_tensor_type, resolve_aliases, split_functions, split_resources)


class FormatError(BaqError, ValueError):
    """The packed artefact does not follow docs/FORMAT.md."""


@dataclass(frozen=True)
class Segment:
    bits: int
    start: int
    count: int
    bit_offset: int  # first bit of the segment in each row's stream


@dataclass
class Layout:
    """What a reader needs from ``#baq.layout``; everything else is derived from ``bits``."""

    outputs: int
    inputs: int
    bits: np.ndarray  # int, one per input channel, original order
    group_size: int = 0
    channel_dim: int = 1
    scale_type: str = "f16"
    zero_type: str = "f16"
    attr_perm: list[int] | None = None
    attr_segments: list[int] | None = None
    attr_bytes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if any(not 0 <= int(b) <= 8 for b in np.ravel(self.bits)):
            raise FormatError(f"bitwidths outside 0..8: "
                              f"{sorted(set(int(b) for b in np.ravel(self.bits)))[:8]}")
        self.bits = np.asarray(self.bits, dtype=np.int64)
        if self.bits.shape != (self.inputs,):
            raise FormatError(f"{len(self.bits)} bitwidths for {self.inputs} input channels")
        if self.group_size < 0:
            raise FormatError(f"negative group_size {self.group_size}")
        if self.channel_dim not in (0, 1):
            raise FormatError(f"channel_dim = {self.channel_dim}, must be 0 or 1")
        if self.scale_type not in ("f16", "bf16", "f32", "i8"):
            raise FormatError(f"unsupported scale type {self.scale_type}")
        if self.zero_type not in ("f16", "bf16", "f32", "i8"):
            raise FormatError(f"unsupported zero type {self.zero_type}")

    # -- FORMAT.md §1: canonical permutation (descending bits, ties by ascending index)
    @property
    def perm(self) -> np.ndarray:
        return np.argsort(-self.bits, kind="stable")

    @property
    def nonzero(self) -> int:
        """P: channels with b_j > 0 (the only ones stored)."""
        return int(np.count_nonzero(self.bits))

    # -- §2: segments
    @property
    def segments(self) -> list[Segment]:
        pb = self.bits[self.perm][: self.nonzero]
        segs, off, p = [], 0, 0
        while p < len(pb):
            q = p
            while q < len(pb) and pb[q] == pb[p]:
                q += 1
            segs.append(Segment(int(pb[p]), p, q - p, off))
            off += (q - p) * int(pb[p])
            p = q
        return segs

    # -- §3: payload words
    @property
    def row_bits(self) -> int:
        """L: bits of one row's stream."""
        return int(self.bits.sum())

    @property
    def full_words(self) -> int:
        """F: words per row interleaved by row."""
        return self.row_bits // 32

    @property
    def tail_bits(self) -> int:
        """r: bits per row in the shared tail."""
        return self.row_bits % 32

    @property
    def payload_words(self) -> int:
        return self.full_words * self.outputs + -(-(self.tail_bits * self.outputs) // 32)

    # -- §4: groups
    @property
    def num_groups(self) -> int:
        # FORMAT.md §4: at least one group per row, even when every channel is 0-bit.
        if self.group_size == 0:
            return 1
        return max(1, math.ceil(self.nonzero / self.group_size))

    def check_attr(self) -> None:
        """Cross-check the fields the attribute repeats against the re-derived ones."""
        if self.attr_perm is not None and list(self.attr_perm) != self.perm.tolist():
            raise FormatError("layout perm differs from the canonical permutation of the bits")
        if self.attr_segments is not None:
            flat = [v for s in self.segments for v in (s.bits, s.start, s.count, s.bit_offset)]
            if list(self.attr_segments) != flat:
                raise FormatError(f"layout segments {self.attr_segments} differ from the "
                                  f"derived {flat}")
        want = {"payload_bytes": 4 * self.payload_words,
                "scale_bytes": self.outputs * self.num_groups * ELEM_BITS[self.scale_type] // 8,
                "zero_bytes": self.outputs * self.num_groups * ELEM_BITS[self.zero_type] // 8}
        for k, v in self.attr_bytes.items():
            if k in want and want[k] != v:
                raise FormatError(f"layout {k} = {v}, the bits imply {want[k]}")

    # -- §6: honest bits
    def bit_accounting(self) -> dict[str, float]:
        M, N = self.outputs, self.inputs
        payload = M * int(self.bits.sum())
        d = {"payload": payload,
             "padding": 32 * self.payload_words - payload,
             "scales": M * self.num_groups * ELEM_BITS[self.scale_type],
             "zeros": M * self.num_groups * ELEM_BITS[self.zero_type],
             "bit_table": 4 * N,
             "permutation": 0}
        d["total"] = sum(d.values())
        d["weights"] = M * N
        return d


_INT_FIELD = r"\b{}\s*=\s*(-?\d+)"


def _int_list(text: str, key: str) -> list[int] | None:
    """``key = [1, 2]`` or ``key = array<i8: 1, 2>`` -> [1, 2]."""
    m = re.search(r"\b" + key + r"\s*=\s*(?:array<\s*[a-z]+\d*\s*:?\s*([^>]*)>|\[([^\]]*)\])",
                  text)
    if not m:
        return None
    body = m.group(1) if m.group(1) is not None else m.group(2)
    return [int(v) for v in re.findall(r"-?\d+", body)]


def parse_layout(text: str) -> Layout:
    """Tolerant regex parse of ``#baq.layout<...>`` text (field order and syntax free)."""
    def geti(key: str) -> int | None:
        m = re.search(_INT_FIELD.format(key), text)
        return int(m.group(1)) if m else None

    bits = _int_list(text, "bits")
    if bits is None:
        raise FormatError(f"layout has no bits: {text[:80]}...")
    inputs = geti("inputs")
    outputs = geti("outputs")
    types = {}
    for key in ("scale_type", "zero_type"):
        m = re.search(r"\b" + key + r"\s*=\s*(\w+)", text)
        types[key] = m.group(1) if m else "f16"
    cd = geti("channel_dim")
    nbytes = {k: v for k in ("payload_bytes", "scale_bytes", "zero_bytes")
              if (v := geti(k)) is not None}
    return Layout(outputs=outputs if outputs is not None else -1,
                  inputs=inputs if inputs is not None else len(bits), bits=np.asarray(bits),
                  group_size=geti("group_size") or 0,
                  channel_dim=cd if cd is not None else 1,
                  scale_type=types["scale_type"], zero_type=types["zero_type"],
                  attr_perm=_int_list(text, "perm"), attr_segments=_int_list(text, "segments"),
                  attr_bytes=nbytes)


def unpack_codes(layout: Layout, payload: np.ndarray, check_padding: bool = True) -> np.ndarray:
    """Codes ``[M, P]`` in packed order from the flat ``[payload_words]`` payload (§3)."""
    words = np.asarray(payload).astype(np.int64).reshape(-1) & 0xFFFFFFFF
    M = layout.outputs
    if np.shape(payload) != (layout.payload_words,):
        raise FormatError(f"payload shape {np.shape(payload)}, layout implies "
                          f"{(layout.payload_words,)}")
    F, r = layout.full_words, layout.tail_bits
    w64 = words.astype(np.uint64)
    rows = np.arange(M, dtype=np.int64)

    def flat_bit(t: np.ndarray) -> np.ndarray:
        """[len(t), M] payload bit addresses of row stream bits t."""
        t = t[:, None]
        main = ((t // 32) * M + rows[None, :]) * 32 + t % 32
        tail = 32 * F * M + rows[None, :] * r + (t - 32 * F)
        return np.where(t < 32 * F, main, tail)

    codes = np.zeros((M, layout.nonzero), dtype=np.int64)
    for s in layout.segments:
        t0 = s.bit_offset + np.arange(s.count, dtype=np.int64) * s.bits  # first bit of each code
        vals = np.zeros((s.count, M), np.uint64)
        # Bit by bit: a code may cross a row-interleaved word or run from a row's last
        # full word into its tail, so its bits need not be adjacent in the payload.
        for k in range(s.bits):
            a = flat_bit(t0 + k)
            bit = (w64[a // 32] >> (a % 32).astype(np.uint64)) & np.uint64(1)
            vals |= bit << np.uint64(k)
        codes[:, s.start:s.start + s.count] = vals.T.astype(np.int64)
    used = (r * M) % 32
    if check_padding and used and words[-1] >> used:
        raise FormatError("non-zero padding bits after the last row's tail")
    return codes


def decode_scale_codes(codes: np.ndarray) -> np.ndarray:
    """8-bit scale codes (i8 storage read as unsigned) -> f32 scales, exactly (FORMAT.md §4)."""
    c = np.asarray(codes).astype(np.int64) & 0xFF
    s = np.ldexp((16 + (c & 15)).astype(np.float32), (c >> 4) - 16).astype(np.float32)
    return np.where(c == 0, np.float32(0), s).astype(np.float32)


def dequantize(layout: Layout, payload: np.ndarray, scales: np.ndarray,
               zeros: np.ndarray, check_padding: bool = True) -> np.ndarray:
    """Logical ``W [M, N]`` (float32): ``w = (q - zp) * step`` with ``step = s / (2^b - 1)``
    and ``zp = clamp(round_half_even(-z / step), 0, 2^b - 1)`` (0 unless ``step > 0``), in
    f32; 0-bit channels are 0 (FORMAT.md §4). ``scale_type = i8`` scales are codes ``c``
    with ``s = (16 + c % 16) * 2^(c // 16 - 16)`` (0 for ``c = 0``); ``zero_type = i8``
    zeros are codes ``zq`` with ``z = -((s * zq) / 255)``."""
    M, N, G = layout.outputs, layout.inputs, layout.num_groups
    if layout.scale_type == "i8":
        scales = decode_scale_codes(scales)
    scales = np.asarray(scales, np.float32).reshape(M, -1)
    if layout.zero_type == "i8":
        # 8-bit zero codes zq (i8 storage read as unsigned): z = -((s * zq) / 255) in f32.
        zq = (np.asarray(zeros).astype(np.int64) & 0xFF).astype(np.float32).reshape(M, -1)
        if zq.shape == scales.shape:
            with np.errstate(invalid="ignore", over="ignore"):
                zeros = -((scales * zq) / np.float32(255))
        else:
            zeros = zq
    zeros = np.asarray(zeros, np.float32).reshape(M, -1)
    if layout.nonzero and (scales.shape[1] != G or zeros.shape[1] != G):
        raise FormatError(f"scales {scales.shape} / zeros {zeros.shape}, layout implies {M}x{G}")
    # The grid's domain (FORMAT.md §4): finite values, scales not negative.
    for name, values, allow_negative in (("scales", scales, False), ("zeros", zeros, True)):
        bad = ~np.isfinite(values) if allow_negative else ~(np.isfinite(values) & (values >= 0))
        if np.any(bad):
            i, g = np.argwhere(bad)[0]
            raise FormatError(f"{name}[{i}, {g}] = {values[i, g]} is outside the grid's domain "
                              f"(finite{'' if allow_negative else ', non-negative'})")
    codes = unpack_codes(layout, payload, check_padding)
    perm = layout.perm
    P = layout.nonzero
    pos = np.arange(P)
    grp = pos // layout.group_size if layout.group_size else np.zeros(P, np.int64)
    b = layout.bits[perm[:P]]
    levels = (np.left_shift(1, b) - 1).astype(np.float32)
    step = scales[:, grp] / levels[None, :]  # f32
    # GPTQ's integer zero point per bitwidth, derived from the stored minimum.
    with np.errstate(divide="ignore", invalid="ignore"):
        zp = np.where(step > 0, np.clip(np.round(-zeros[:, grp] / step), 0, levels[None, :]), 0)
    vals = (codes.astype(np.float32) - zp.astype(np.float32)) * step
    W = np.zeros((M, N), dtype=np.float32)
    W[:, perm[:P]] = vals
    return W


# ----------------------------------------------------------------------------------------
# Reading modules
# ----------------------------------------------------------------------------------------


@dataclass
class LinearWeight:
    """A matmul weight read back from a module, as logical ``[M outputs, N inputs]``."""

    name: str
    weight: np.ndarray
    layout: Layout | None = None  # None: not quantized
    weight_type: str = "f32"

    @property
    def shape(self) -> tuple[int, int]:
        return self.weight.shape  # type: ignore[return-value]

    def bit_accounting(self) -> dict[str, float]:
        if self.layout is not None:
            return self.layout.bit_accounting()
        M, N = self.shape
        bits = ELEM_BITS.get(self.weight_type, 32) * M * N
        return {"payload": bits, "padding": 0, "scales": 0, "zeros": 0, "bit_table": 0,
                "permutation": 0, "total": bits, "weights": M * N}


def _operand(text: str, keyword: str) -> tuple[str, str]:
    """``keyword(<elements> : tensor<...>)`` -> (elements text, tensor type text)."""
    m = re.search(r"\b" + keyword + r"\s*\(", text)
    if not m:
        raise FormatError(f"packed_constant without {keyword}(...)")
    end = find_balanced(text, m.end() - 1, "(", ")")
    inner = text[m.end():end - 1]
    ti = inner.rfind(":")
    return inner[:ti].strip(), inner[ti + 1:].strip()


_CONST_RE = re.compile(r"arith\.constant\s+(dense_resource<[^>]*>|dense<)")


def _read_plain(name: str, body: str, resources: dict[str, bytes]) -> LinearWeight | None:
    """The 2-D float constant of an un-quantized matmul function."""
    for m in _CONST_RE.finditer(body):
        start = m.start(1)
        if m.group(1).startswith("dense_resource"):
            end = m.end(1)
        else:
            end = find_balanced(body, m.end(1) - 1)
        tm = re.match(r"\s*:\s*(tensor<[^>]*>)", body[end:])
        if not tm:
            continue
        shape, elem = parse_tensor_type(tm.group(1))
        if len(shape) != 2 or not elem.startswith(("f", "bf")):
            continue
        arr = parse_elements(body[start:end], shape, elem, resources).astype(np.float32)
        transposed = re.search(r"\(d0, d1, d2\) -> \(d1, d2\)", body) is not None
        W = arr if transposed else arr.T  # [M, N] logical
        return LinearWeight(name, np.ascontiguousarray(W), None, elem)
    return None


def _read_packed(name: str, body: str, start: int, resources: dict[str, bytes],
                 check_padding: bool) -> tuple[LinearWeight, str, int]:
    """The packed weight whose ``baq.packed_constant`` starts at ``body[start:]``: the weight,
    its payload's resource key (or elements text) and the end of the op's text."""
    j = body.find("#baq.layout<", start)
    if j < 0:
        raise FormatError(f"@{name}: baq.packed_constant without a #baq.layout")
    lend = find_balanced(body, j + len("#baq.layout"))
    layout = parse_layout(body[j:lend])
    rest = body[lend:]
    parts = {}
    end = lend
    for kw in ("payload", "scales", "zeros"):
        expr, ty = _operand(rest, kw)
        shape, elem = parse_tensor_type(ty)
        parts[kw] = (parse_elements(expr, shape, elem, resources), shape, elem, expr)
        end = max(end, lend + rest.find(expr) + len(expr))
    if layout.outputs < 0 and parts["scales"][1]:
        layout.outputs = parts["scales"][1][0]
    if layout.outputs <= 0 or layout.inputs <= 0:
        raise FormatError(f"@{name}: layout of {layout.outputs} x {layout.inputs} weights "
                          f"(outputs and inputs must be positive)")
    for kw in ("scales", "zeros"):
        n = parts[kw][0].size
        if n != layout.outputs * layout.num_groups:
            raise FormatError(f"@{name}: {kw} {'x'.join(map(str, parts[kw][1]))}: "
                              f"{n} values, the layout implies {layout.outputs} x "
                              f"{layout.num_groups}")
    if parts["scales"][2] != layout.scale_type or parts["zeros"][2] != layout.zero_type:
        raise FormatError(f"@{name}: scale/zero tensor types {parts['scales'][2]}/"
                          f"{parts['zeros'][2]} differ from the layout's")
    layout.check_attr()
    W = dequantize(layout, parts["payload"][0], parts["scales"][0], parts["zeros"][0],
                   check_padding)
    return LinearWeight(name, W, layout, "packed"), parts["payload"][3], end


_RESOURCE_KEY_RE = re.compile(r'dense_resource<\s*(?:"((?:[^"\\]|\\.)*)"|([^>\s]+))\s*>')


def _weight_name(payload_expr: str) -> str | None:
    """The weight's name from its payload blob key (``<name>_payload``, as --baq-allocate
    names it), or None for inline payloads."""
    m = _RESOURCE_KEY_RE.match(payload_expr.strip())
    if not m:
        return None
    key = m.group(1) if m.group(1) is not None else m.group(2)
    return key[:-len("_payload")] if key.endswith("_payload") else key


_CONTRACTION_RE = re.compile(r"\blinalg\.(matmul|batch_matmul|matvec|vecmat|generic)\b")


def read_function_weights(name: str, body: str, resources: dict[str, bytes],
                          check_padding: bool = True) -> list[tuple[str, LinearWeight]]:
    """Every packed weight of a function in text order, as (payload key or elements text,
    weight); the plain (unquantized) weight when there is none."""
    out = []
    i = body.find("baq.packed_constant")
    while i >= 0:
        lw, payload, end = _read_packed(name, body, i, resources, check_padding)
        out.append((payload, lw))
        i = body.find("baq.packed_constant", end)
    # A function without a contraction (a driver such as @main) has no weight, whatever
    # 2-D constants it holds.
    if not out and _CONTRACTION_RE.search(body):
        lw = _read_plain(name, body, resources)
        if lw is not None:
            out.append(("", lw))
    return out


def read_function(name: str, body: str, resources: dict[str, bytes],
                  check_padding: bool = True) -> LinearWeight | None:
    """The first matmul weight of a function (packed or plain); None if there is none."""
    weights = read_function_weights(name, body, resources, check_padding)
    return weights[0][1] if weights else None


def read_module(path: str | Path, check_padding: bool = True) -> dict[str, LinearWeight]:
    """All matmul weights of a text MLIR file (module order); see parse_module. A file the
    reader cannot take raises FormatError naming the file (and the function)."""
    text = read_text(path, "MLIR text")
    try:
        return parse_module(text, check_padding)
    except (FormatError, MlirError) as e:
        raise FormatError(f"{path}: {e}") from e


def parse_module(text: str, check_padding: bool = True) -> dict[str, LinearWeight]:
    """All matmul weights of module text, in module order. A function with one weight is
    keyed by the function's name (one function per layer, as baq.export writes); a function
    with several by ``function/weight`` (the weight's name from its payload blob
    ``<weight>_payload``, else its index). A packed weight read in several places (a shared
    weight, a global loaded by several functions) is listed once, where it first appears, so
    that bit accounting charges its storage once."""
    resources = parse_resources(text)
    ir, _ = split_resources(text)
    ir = resolve_aliases(ir)
    out: dict[str, LinearWeight] = {}
    seen: set[str] = set()
    for name, body in split_functions(ir).items():
        try:
            weights = read_function_weights(name, body, resources, check_padding)
        except (FormatError, MlirError) as e:
            msg = str(e)
            raise FormatError(msg if msg.startswith(f"@{name}:") else f"@{name}: {msg}") from e
        fresh = []
        for payload, lw in weights:
            if payload.startswith("dense_resource"):
                if payload in seen:
                    continue
                seen.add(payload)
            fresh.append((payload, lw))
        if len(fresh) == 1 and len(weights) == 1:
            out[name] = fresh[0][1]
            continue
        for k, (payload, lw) in enumerate(fresh):
            key = f"{name}/{_weight_name(payload) or k}"
            lw.name = key
            out[key] = lw
    return out


# ----------------------------------------------------------------------------------------
# Parameter files (FORMAT.md §8)
# ----------------------------------------------------------------------------------------

_PARAM_DTYPES = {"I32": np.int32, "F16": np.float16, "F32": np.float32, "U8": np.uint8,
                 "BF16": np.uint16}


def _param_array(data: np.ndarray, start: int, entry: dict, name: str) -> np.ndarray:
    dtype = _PARAM_DTYPES.get(entry.get("dtype"))
    if dtype is None:
        raise FormatError(f"tensor '{name}' has dtype {entry.get('dtype')}")
    begin, end = entry["data_offsets"]
    shape = tuple(entry["shape"])
    if (start + begin) % 64:
        raise FormatError(f"tensor '{name}' is not 64-byte aligned in the file")
    size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if end - begin != size or start + end > data.size:
        raise FormatError(f"tensor '{name}' holds {end - begin} bytes, its shape needs {size}")
    a = data[start + begin:start + end].view(dtype).reshape(shape)
    if entry["dtype"] == "BF16":  # bf16: the high half of an f32
        a = (a.astype(np.uint32) << 16).view(np.float32)
    return a


def read_parameters(path: str | Path, check_padding: bool = True) -> dict[str, LinearWeight]:
    """Every weight of a parameter file (``--baq-externalize-params``), dequantized with
    the layout stored in its metadata, by key; the file is memory-mapped."""
    import json
    import struct

    data = np.memmap(path, dtype=np.uint8, mode="r")
    if data.size < 8:
        raise FormatError(f"{path}: shorter than the 8-byte header size")
    (size,) = struct.unpack("<Q", data[:8].tobytes())
    if size > data.size - 8:
        raise FormatError(f"{path}: header size {size} past the end of the file")
    start = 8 + size
    header = json.loads(data[8:start].tobytes())
    meta = header.get("__metadata__", {})
    if meta.get("baq.format") != "1":
        raise FormatError(f"{path}: not a BAQ parameter file (no baq.format = 1)")
    weights = {}
    for name, text in meta.items():
        if not name.startswith("baq.layout."):
            continue
        key = name[len("baq.layout."):]
        spec = json.loads(text)
        layout = Layout(outputs=spec["outputs"], inputs=spec["inputs"],
                        bits=np.asarray(spec["bits"]), group_size=spec["group_size"],
                        channel_dim=spec["channel_dim"], scale_type=spec["scale_type"],
                        zero_type=spec["zero_type"])
        parts = {}
        for part, (dtype, shape) in {
                "payload": ("I32", [layout.payload_words]),
                "scales": ({"f16": "F16", "bf16": "BF16", "f32": "F32", "i8": "U8"}[
                    layout.scale_type],
                           [layout.outputs, layout.num_groups]),
                "zeros": ({"f16": "F16", "bf16": "BF16", "f32": "F32", "i8": "U8"}[
                    layout.zero_type], [layout.outputs, layout.num_groups])}.items():
            tensor = f"{key}.{part}"
            entry = header.get(tensor)
            if entry is None:
                raise FormatError(f"{path}: no tensor '{tensor}'")
            if entry["dtype"] != dtype or list(entry["shape"]) != shape:
                raise FormatError(f"{path}: tensor '{tensor}' is {entry['dtype']} "
                                  f"{entry['shape']}, the layout implies {dtype} {shape}")
            parts[part] = _param_array(data, start, entry, tensor)
        W = dequantize(layout, parts["payload"].view(np.uint32), parts["scales"],
                       parts["zeros"], check_padding)
        weights[key] = LinearWeight(key, W, layout)
    return weights


def total_bits(weights: dict[str, LinearWeight]) -> dict[str, float]:
    """Module-wide §6 accounting plus ``payload_bits_per_weight`` / ``total_bits_per_weight``."""
    keys = ("payload", "padding", "scales", "zeros", "bit_table", "permutation", "total",
            "weights")
    acc = {k: 0 for k in keys}
    for lw in weights.values():
        for k, v in lw.bit_accounting().items():
            acc[k] += v
    n = max(acc["weights"], 1)
    acc["payload_bits_per_weight"] = acc["payload"] / n
    acc["total_bits_per_weight"] = acc["total"] / n
    return acc


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="baq-packed", description="List the matmul weights the "
                        "independent reader finds in a text MLIR module (shape, quantized "
                        "or not, honest bits per FORMAT.md §6); every packed weight is "
                        "decoded and checked.")
    ap.add_argument("module", metavar="MODULE", help="text MLIR module")
    a = ap.parse_args(argv)
    weights = read_module(a.module)
    for name, w in weights.items():
        acc = w.bit_accounting()
        n = max(acc["weights"], 1)
        kind = "packed" if w.layout is not None else w.weight_type
        print(f"{name}: {w.shape[0]}x{w.shape[1]} {kind}, payload {acc['payload'] / n:.4f}, "
              f"total {acc['total'] / n:.4f} bits/weight")
    bits = total_bits(weights)
    print(f"total bits/weight: {bits['total_bits_per_weight']:.4f}  ({bits['weights']} weights)")
    return 0


def cli() -> int:
    return run("baq-packed", main)


if __name__ == "__main__":
    sys.exit(cli())
