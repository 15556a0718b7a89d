"""A tiny, deliberately naive packer written from docs/FORMAT.md for testing the reader.

It uses Python integers as bit streams and plain loops, sharing nothing with baq.packed.
"""

from __future__ import annotations

import numpy as np


def round_type(x: np.ndarray, t: str) -> np.ndarray:
    """Round f32 values to the storage type and back (what a reader will see)."""
    x = np.asarray(x, np.float32)
    if t == "f16":
        return x.astype(np.float16).astype(np.float32)
    if t == "bf16":
        u = x.view(np.uint32).astype(np.uint64)
        u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16  # round to nearest even
        return u.astype(np.uint32).view(np.float32)
    return x


def to_bytes(x: np.ndarray, t: str) -> bytes:
    x = np.asarray(x, np.float32)
    if t == "f16":
        return x.astype("<f2").tobytes()
    if t == "bf16":
        return (x.view(np.uint32) >> 16).astype("<u2").tobytes()
    return x.astype("<f4").tobytes()


def pack(W: np.ndarray, bits: list[int], group_size: int, stype: str = "f16",
         ztype: str = "f16") -> dict:
    """Quantize ``W [M, N]`` with per-column ``bits`` and pack it per FORMAT.md."""
    M, N = W.shape
    order = sorted(range(N), key=lambda j: (-bits[j], j))
    P = sum(1 for b in bits if b > 0)
    segs, off, p = [], 0, 0
    while p < P:
        b = bits[order[p]]
        q = p
        while q < P and bits[order[q]] == b:
            q += 1
        segs.append((b, p, q - p, off))
        off += (q - p) * b
        p = q
    # Row streams of L bits: F full words per row interleaved by row, then
    # every row's r = L % 32 remaining bits back to back.
    L = off
    F, r = L // 32, L % 32
    nwords = F * M + -(-(r * M) // 32)
    G = 1 if group_size == 0 else -(-P // group_size)
    scales = np.zeros((M, G), np.float32)
    zeros = np.zeros((M, G), np.float32)
    for g in range(G):
        cols = order[:P] if group_size == 0 else order[g * group_size:min(P, (g + 1) * group_size)]
        sub = W[:, cols] if cols else np.zeros((M, 1), np.float32)
        lo = np.minimum(sub.min(axis=1), 0.0)
        hi = np.maximum(sub.max(axis=1), 0.0)
        scales[:, g] = round_type(hi - lo, stype)
        zeros[:, g] = round_type(lo, ztype)
    codes = np.zeros((M, N), np.int64)
    W_hat = np.zeros((M, N), np.float32)
    for p in range(P):
        j = order[p]
        b = bits[j]
        g = 0 if group_size == 0 else p // group_size
        step = scales[:, g] / np.float32(2 ** b - 1)
        safe = np.where(step > 0, step, np.float32(1.0))
        zp = np.where(step > 0, np.clip(np.round(-zeros[:, g] / safe), 0, 2 ** b - 1), 0).astype(np.float32)
        q = np.clip(np.round(W[:, j] / safe) + zp, 0, 2 ** b - 1).astype(np.int64)
        q = np.where(step > 0, q, zp.astype(np.int64))
        codes[:, j] = q
        W_hat[:, j] = (q.astype(np.float32) - zp) * step
    payload = np.zeros(nwords, np.uint32)
    tail = 0  # all rows' tails as one integer
    for i in range(M):
        stream = 0
        for b, start, count, boff in segs:
            for k in range(count):
                stream |= int(codes[i, order[start + k]]) << (boff + k * b)
        for w in range(F):
            payload[w * M + i] = (stream >> (32 * w)) & 0xFFFFFFFF
        tail |= (stream >> (32 * F)) << (i * r)
    for w in range(nwords - F * M):
        payload[F * M + w] = (tail >> (32 * w)) & 0xFFFFFFFF
    return dict(order=order, segs=segs, nwords=nwords, G=G, scales=scales, zeros=zeros,
                codes=codes, W_hat=W_hat, payload=payload, stype=stype, ztype=ztype,
                bits=list(bits), group_size=group_size, M=M, N=N)


def hexblob(raw: bytes) -> str:
    return "0x04000000" + raw.hex().upper()


def packed_function(name: str, pk: dict, channel_dim: int = 1, array_syntax: bool = False,
                    perm_override: list[int] | None = None) -> tuple[str, dict[str, str]]:
    """(function text, resources) in the FORMAT.md §7 shape."""
    M, N, G, nwords = pk["M"], pk["N"], pk["G"], pk["nwords"]
    st, zt = pk["stype"], pk["ztype"]
    bits = ", ".join(map(str, pk["bits"]))
    bits_attr = f"array<i8: {bits}>" if array_syntax else f"[{bits}]"
    perm = perm_override if perm_override is not None else pk["order"]
    seg = ", ".join(str(v) for s in pk["segs"] for v in s)
    sb = {"f16": 2, "bf16": 2, "f32": 4}
    layout = (f"#baq.layout<outputs = {M}, inputs = {N}, channel_dim = {channel_dim}, "
              f"bits = {bits_attr}, perm = [{', '.join(map(str, perm))}], segments = [{seg}], "
              f"group_size = {pk['group_size']}, scale_type = {st}, zero_type = {zt}, "
              f"payload_bytes = {4 * nwords}, scale_bytes = {sb[st] * M * G}, "
              f"zero_bytes = {sb[zt] * M * G}>")
    wshape = f"{M}x{N}" if channel_dim == 1 else f"{N}x{M}"
    maps = ("indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> "
            "(d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] " if channel_dim == 1 else "")
    text = f"""  func.func @{name}(%x: tensor<1x{N}xf32>) -> tensor<1x{M}xf32> {{
    %p, %s, %z = baq.packed_constant {layout}
        payload(dense_resource<{name}_payload> : tensor<{nwords}xi32>)
        scales(dense_resource<{name}_scales> : tensor<{M}x{G}x{st}>)
        zeros(dense_resource<{name}_zeros> : tensor<{M}x{G}x{zt}>)
    %w = baq.dequantize %p, %s, %z {layout} : tensor<{nwords}xi32>, tensor<{M}x{G}x{st}>, tensor<{M}x{G}x{zt}> -> tensor<{wshape}xf32>
    %cst = arith.constant 0.000000e+00 : f32
    %e = tensor.empty() : tensor<1x{M}xf32>
    %acc = linalg.fill ins(%cst : f32) outs(%e : tensor<1x{M}xf32>) -> tensor<1x{M}xf32>
    %y = linalg.matmul {maps}{{baq.bits = #baq.bits<[{bits}]>}} ins(%x, %w : tensor<1x{N}xf32>, tensor<{wshape}xf32>) outs(%acc : tensor<1x{M}xf32>) -> tensor<1x{M}xf32>
    return %y : tensor<1x{M}xf32>
  }}
"""
    res = {f"{name}_payload": hexblob(pk["payload"].astype("<u4").tobytes()),
           f"{name}_scales": hexblob(to_bytes(pk["scales"], st)),
           f"{name}_zeros": hexblob(to_bytes(pk["zeros"], zt))}
    return text, res


def module(funcs: list[tuple[str, dict[str, str]]]) -> str:
    body = "module {\n" + "".join(f for f, _ in funcs) + "}\n"
    res = {k: v for _, r in funcs for k, v in r.items()}
    entries = ",\n".join(f'      {k}: "{v}"' for k, v in res.items())
    return body + "\n{-#\n  dialect_resources: {\n    builtin: {\n" + entries + "\n    }\n  }\n#-}\n"
