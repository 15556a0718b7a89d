"""Minimal text-MLIR helpers: write linear-layer modules with ``dense_resource`` blobs, and
read back what ``mlir-opt`` / ``baq-opt`` print (functions, attribute aliases, resource blobs,
tensor literals).

There are no MLIR Python bindings on the build machines, so this is deliberately a small,
tolerant text parser that knows only the constructs our pipeline produces.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .cli import BaqError


class MlirError(BaqError, ValueError):
    """Module text this reader cannot take: a malformed blob, a missing resource, a type or
    attribute it does not know. The message names the blob, type or offset."""


# The most elements one tensor may declare (as baq-opt: 2^31); more is refused before any
# allocation, so a huge declared shape over a tiny blob or splat cannot exhaust memory.
MAX_ELEMENTS = 1 << 31

# ----------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------

TRANSPOSED_B_MAPS = ("[affine_map<(d0, d1, d2) -> (d0, d2)>, "
                     "affine_map<(d0, d1, d2) -> (d1, d2)>, "
                     "affine_map<(d0, d1, d2) -> (d0, d1)>]")


def blob_hex(data: np.ndarray | bytes, alignment: int = 4) -> str:
    """``"0x<alignment as LE uint32><data>"``: the builtin dialect's resource blob encoding."""
    raw = data if isinstance(data, bytes) else np.ascontiguousarray(data).tobytes()
    return "0x" + alignment.to_bytes(4, "little").hex().upper() + raw.hex().upper()


def tensor_type(shape: Iterable[int], elem: str) -> str:
    return "tensor<" + "x".join(str(int(d)) for d in shape) + "x" + elem + ">"


@dataclass
class ModuleWriter:
    """Collects functions and resource blobs and prints one text module."""

    funcs: list[str] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)

    def add_resource(self, key: str, array: np.ndarray) -> None:
        if not re.fullmatch(r"[A-Za-z_][\w.$-]*", key):
            raise ValueError(f"resource key {key!r} is not a bare MLIR identifier")
        self.resources[key] = blob_hex(np.ascontiguousarray(array, dtype="<f4"))

    def add_linear(self, name: str, weight: np.ndarray, hessian_key: str | None,
                   hessian: np.ndarray | None = None,
                   target_bits: float | None = None) -> None:
        """``y[1, M] = x[1, N] @ W[M, N]^T`` with the weight as ``dense_resource<name>``.

        ``hessian`` (N x N) is stored under ``hessian_key`` unless that blob already exists
        (q/k/v and w1/w3 share one); ``hessian_key`` None writes no ``baq.hessian``.
        ``target_bits`` writes ``baq.target_bits``, this matmul's own ``--baq-allocate`` target.
        """
        M, N = weight.shape
        self.add_resource(name, weight.astype(np.float32))
        attr = ""
        if hessian_key is not None:
            if hessian_key not in self.resources:
                if hessian is None:
                    raise ValueError(f"{name}: Hessian blob {hessian_key} not given")
                if hessian.shape != (N, N):
                    raise ValueError(f"{name}: Hessian {hessian.shape} for {N} inputs")
                self.add_resource(hessian_key, hessian.astype(np.float32))
            attr = (f"baq.hessian = dense_resource<{hessian_key}> : "
                    f"{tensor_type((N, N), 'f32')}")
        if target_bits is not None:
            attr += (", " if attr else "") + f"baq.target_bits = {float(target_bits)!r} : f64"
        if attr:
            attr = f" {{{attr}}}"
        tx, ty, tw = tensor_type((1, N), "f32"), tensor_type((1, M), "f32"), \
            tensor_type((M, N), "f32")
        self.funcs.append(
            f"  func.func @{name}(%x: {tx}) -> {ty} {{\n"
            f"    %w = arith.constant dense_resource<{name}> : {tw}\n"
            f"    %zero = arith.constant 0.000000e+00 : f32\n"
            f"    %init = tensor.empty() : {ty}\n"
            f"    %acc = linalg.fill ins(%zero : f32) outs(%init : {ty}) -> {ty}\n"
            f"    %y = linalg.matmul indexing_maps = {TRANSPOSED_B_MAPS}{attr}\n"
            f"        ins(%x, %w : {tx}, {tw}) outs(%acc : {ty}) -> {ty}\n"
            f"    func.return %y : {ty}\n"
            f"  }}\n")

    def text(self) -> str:
        body = "module {\n" + "".join(self.funcs) + "}\n"
        if self.resources:
            entries = ",\n".join(f"      {k}: \"{v}\"" for k, v in self.resources.items())
            body += ("\n{-#\n  dialect_resources: {\n    builtin: {\n" + entries +
                     "\n    }\n  }\n#-}\n")
        return body


# ----------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------

_RES_RE = re.compile(r'(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_][\w.$-]*))\s*:\s*"(0x[^"]*)"')
_HEX_RE = re.compile(r"[0-9A-Fa-f]*")


def split_resources(text: str) -> tuple[str, str]:
    """(IR part, ``{-# ... #-}`` part) of a module text."""
    i = text.find("{-#")
    return (text, "") if i < 0 else (text[:i], text[i:])


def parse_resources(text: str) -> dict[str, bytes]:
    """Resource blobs by key, alignment prefix stripped (the data bytes only)."""
    _, res = split_resources(text)
    out: dict[str, bytes] = {}
    for m in _RES_RE.finditer(res):
        key = m.group(1) if m.group(1) is not None else m.group(2)
        digits = m.group(3)[2:]
        if not _HEX_RE.fullmatch(digits):
            bad = next(i for i, c in enumerate(digits) if c not in "0123456789abcdefABCDEF")
            raise MlirError(f"resource blob {key!r}: {digits[bad]!r} at hex digit {bad} is not "
                            f"a hex digit")
        if len(digits) % 2:
            raise MlirError(f"resource blob {key!r}: odd number of hex digits ({len(digits)})")
        if len(digits) < 8:
            raise MlirError(f"resource blob {key!r}: {len(digits) // 2} bytes, shorter than "
                            f"its 4-byte alignment prefix")
        out[key] = bytes.fromhex(digits)[4:]
    return out


_ALIAS_DEF_RE = re.compile(r"^#([A-Za-z_][\w.$-]*)\s*=\s*", re.M)


def resolve_aliases(ir: str) -> str:
    """Inline top-level attribute aliases (``#map = affine_map<...>``, ``#layout = ...``).

    A definition runs from ``#name =`` to the next line that starts a new top-level item, so
    multi-line definitions are handled.
    """
    defs: dict[str, str] = {}
    starts = list(_ALIAS_DEF_RE.finditer(ir))
    if not starts:
        return ir
    stop_re = re.compile(r"^(?:#[A-Za-z_][\w.$-]*\s*=|!|module\b|func\.func\b|\{-#|//|\"?builtin"
                         r"\.module)", re.M)
    cut_ranges = []
    for m in starts:
        nxt = stop_re.search(ir, m.end())
        end = nxt.start() if nxt else len(ir)
        defs[m.group(1)] = " ".join(ir[m.end():end].split())
        cut_ranges.append((m.start(), end))
    kept, pos = [], 0
    for a, b in cut_ranges:
        kept.append(ir[pos:a])
        pos = b
    kept.append(ir[pos:])
    body = "".join(kept)
    # Aliases may refer to earlier aliases; resolve inside definitions first.
    names = sorted(defs, key=len, reverse=True)
    pat = re.compile(r"#(" + "|".join(re.escape(n) for n in names) + r")(?![\w.$-])")
    for _ in range(4):
        defs = {k: pat.sub(lambda mm: defs[mm.group(1)], v) for k, v in defs.items()}
    return pat.sub(lambda mm: defs[mm.group(1)], body)


_FUNC_RE = re.compile(r"func\.func\s+(?:(?:private|public|nested)\s+)?@(\"[^\"]*\"|[\w.$-]+)")


def split_functions(ir: str) -> dict[str, str]:
    """Function name -> its text (from ``func.func`` to the next function)."""
    ms = list(_FUNC_RE.finditer(ir))
    out: dict[str, str] = {}
    for i, m in enumerate(ms):
        end = ms[i + 1].start() if i + 1 < len(ms) else len(ir)
        out[m.group(1).strip('"')] = ir[m.start():end]
    return out


def find_balanced(text: str, start: int, open_ch: str = "<", close_ch: str = ">") -> int:
    """Index one past the bracket closing the one at ``text[start]`` (``->`` is not a close)."""
    if text[start] != open_ch:
        raise MlirError(f"expected {open_ch!r} at offset {start}")
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == '"':
            j = text.find('"', i + 1)
            while j > 0 and text[j - 1] == "\\":
                j = text.find('"', j + 1)
            if j < 0:
                raise MlirError(f"unterminated string at offset {i}")
            i = j
        elif c == open_ch:
            depth += 1
        elif c == close_ch and not (close_ch == ">" and i > 0 and text[i - 1] == "-"):
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise MlirError(f"unbalanced {open_ch}{close_ch} at offset {start}")


_TENSOR_RE = re.compile(r"tensor<((?:\d+x)*)([a-z]+\d*)>")


def parse_tensor_type(t: str) -> tuple[tuple[int, ...], str]:
    m = _TENSOR_RE.fullmatch(t.strip())
    if not m:
        raise MlirError(f"not a static ranked tensor type: {t.strip()[:60]!r}")
    dims = tuple(int(d) for d in m.group(1).split("x") if d)
    if math.prod(dims) > MAX_ELEMENTS:
        raise MlirError(f"{t.strip()}: more than 2^31 elements")
    return dims, m.group(2)


_ELEM_DTYPES = {"f32": "<f4", "f16": "<f2", "f64": "<f8", "i32": "<i4", "i64": "<i8",
                "i16": "<i2", "i8": "i1", "ui8": "u1", "bf16": "<u2", "i1": "u1"}

ELEM_BITS = {"f32": 32, "f16": 16, "bf16": 16, "f64": 64, "i32": 32, "i64": 64, "i16": 16,
             "i8": 8, "ui8": 8}


def decode_buffer(raw: bytes, shape: tuple[int, ...], elem: str) -> np.ndarray:
    """Little-endian buffer -> array; float types (bf16 included) come back as float32."""
    if elem not in _ELEM_DTYPES:
        raise MlirError(f"unsupported element type {elem}")
    dt = np.dtype(_ELEM_DTYPES[elem])
    n = math.prod(shape)
    if n > MAX_ELEMENTS:
        raise MlirError(f"{'x'.join(map(str, shape))}x{elem}: more than 2^31 elements")
    if len(raw) != n * dt.itemsize:
        if len(raw) == dt.itemsize:  # splat
            raw = raw * n
        else:
            raise MlirError(f"{len(raw)} bytes of data, "
                            f"{'x'.join(map(str, shape))}x{elem} needs {n * dt.itemsize}")
    a = np.frombuffer(raw, dtype=dt).reshape(shape)
    if elem == "bf16":
        return (a.astype(np.uint32) << 16).view(np.float32)
    if elem in ("f16", "f64"):
        return a.astype(np.float32)
    return a.copy()


_NUM_RE = re.compile(r"0x[0-9A-Fa-f]+|[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan)|true|false")


def parse_elements(expr: str, shape: tuple[int, ...], elem: str,
                   resources: dict[str, bytes]) -> np.ndarray:
    """Value of ``dense_resource<KEY>`` or ``dense<...>`` (splat, hex string or nested list)."""
    expr = expr.strip()
    # Keys that are not bare identifiers are printed quoted (with escapes).
    m = re.match(r'dense_resource<\s*(?:"((?:[^"\\]|\\.)*)"|([^>\s]+))\s*>', expr)
    if m:
        key = m.group(1) if m.group(1) is not None else m.group(2)
        if key not in resources:
            raise MlirError(f"resource blob {key!r} not found in the module")
        try:
            return decode_buffer(resources[key], shape, elem)
        except MlirError as e:
            raise MlirError(f"resource blob {key!r}: {e}") from None
    m = re.match(r"dense<(.*)>\s*$", expr, re.S)
    if not m:
        raise MlirError(f"unsupported elements attribute: {expr[:60]!r}")
    inner = m.group(1).strip()
    if inner.startswith('"0x'):
        digits = inner.strip('"')[2:]
        if not _HEX_RE.fullmatch(digits) or len(digits) % 2:
            raise MlirError(f"dense hex literal {inner[:40]!r}...: not an even number of hex "
                            f"digits")
        return decode_buffer(bytes.fromhex(digits), shape, elem)
    vals = []
    for tok in _NUM_RE.findall(inner):
        if tok.startswith("0x"):  # hex float bit pattern (NaN/inf payloads)
            bits = int(tok, 16)
            vals.append(decode_buffer(bits.to_bytes(ELEM_BITS.get(elem, 32) // 8, "little"),
                                      (), elem).item())
        elif tok in ("true", "false"):
            vals.append(1.0 if tok == "true" else 0.0)
        else:
            vals.append(float(tok))
    n = math.prod(shape)
    if n > MAX_ELEMENTS:
        raise MlirError(f"dense literal of shape {shape}: more than 2^31 elements")
    if len(vals) == 1:
        vals = vals * n
    if len(vals) != n:
        raise MlirError(f"dense literal has {len(vals)} values for shape {shape}")
    dt = np.float32 if elem.startswith(("f", "bf")) else np.int64
    arr = np.asarray(vals, dtype=np.float64).reshape(shape)
    if elem == "f16":
        arr = arr.astype(np.float16)
    return arr.astype(dt)
