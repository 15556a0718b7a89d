"""baq-export-model: a whole llama2.c model as ONE MLIR module on tensors, for baq-run.

The module holds the full forward pass in upstream dialects (linalg, tensor, arith, math,
memref globals for the weights):

* ``@forward(%tokens: tensor<1xi32>, %pos: index, %kcache, %vcache)`` -> ``(logits
  tensor<1xVxf32>, kcache', vcache')``: one decode step at position ``pos``;
* ``@prefill`` (same signature with ``tensor<Pxi32>`` tokens, ``tensor<PxVxf32>`` logits): P
  tokens at positions ``pos .. pos+P-1`` with causal attention.

The caches are ``tensor<n_layers x seq_len x kv_dim x f32>``; a call writes the new keys and
values at ``pos`` and attends over positions ``<= pos + t`` (later positions are masked, so
stale cache rows never matter). Every linear layer is a transposed-B ``linalg.matmul`` on a
constant ``memref.global`` weight ``[out, in]`` (read by ``get_global`` +
``bufferization.to_tensor``, one of the forms ``--baq-allocate`` accepts), shared by both
functions so it is quantized once, carrying the same ``baq.hessian`` blobs as
``baq.export`` (or none with ``--hessians-file``, for ``--baq-attach-hessians``). The
classifier is a projection too: with calibration it reads its own global ``classifier`` (a
separate classifier, or a copy of a tied embedding matrix, the embedding gather keeping the
FP32 table) with the Hessian of its input, the final RMSNorm's output
(``classifier_hessian``), so ``--baq-allocate`` quantizes it; ``--fp32-head`` or
``--no-hessian`` leave it FP32 (a tied one then reads ``token_embedding``). RoPE cos/sin
are a float32 table computed exactly as :class:`baq.llama2c.Transformer` does, so the
compiled module reproduces the numpy forward pass up to summation order.

The checkpoint is a llama2.c ``.bin`` (shared or separate classifier) or a Hugging Face
Llama directory (:mod:`baq.hf`), memory-mapped; the module is written tensor by tensor and
the Hessians are computed block by block while it is written, so memory does not grow with
the module (docs/PERFORMANCE.md, "Export memory").
"""

from __future__ import annotations

import binascii
import io
import sys
import time
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Mapping

import numpy as np

from .calibrate import SafetensorsWriter
from .cli import ArgumentParser, run
from .export import (HEAD_HESSIAN, SYNTHETIC_CONFIG, calibration_stream, calibration_windows,
                     check_window_options, hessian_key, layer_hessians, synthetic_tokenizer)
from .llama2c import (CLASSIFIER, LINEAR_KINDS, Checkpoint, Tokenizer, parse_linear_name,
                      random_checkpoint, read_checkpoint, rope_table)
from .mlir import TRANSPOSED_B_MAPS

NEG_INF = "0xFF800000"


def rope_tables(ckpt: Checkpoint) -> tuple[np.ndarray, np.ndarray]:
    """``cos``/``sin`` ``[seq_len, dim/2]`` exactly as the numpy forward pass computes them."""
    return rope_table(ckpt.config, ckpt.config.seq_len)


def _tag(line: str, attr: str) -> str:
    """``line`` (the first line of a top-level op) with the discardable attribute ``attr``
    in the place the op's custom syntax keeps its attribute dictionary."""
    op = line.split(" = ", 1)[1] if line.startswith("%") else line
    name = op.split(" ", 1)[0]
    if name == "linalg.generic":
        return line.replace("linalg.generic {", "linalg.generic {" + attr + ", ", 1)
    if name in ("linalg.fill", "arith.constant"):
        return line.replace(name + " ", name + " {" + attr + "} ", 1)
    if name == "linalg.matmul":  # the Hessian's dictionary, if any, ends the line
        return line[:-1] + ", " + attr + "}" if line.endswith("}") else line + " {" + attr + "}"
    if name == "memref.get_global":
        return line + " {" + attr + "}"
    i = line.index(" : ")
    return line[:i] + " {" + attr + "}" + line[i:]


class _Body:
    """SSA-name allocator and line collector for one function. While ``block`` is set,
    every top-level op carries ``baq.block = block`` (what --baq-share-blocks outlines)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.n = 0
        self.block: int | None = None

    def fresh(self, stem: str) -> str:
        self.n += 1
        return f"%{stem}{self.n}"

    def emit(self, line: str) -> None:
        # Region bodies, region ends and continuation lines start with a space, ^ or }.
        if self.block is not None and line[0] not in " ^}":
            line = _tag(line, f"baq.block = {self.block}")
        self.lines.append("    " + line)


def _t(*dims: int, elem: str = "f32") -> str:
    return "tensor<" + "x".join(str(d) for d in dims) + f"x{elem}>"


def _m(*dims: int) -> str:
    return "memref<" + "x".join(str(d) for d in dims) + "xf32>"


def _maps(*maps: str) -> str:
    return "[" + ", ".join(f"affine_map<{m}>" for m in maps) + "]"


class ModelWriter:
    """Writes the module for one checkpoint (see the module docstring) to a binary file,
    tensor by tensor: the IR (globals, functions) is small and built first; the weight and
    Hessian blobs are then hex-encoded in chunks straight from the (memory-mapped)
    checkpoint and from ``hessians``, so memory holds one tensor's chunk, not the module.

    ``hessians``: None (no ``baq.hessian``), a mapping by blob key, or an iterator of
    ``(l, {key: H})`` per block in order and ``(n_layers, {"classifier_hessian": H})``
    (:func:`baq.export.layer_hessians`), consumed while the blobs are written.
    ``head_hessian``: the classifier carries ``baq.hessian`` (it then reads its own global
    ``classifier``, as it always does for a separate classifier; a tied classifier
    otherwise reads ``token_embedding``)."""

    def __init__(self, ckpt: Checkpoint, hessians: Mapping[str, np.ndarray] | Iterator | None,
                 prefill: int, head_hessian: bool = False) -> None:
        self.ckpt = ckpt
        self.cfg = ckpt.config
        self.hessians = hessians
        self.prefill = prefill
        self.head_hessian = head_hessian and hessians is not None
        self.head_global = ("classifier" if head_hessian or not self.cfg.shared_classifier
                            else "token_embedding")
        self.globals: list[str] = []
        # resource key -> (shape, block it is written with (-1: before the blocks, n_layers:
        # with the head), getter; None for a Hessian, which comes from ``hessians``)
        self.blobs: dict[str, tuple[tuple[int, ...], int, Callable[[], np.ndarray] | None]] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}

    # -- storage ------------------------------------------------------------------------

    def _global(self, name: str, shape: tuple[int, ...], layer: int,
                get: Callable[[], np.ndarray]) -> None:
        self.blobs[name] = (tuple(shape), layer, get)
        self.shapes[name] = tuple(shape)
        self.globals.append(f'  memref.global "private" constant @{name} : {_m(*shape)} '
                            f"= dense_resource<{name}>")

    def _load(self, b: _Body, name: str) -> str:
        shape = self.shapes[name]
        m, v = b.fresh("m"), b.fresh(name.replace(".", "_") + "_")
        b.emit(f"{m} = memref.get_global @{name} : {_m(*shape)}")
        b.emit(f"{v} = bufferization.to_tensor {m} restrict : {_m(*shape)} to {_t(*shape)}")
        return v

    def _hessian_attr(self, name: str, n_in: int) -> str:
        if self.hessians is None:
            return ""
        key = hessian_key(name)
        if key not in self.blobs:
            layer = self.cfg.n_layers if name == CLASSIFIER else parse_linear_name(name)[0]
            self.blobs[key] = ((n_in, n_in), layer, None)
        return f" {{baq.hessian = dense_resource<{key}> : {_t(n_in, n_in)}}}"

    # -- ops ----------------------------------------------------------------------------

    def _zeros(self, b: _Body, *dims: int, value: str = "%zero") -> str:
        e, f = b.fresh("e"), b.fresh("z")
        b.emit(f"{e} = tensor.empty() : {_t(*dims)}")
        b.emit(f"{f} = linalg.fill ins({value} : f32) outs({e} : {_t(*dims)}) -> {_t(*dims)}")
        return f

    def _linear(self, b: _Body, weight: str, x: str, T: int, n_in: int, n_out: int,
                hessian: str = "") -> str:
        w = self._load(b, weight)
        acc = self._zeros(b, T, n_out)
        y = b.fresh("y")
        b.emit(f"{y} = linalg.matmul indexing_maps = {TRANSPOSED_B_MAPS}{hessian}")
        b.emit(f"    ins({x}, {w} : {_t(T, n_in)}, {_t(n_out, n_in)}) "
               f"outs({acc} : {_t(T, n_out)}) -> {_t(T, n_out)}")
        return y

    def _rmsnorm(self, b: _Body, x: str, weight: str, T: int) -> str:
        d = self.cfg.dim
        w = self._load(b, weight)
        acc = b.fresh("acc")
        b.emit(f"{acc}e = tensor.empty() : {_t(T)}")
        b.emit(f"{acc}z = linalg.fill ins(%zero : f32) outs({acc}e : {_t(T)}) -> {_t(T)}")
        b.emit(f"{acc} = linalg.generic {{indexing_maps = "
               f"{_maps('(t, d) -> (t, d)', '(t, d) -> (t)')}, iterator_types = "
               f'["parallel", "reduction"]}} ins({x} : {_t(T, d)}) outs({acc}z : {_t(T)}) {{')
        b.emit("^bb0(%a: f32, %s: f32):")
        b.emit("  %sq = arith.mulf %a, %a : f32")
        b.emit("  %r = arith.addf %s, %sq : f32")
        b.emit("  linalg.yield %r : f32")
        b.emit(f"}} -> {_t(T)}")
        y, e = b.fresh("n"), b.fresh("e")
        b.emit(f"{e} = tensor.empty() : {_t(T, d)}")
        b.emit(f"{y} = linalg.generic {{indexing_maps = "
               f"{_maps('(t, d) -> (t, d)', '(t, d) -> (t)', '(t, d) -> (d)', '(t, d) -> (t, d)')}"
               f', iterator_types = ["parallel", "parallel"]}} ins({x}, {acc}, {w} : '
               f"{_t(T, d)}, {_t(T)}, {_t(d)}) outs({e} : {_t(T, d)}) {{")
        b.emit("^bb0(%a: f32, %s: f32, %g: f32, %o: f32):")
        b.emit("  %ms = arith.divf %s, %dimf : f32")
        b.emit("  %ss = arith.addf %ms, %eps : f32")
        b.emit("  %sq = math.sqrt %ss : f32")
        b.emit("  %inv = arith.divf %one, %sq : f32")
        b.emit("  %xn = arith.mulf %a, %inv : f32")
        b.emit("  %r = arith.mulf %g, %xn : f32")
        b.emit("  linalg.yield %r : f32")
        b.emit(f"}} -> {_t(T, d)}")
        return y

    def _binary(self, b: _Body, op: str, x: str, y: str, T: int, n: int) -> str:
        """Elementwise ``x op y`` on ``[T, n]``; ``op`` is 'add' or 'swiglu' (x=h1, y=h3)."""
        e, r = b.fresh("e"), b.fresh("r")
        b.emit(f"{e} = tensor.empty() : {_t(T, n)}")
        b.emit(f"{r} = linalg.generic {{indexing_maps = "
               f"{_maps('(t, d) -> (t, d)', '(t, d) -> (t, d)', '(t, d) -> (t, d)')}, "
               f'iterator_types = ["parallel", "parallel"]}} ins({x}, {y} : {_t(T, n)}, '
               f"{_t(T, n)}) outs({e} : {_t(T, n)}) {{")
        b.emit("^bb0(%a: f32, %c: f32, %o: f32):")
        if op == "add":
            b.emit("  %r = arith.addf %a, %c : f32")
        else:  # h1 * (1 / (1 + exp(-h1))) * h3, in the numpy reference's order
            b.emit("  %na = arith.negf %a : f32")
            b.emit("  %ex = math.exp %na : f32")
            b.emit("  %den = arith.addf %one, %ex : f32")
            b.emit("  %sig = arith.divf %one, %den : f32")
            b.emit("  %hs = arith.mulf %a, %sig : f32")
            b.emit("  %r = arith.mulf %hs, %c : f32")
        b.emit("  linalg.yield %r : f32")
        b.emit(f"}} -> {_t(T, n)}")
        return r

    def _rope(self, b: _Body, v: str, T: int, n: int, cos: str, sin: str) -> str:
        """Rotate pairs (2i, 2i+1) of ``v [T, n]`` by the table rows ``pos .. pos+T-1``."""
        half, S, d2 = n // 2, self.cfg.seq_len, self.cfg.dim // 2
        v3, c, s, e, r, r2 = (b.fresh(x) for x in ("v", "c", "s", "e", "rot", "rc"))
        b.emit(f"{v3} = tensor.expand_shape {v} [[0], [1, 2]] output_shape [{T}, {half}, 2] : "
               f"{_t(T, n)} into {_t(T, half, 2)}")
        for out, tab in ((c, cos), (s, sin)):
            b.emit(f"{out} = tensor.extract_slice {tab}[%pos, 0] [{T}, {half}] [1, 1] : "
                   f"{_t(S, d2)} to {_t(T, half)}")
        b.emit(f"{e} = tensor.empty() : {_t(T, half, 2)}")
        maps = _maps("(t, i, j) -> (t, i, 0)", "(t, i, j) -> (t, i, 1)", "(t, i, j) -> (t, i)",
                     "(t, i, j) -> (t, i)", "(t, i, j) -> (t, i, j)")
        b.emit(f"{r} = linalg.generic {{indexing_maps = {maps}, iterator_types = "
               f'["parallel", "parallel", "parallel"]}} ins({v3}, {v3}, {c}, {s} : '
               f"{_t(T, half, 2)}, {_t(T, half, 2)}, {_t(T, half)}, {_t(T, half)}) "
               f"outs({e} : {_t(T, half, 2)}) {{")
        b.emit("^bb0(%v0: f32, %v1: f32, %co: f32, %si: f32, %o: f32):")
        b.emit("  %j = linalg.index 2 : index")
        b.emit("  %first = arith.cmpi eq, %j, %c0 : index")
        b.emit("  %a = arith.mulf %v0, %co : f32")
        b.emit("  %bb = arith.mulf %v1, %si : f32")
        b.emit("  %r0 = arith.subf %a, %bb : f32")
        b.emit("  %p = arith.mulf %v0, %si : f32")
        b.emit("  %q = arith.mulf %v1, %co : f32")
        b.emit("  %r1 = arith.addf %p, %q : f32")
        b.emit("  %r = arith.select %first, %r0, %r1 : f32")
        b.emit("  linalg.yield %r : f32")
        b.emit(f"}} -> {_t(T, half, 2)}")
        b.emit(f"{r2} = tensor.collapse_shape {r} [[0], [1, 2]] : {_t(T, half, 2)} into "
               f"{_t(T, n)}")
        return r2

    def _attention(self, b: _Body, q: str, kc: str, vc: str, l: str, T: int) -> str:
        """Grouped-query causal attention of ``q [T, dim]`` over layer ``l`` (an SSA index)
        of the caches.

        Only the ``n = pos + T`` cache rows a call can see are read (dynamic-size slices), so
        a token costs O(pos), not O(seq_len); within a prefill block, row ``s`` is masked for
        query ``t`` when ``s > pos + t``. Every output element is summed in the same order as
        before (``e`` ascending for a score, ``s`` ascending for an output; the masked terms
        the static-shape version added were exact zeros), so the logits are unchanged. Both
        contractions put a parallel axis innermost so that LLVM vectorises them without
        reassociating a sum: ``s`` for the scores (k gathered with a stride of kv_dim), ``e``
        for the output (unit stride)."""
        c = self.cfg
        S, kv, KV, hs = c.seq_len, c.kv_dim, c.n_kv_heads, c.head_size
        M = c.n_heads // KV
        L = c.n_layers
        q4, kl, vl, k3, v3, n = (b.fresh(x) for x in ("q", "kl", "vl", "k", "vv", "n"))
        dyn = "?"
        b.emit(f"{q4} = tensor.expand_shape {q} [[0], [1, 2, 3]] output_shape [{T}, {KV}, {M}, "
               f"{hs}] : {_t(T, c.dim)} into {_t(T, KV, M, hs)}")
        b.emit(f"{n} = arith.addi %pos, %c{T} : index")
        for out, out3, cache in ((kl, k3, kc), (vl, v3, vc)):
            b.emit(f"{out} = tensor.extract_slice {cache}[{l}, 0, 0] [1, {n}, {kv}] [1, 1, 1] : "
                   f"{_t(L, S, kv)} to tensor<?x{kv}xf32>")
            b.emit(f"{out3} = tensor.expand_shape {out} [[0], [1, 2]] output_shape [{n}, {KV}, "
                   f"{hs}] : tensor<?x{kv}xf32> into tensor<?x{KV}x{hs}xf32>")
        sT = f"tensor<{T}x{KV}x{M}x?xf32>"
        # scores[t, g, m, s] = sum_e (q * scale)[t, g, m, e] * k[s, g, e], e ascending; the
        # loop over s is innermost, so 16 scores are accumulated at once (k read with a
        # stride of kv_dim: gathers), each in the order of a scalar dot product.
        sc = self._zeros_dyn(b, sT, n)
        att = b.fresh("att")
        b.emit(f"{att} = linalg.generic {{indexing_maps = "
               f"{_maps('(t, g, m, e, s) -> (t, g, m, e)', '(t, g, m, e, s) -> (s, g, e)', '(t, g, m, e, s) -> (t, g, m, s)')}"
               f', iterator_types = ["parallel", "parallel", "parallel", "reduction", '
               f'"parallel"]}} ins({q4}, {k3} : {_t(T, KV, M, hs)}, tensor<?x{KV}x{hs}xf32>) '
               f"outs({sc} : {sT}) {{")
        b.emit("^bb0(%a: f32, %k: f32, %acc: f32):")
        b.emit("  %qs = arith.mulf %a, %scale : f32")
        b.emit("  %p = arith.mulf %qs, %k : f32")
        b.emit("  %r = arith.addf %acc, %p : f32")
        b.emit("  linalg.yield %r : f32")
        b.emit(f"}} -> {sT}")
        p4 = "(t, g, m, s) -> (t, g, m, s)"
        msk = att
        if T > 1:
            # causal mask: position pos + t sees cache rows s <= pos + t
            msk, e = b.fresh("masked"), b.fresh("e")
            b.emit(f"{e} = tensor.empty({n}) : {sT}")
            b.emit(f"{msk} = linalg.generic {{indexing_maps = {_maps(p4, p4)}, iterator_types = "
                   f'["parallel", "parallel", "parallel", "parallel"]}} ins({att} : '
                   f"{sT}) outs({e} : {sT}) {{")
            b.emit("^bb0(%a: f32, %o: f32):")
            b.emit("  %t = linalg.index 0 : index")
            b.emit("  %s = linalg.index 3 : index")
            b.emit("  %last = arith.addi %pos, %t : index")
            b.emit("  %ok = arith.cmpi ule, %s, %last : index")
            b.emit("  %r = arith.select %ok, %a, %ninf : f32")
            b.emit("  linalg.yield %r : f32")
            b.emit(f"}} -> {sT}")
        red = '["parallel", "parallel", "parallel", "reduction"]'
        r3 = "(t, g, m, s) -> (t, g, m)"
        mx = self._zeros(b, T, KV, M, value="%ninf")
        mxr = b.fresh("max")
        b.emit(f"{mxr} = linalg.generic {{indexing_maps = {_maps(p4, r3)}, iterator_types = "
               f"{red}}} ins({msk} : {sT}) outs({mx} : {_t(T, KV, M)}) {{")
        b.emit("^bb0(%a: f32, %acc: f32):")
        b.emit("  %r = arith.maximumf %acc, %a : f32")
        b.emit("  linalg.yield %r : f32")
        b.emit(f"}} -> {_t(T, KV, M)}")
        ex, e2 = b.fresh("exp"), b.fresh("e")
        b.emit(f"{e2} = tensor.empty({n}) : {sT}")
        b.emit(f"{ex} = linalg.generic {{indexing_maps = {_maps(p4, r3, p4)}, iterator_types = "
               f'["parallel", "parallel", "parallel", "parallel"]}} ins({msk}, {mxr} : '
               f"{sT}, {_t(T, KV, M)}) outs({e2} : {sT}) {{")
        b.emit("^bb0(%a: f32, %mx: f32, %o: f32):")
        b.emit("  %dlt = arith.subf %a, %mx : f32")
        b.emit("  %r = math.exp %dlt : f32")
        b.emit("  linalg.yield %r : f32")
        b.emit(f"}} -> {sT}")
        sm = self._zeros(b, T, KV, M)
        smr = b.fresh("sum")
        b.emit(f"{smr} = linalg.generic {{indexing_maps = {_maps(p4, r3)}, iterator_types = "
               f"{red}}} ins({ex} : {sT}) outs({sm} : {_t(T, KV, M)}) {{")
        b.emit("^bb0(%a: f32, %acc: f32):")
        b.emit("  %r = arith.addf %acc, %a : f32")
        b.emit("  linalg.yield %r : f32")
        b.emit(f"}} -> {_t(T, KV, M)}")
        pr, e3 = b.fresh("prob"), b.fresh("e")
        b.emit(f"{e3} = tensor.empty({n}) : {sT}")
        b.emit(f"{pr} = linalg.generic {{indexing_maps = {_maps(p4, r3, p4)}, iterator_types = "
               f'["parallel", "parallel", "parallel", "parallel"]}} ins({ex}, {smr} : '
               f"{sT}, {_t(T, KV, M)}) outs({e3} : {sT}) {{")
        b.emit("^bb0(%a: f32, %sm: f32, %o: f32):")
        b.emit("  %r = arith.divf %a, %sm : f32")
        b.emit("  linalg.yield %r : f32")
        b.emit(f"}} -> {sT}")
        # out[t, g, m, e] = sum_s prob[t, g, m, s] * v[s, g, e], e innermost
        oz = self._zeros(b, T, KV, M, hs)
        o, o2 = b.fresh("o"), b.fresh("oc")
        b.emit(f"{o} = linalg.generic {{indexing_maps = "
               f"{_maps('(t, g, m, s, e) -> (t, g, m, s)', '(t, g, m, s, e) -> (s, g, e)', '(t, g, m, s, e) -> (t, g, m, e)')}"
               f', iterator_types = ["parallel", "parallel", "parallel", "reduction", '
               f'"parallel"]}} ins({pr}, {v3} : {sT}, tensor<?x{KV}x{hs}xf32>) '
               f"outs({oz} : {_t(T, KV, M, hs)}) {{")
        b.emit("^bb0(%a: f32, %v: f32, %acc: f32):")
        b.emit("  %p = arith.mulf %a, %v : f32")
        b.emit("  %r = arith.addf %acc, %p : f32")
        b.emit("  linalg.yield %r : f32")
        b.emit(f"}} -> {_t(T, KV, M, hs)}")
        b.emit(f"{o2} = tensor.collapse_shape {o} [[0], [1, 2, 3]] : {_t(T, KV, M, hs)} into "
               f"{_t(T, c.dim)}")
        return o2

    def _zeros_dyn(self, b: _Body, ty: str, n: str) -> str:
        e, f = b.fresh("e"), b.fresh("z")
        b.emit(f"{e} = tensor.empty({n}) : {ty}")
        b.emit(f"{f} = linalg.fill ins(%zero : f32) outs({e} : {ty}) -> {ty}")
        return f

    # -- functions ----------------------------------------------------------------------

    def function(self, name: str, T: int) -> str:
        c = self.cfg
        d, kv, S, L, V, hid = c.dim, c.kv_dim, c.seq_len, c.n_layers, c.vocab_size, c.hidden_dim
        cache = _t(L, S, kv)
        b = _Body()
        for line in ("%zero = arith.constant 0.000000e+00 : f32",
                     "%one = arith.constant 1.000000e+00 : f32",
                     f"%ninf = arith.constant {NEG_INF} : f32",
                     "%eps = arith.constant 9.99999974E-6 : f32",
                     f"%dimf = arith.constant {float(d):e} : f32",
                     f"%scale = arith.constant {np.float32(1.0 / np.sqrt(c.head_size)).item():.9e}"
                     " : f32",
                     "%c0 = arith.constant 0 : index",
                     f"%c{T} = arith.constant {T} : index"):
            b.emit(line)
        emb = self._load(b, "token_embedding")
        cos, sin = self._load(b, "rope_cos"), self._load(b, "rope_sin")
        e, x = b.fresh("e"), b.fresh("x")
        b.emit(f"{e} = tensor.empty() : {_t(T, d)}")
        b.emit(f"{x} = linalg.generic {{indexing_maps = "
               f"{_maps('(t, d) -> (t)', '(t, d) -> (t, d)')}, iterator_types = "
               f'["parallel", "parallel"]}} ins(%tokens : {_t(T, elem="i32")}) '
               f"outs({e} : {_t(T, d)}) {{")
        b.emit("^bb0(%id: i32, %o: f32):")
        b.emit("  %row = arith.index_cast %id : i32 to index")
        b.emit("  %col = linalg.index 1 : index")
        b.emit(f"  %val = tensor.extract {emb}[%row, %col] : {_t(V, d)}")
        b.emit("  linalg.yield %val : f32")
        b.emit(f"}} -> {_t(T, d)}")
        kc, vc = "%kcache", "%vcache"
        for l in range(L):
            p = f"blk{l}_"
            # Each block's ops are marked, and its cache layer is an SSA value (not a static
            # offset), so that blocks of the same shape are the same code up to constants.
            b.block = l
            layer = f"%layer{l}"
            b.emit(f"{layer} = arith.constant {l} : index")
            xb = self._rmsnorm(b, x, f"rms_att{l}", T)
            q = self._linear(b, p + "wq", xb, T, d, d, self._hessian_attr(p + "wq", d))
            k = self._linear(b, p + "wk", xb, T, d, kv, self._hessian_attr(p + "wk", d))
            v = self._linear(b, p + "wv", xb, T, d, kv, self._hessian_attr(p + "wv", d))
            q = self._rope(b, q, T, d, cos, sin)
            k = self._rope(b, k, T, kv, cos, sin)
            nk, nv = b.fresh("kcache"), b.fresh("vcache")
            for new, old, val in ((nk, kc, k), (nv, vc, v)):
                b.emit(f"{new} = tensor.insert_slice {val} into {old}[{layer}, %pos, 0] "
                       f"[1, {T}, {kv}] [1, 1, 1] : {_t(T, kv)} into {cache}")
            kc, vc = nk, nv
            o = self._attention(b, q, kc, vc, layer, T)
            x = self._binary(b, "add", x,
                             self._linear(b, p + "wo", o, T, d, d,
                                          self._hessian_attr(p + "wo", d)), T, d)
            xb = self._rmsnorm(b, x, f"rms_ffn{l}", T)
            h1 = self._linear(b, p + "w1", xb, T, d, hid, self._hessian_attr(p + "w1", d))
            h3 = self._linear(b, p + "w3", xb, T, d, hid, self._hessian_attr(p + "w3", d))
            h = self._binary(b, "swiglu", h1, h3, T, hid)
            x = self._binary(b, "add", x,
                             self._linear(b, p + "w2", h, T, hid, d,
                                          self._hessian_attr(p + "w2", hid)), T, d)
            b.block = None
        xf = self._rmsnorm(b, x, "rms_final", T)
        logits = self._linear(b, self.head_global, xf, T, d, V,
                              self._hessian_attr(CLASSIFIER, d) if self.head_hessian else "")
        b.emit(f"func.return {logits}, {kc}, {vc} : {_t(T, V)}, {cache}, {cache}")
        head = (f"  func.func @{name}(%tokens: {_t(T, elem='i32')}, %pos: index, "
                f"%kcache: {cache}, %vcache: {cache}) -> ({_t(T, V)}, {cache}, {cache}) {{\n")
        return head + "\n".join(b.lines) + "\n  }\n"

    def plan(self) -> str:
        """Declares every global and returns the IR text (everything before the blobs)."""
        c, t = self.cfg, self.ckpt.tensors
        d, L = c.dim, c.n_layers
        self._global("token_embedding", (c.vocab_size, d), -1,
                     lambda: t["token_embedding"])
        cos, sin = rope_tables(self.ckpt)
        self._global("rope_cos", cos.shape, -1, lambda: cos)
        self._global("rope_sin", sin.shape, -1, lambda: sin)
        for l in range(L):
            self._global(f"rms_att{l}", (d,), l, lambda l=l: t["rms_att"][l])
            self._global(f"rms_ffn{l}", (d,), l, lambda l=l: t["rms_ffn"][l])
            for k in LINEAR_KINDS:
                name = f"blk{l}_{k}"
                self._global(name, c.linear_shape(k), l,
                             lambda name=name: self.ckpt.linear(name))
        self._global("rms_final", (d,), L, lambda: t["rms_final"])
        if self.head_global == "classifier":  # a separate classifier, or a tied one's copy
            self._global("classifier", (c.vocab_size, d), L, lambda: self.ckpt.wcls)
        funcs = [self.function("forward", 1)]
        if self.prefill > 1:
            funcs.append(self.function("prefill", self.prefill))
        return "module {\n" + "\n".join(self.globals) + "\n" + "".join(funcs) + "}\n"

    def write(self, out: BinaryIO) -> int:
        """Writes the module to ``out``; returns the bytes written."""
        n = out.write(self.plan().encode())
        n += out.write(b"\n{-#\n  dialect_resources: {\n    builtin: {\n")
        pending: dict[str, np.ndarray] = {}
        source = self.hessians
        if source is not None and not isinstance(source, Mapping):
            source = iter(source)
        first = True
        for layer in range(-1, self.cfg.n_layers + 1):
            keys = [k for k, (_, lay, _) in self.blobs.items() if lay == layer]
            for key in keys:
                shape, _, get = self.blobs[key]
                if get is None:  # a Hessian
                    if isinstance(source, Mapping):
                        value = source[key]
                    else:
                        while key not in pending:
                            got = next(source, None)
                            if got is None:
                                raise ValueError(f"Hessian {key} was never produced")
                            pending = dict(got[1])
                        value = pending.pop(key)
                else:
                    value = get()
                n += _write_blob(out, key, value, shape, first)
                first = False
        n += out.write(b"\n    }\n  }\n#-}\n")
        return n


# Floats per hex chunk: 4 MB of data at a time.
_CHUNK = 1 << 20


def _write_blob(out: BinaryIO, key: str, value: np.ndarray, shape: tuple[int, ...],
                first: bool) -> int:
    """``key: "0x<alignment 4><little-endian f32 data>"`` (as :func:`baq.mlir.blob_hex`)."""
    flat = np.asarray(value)
    if flat.shape != tuple(shape):
        raise ValueError(f"blob {key}: shape {flat.shape}, expected {tuple(shape)}")
    flat = np.ascontiguousarray(flat, dtype="<f4").reshape(-1)
    n = out.write((b"" if first else b",\n") + f'      {key}: "0x04000000'.encode())
    for i in range(0, flat.size, _CHUNK):
        n += out.write(binascii.hexlify(flat[i:i + _CHUNK]).upper())
    return n + out.write(b'"')


def write_model_module(out: BinaryIO, ckpt: Checkpoint,
                       hessians: Mapping[str, np.ndarray] | Iterator | None,
                       prefill: int = 32, head_hessian: bool | None = None) -> int:
    """Streams the whole-model module to ``out`` (``prefill`` <= 1: no ``@prefill``);
    ``head_hessian`` None: the classifier is quantizable when ``hessians`` (a mapping) holds
    ``classifier_hessian``. Returns the bytes written."""
    if prefill > ckpt.config.seq_len:
        raise ValueError(f"prefill window {prefill} exceeds seq_len {ckpt.config.seq_len}")
    if head_hessian is None:
        head_hessian = isinstance(hessians, Mapping) and HEAD_HESSIAN in hessians
    return ModelWriter(ckpt, hessians, prefill, head_hessian).write(out)


def build_model_module(ckpt: Checkpoint, hessians: Mapping[str, np.ndarray] | None,
                       prefill: int = 32, head_hessian: bool | None = None) -> str:
    """The whole-model module text (small models and tests; see write_model_module)."""
    buf = io.BytesIO()
    write_model_module(buf, ckpt, hessians, prefill, head_hessian)
    return buf.getvalue().decode()


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="baq-export-model", description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path,
                    help="llama2.c legacy checkpoint (.bin) or Hugging Face Llama directory")
    ap.add_argument("--tokenizer", type=Path, help="llama2.c tokenizer.bin (for --calib)")
    ap.add_argument("--calib", type=Path, help="calibration text (as baq.export)")
    ap.add_argument("--windows", type=int, default=0, help="calibration windows (as baq.export)")
    ap.add_argument("--window-len", type=int, default=512, help="tokens per window (512)")
    ap.add_argument("--seed", type=int, default=0, help="window sampling / synthetic seed")
    ap.add_argument("--batch", type=int, default=8, help="windows per forward batch")
    ap.add_argument("--prefill", type=int, default=32,
                    help="tokens per @prefill call (32; <= 1: no @prefill)")
    ap.add_argument("--no-hessian", action="store_true", help="no baq.hessian attributes")
    ap.add_argument("--fp32-head", action="store_true",
                    help="keep the classifier FP32: no Hessian for it (by default it is "
                         "calibrated like the other projections and --baq-allocate "
                         "quantizes it; a tied classifier then gets its own copy of the "
                         "embedding matrix)")
    ap.add_argument("--hessians-file", type=Path,
                    help="write the Hessians to this safetensors file (keyed by weight name) "
                         "instead of into the module, for baq-opt --baq-attach-hessians")
    ap.add_argument("--emit", choices=("model", "synthetic"), default="model",
                    help="'synthetic': baq.export's small random model (no data files)")
    ap.add_argument("--synthetic-checkpoint", type=Path,
                    help="with --emit synthetic: also save the model as a llama2.c .bin")
    ap.add_argument("--synthetic-tokenizer", type=Path,
                    help="with --emit synthetic: also save a matching tokenizer.bin")
    ap.add_argument("-o", "--output", type=Path, required=True, help="output model.mlir")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    check_window_options(ap, a)
    t0 = time.time()
    if a.emit == "synthetic":
        ckpt = random_checkpoint(SYNTHETIC_CONFIG, seed=a.seed)
        if a.synthetic_checkpoint:
            ckpt.save(a.synthetic_checkpoint)
        if a.synthetic_tokenizer:
            a.synthetic_tokenizer.write_bytes(
                synthetic_tokenizer(SYNTHETIC_CONFIG.vocab_size).to_bytes())
        rng = np.random.default_rng(a.seed + 1)
        wl = min(a.window_len, ckpt.config.seq_len)
        windows = list(rng.integers(0, ckpt.config.vocab_size,
                                    size=(a.windows if a.windows > 0 else 16, wl)))
        if a.prefill > ckpt.config.seq_len:
            ap.error(f"--prefill {a.prefill} exceeds the model's seq_len "
                     f"{ckpt.config.seq_len}")
    else:
        if not a.checkpoint or not (a.no_hessian or (a.calib and a.tokenizer)):
            ap.error("--checkpoint and (--calib and --tokenizer, or --no-hessian) are required "
                     "(or --emit synthetic)")
        ckpt = read_checkpoint(a.checkpoint)
        if a.prefill > ckpt.config.seq_len:
            ap.error(f"--prefill {a.prefill} exceeds the model's seq_len "
                     f"{ckpt.config.seq_len}")
        windows = []
        if not a.no_hessian:
            tok = Tokenizer.load(a.tokenizer, ckpt.config.vocab_size)
            stream = calibration_stream(a.calib, tok)
            windows = calibration_windows(stream, min(a.window_len, ckpt.config.seq_len),
                                          a.windows, a.seed)
    if a.hessians_file is not None and a.no_hessian:
        ap.error("--hessians-file needs calibration (drop --no-hessian)")
    head = not a.fp32_head and not a.no_hessian
    hessians = None if a.no_hessian else layer_hessians(ckpt, windows, a.batch, not a.quiet,
                                                        head)
    if a.hessians_file is not None:
        names = ckpt.config.linear_names() + ([CLASSIFIER] if head else [])
        shapes = {n: ckpt.config.dim for n in names}
        shapes.update({f"blk{l}_w2": ckpt.config.hidden_dim
                       for l in range(ckpt.config.n_layers)})
        with SafetensorsWriter(a.hessians_file, [(n, (shapes[n], shapes[n]))
                                                 for n in names]) as side:
            for _, block in hessians:  # one block's Hessians in memory at a time
                for n in names:
                    if hessian_key(n) in block:
                        side.write(n, block[hessian_key(n)])
        hessians = None
    try:
        with open(a.output, "wb") as out:
            # With --hessians-file the Hessians are attached later: the classifier still gets
            # its own global so that --baq-attach-hessians finds it by name.
            size = ModelWriter(ckpt, hessians, a.prefill, head).write(out)
    except BaseException:
        a.output.unlink(missing_ok=True)
        raise
    if not a.quiet:
        print(f"baq-export-model: wrote {a.output} ({size / 1e6:.1f} MB) in "
              f"{time.time() - t0:.1f} s", file=sys.stderr)
    return 0


def cli() -> int:
    """Console entry point: input errors become one ``baq-export-model: error:`` line, exit 2."""
    return run("baq-export-model", main)


if __name__ == "__main__":
    sys.exit(cli())
