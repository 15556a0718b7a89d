"""The pooled module budget of ``--baq-allocate`` (``budget-scope=module``, the default, with
``budget=total``), computed from the model's shapes alone.

Every layer gets the same payload rate r (``floor(r N + 1e-9)`` bits per row, which is what
``budget=payload target-bits=r`` gives it), the largest whose layouts and metadata fit the
total over all layers. The sequential driver quantizes a few layers per ``baq-opt`` run, so it
computes r here for the whole model and runs every step at ``budget=payload target-bits=r``;
``num::pooledPayloadRate`` (lib/Numerics/QuantizeLayer.cpp) is the same computation, and a
test checks that both give the same module. The pool is every matmul that carries a
Hessian: in a ``baq.export_model`` module that includes the calibrated classifier
(``classifier``, ``[vocab, dim]``), so its shape belongs in ``shapes`` exactly when the
module has its Hessian (``python/tests/test_export_model.py`` checks the rate against
``baq-opt``); ``baq.quantize``'s per-layer modules have no classifier.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .cli import BaqError


class BudgetError(BaqError, ValueError):
    """A target the layers cannot meet."""

MAX_BITS = 8
_EPS = 1e-9
_F16_MAX = 65504.0
_F16_MIN_NORMAL = 2.0 ** -14
# 8-bit scale codes (FORMAT.md §4): code 255 and code 1.
_SCALE_CODE_MAX = 15.5
_SCALE_CODE_MIN = 17.0 * 2.0 ** -16


@dataclass(frozen=True)
class LayerShape:
    m: int  # outputs (rows)
    n: int  # inputs (columns)
    scale_bits: int = 8  # an 8-bit scale code, what scale-type=auto stores for most layers
    zero_bits: int = 8


def scale_bits(w: np.ndarray, scale_type: str = "auto") -> int:
    """Bits of one stored scale of weight ``w`` (``chooseGridType``): auto is an 8-bit code
    where the layer's ranges (up to 2 max|w|) fit the codes, else f16 unless they exceed f16
    or all lie below its normal range."""
    if scale_type in ("f16", "bf16"):
        return 16
    if scale_type == "u8":
        return 8
    if scale_type == "f32":
        return 32
    finite = np.abs(w[np.isfinite(w)])
    widest = 2.0 * float(finite.max()) if finite.size else 0.0
    if widest <= _SCALE_CODE_MAX and not (0 < widest < _SCALE_CODE_MIN):
        return 8
    return 16 if widest <= _F16_MAX and not (0 < widest < _F16_MIN_NORMAL) else 32


def payload_words(row_bits: int, m: int) -> int:
    """FORMAT.md §3: whole words interleaved by row, then the rows' tails packed."""
    return (row_bits // 32) * m + -(-((row_bits % 32) * m) // 32)


def layer_bits(row_bits: int, shape: LayerShape, group_size: int = 0) -> int:
    """Stored bits of a layer at ``row_bits`` per row with every channel live."""
    live = shape.n if row_bits > 0 else 0
    groups = 0 if live == 0 else (1 if group_size <= 0 else -(-live // group_size))
    return (32 * payload_words(row_bits, shape.m)
            + shape.m * groups * (shape.scale_bits + shape.zero_bits) + 4 * shape.n)


def pooled_payload_rate(shapes: list[LayerShape], target_bits: float, min_bits: int = 0,
                        group_size: int = 0) -> float:
    """The largest breakpoint ``k / N`` at which every layer's layout plus metadata fits
    ``target_bits`` over all ``shapes``; ValueError if not even ``min_bits`` fits."""
    weights = sum(s.m * s.n for s in shapes)
    if weights == 0:
        raise BudgetError("no weights to budget")
    budget = math.floor(target_bits * weights + _EPS)
    rates = sorted({k / s.n for s in shapes for k in range(MAX_BITS * s.n + 1)})

    def stored(r: float) -> int:
        return sum(layer_bits(math.floor(r * s.n + _EPS), s, group_size) for s in shapes)

    lo, hi = 0, len(rates)  # first index that does not fit
    while lo < hi:
        mid = (lo + hi) // 2
        if stored(rates[mid]) <= budget:
            lo = mid + 1
        else:
            hi = mid
    if lo == 0 or rates[lo - 1] < min_bits:
        raise BudgetError(f"target-bits={target_bits:g} cannot be met over the module: "
                         f"min-bits={min_bits} with its metadata costs "
                         f"{stored(min_bits) / weights:.4g} bits per weight")
    return rates[lo - 1]


_OPT_RE = re.compile(r"([\w-]+)=(\S+)")


def parse_allocate_options(options: str) -> dict[str, str]:
    """``key=value`` pairs of a ``--baq-allocate`` option string (report paths excluded)."""
    return dict(_OPT_RE.findall(options))


def pooled_layer_total(shape: LayerShape, rate: float, group_size: int = 0) -> float:
    """A layer's share of the pooled budget in total bits per weight (``pooledLayerTotal``)."""
    return layer_bits(math.floor(rate * shape.n + _EPS), shape, group_size) / (shape.m * shape.n)


def layer_shapes(opts: dict[str, str], weights: dict[str, np.ndarray]
                 ) -> dict[str, LayerShape]:
    """Each layer's shape and stored scale/zero widths under the parsed ``opts``."""
    shapes = {}
    for name, w in weights.items():
        sb = scale_bits(np.asarray(w), opts.get("scale-type", "auto"))
        zb = 8 if opts.get("zero-type", "u8") == "u8" else sb
        shapes[name] = LayerShape(int(w.shape[0]), int(w.shape[1]), sb, zb)
    return shapes


def pooled_options(options: str, weights: dict[str, np.ndarray]
                   ) -> tuple[str, float | None, dict[str, float] | None]:
    """``options`` with a pooled total budget over ``weights`` (by layer name, M x N) replaced
    by its per-layer equivalent, the rate r, and per-layer targets: without scale groups
    ``budget=payload target-bits=r budget-scope=layer`` (targets None); with groups
    ``budget=total budget-scope=layer`` and each layer's share as its ``baq.target_bits``
    (what ``--baq-allocate`` does with ``budget-scope=module``). Unchanged, None, None when
    the options do not pool (``budget=payload``, or ``budget-scope=layer``/``module-greedy``)."""
    opts = parse_allocate_options(options)
    if opts.get("budget", "payload") != "total" or opts.get("budget-scope", "module") != "module":
        return options, None, None
    shapes = layer_shapes(opts, weights)
    group_size = int(opts.get("group-size", "0"))
    rate = pooled_payload_rate(list(shapes.values()), float(opts.get("target-bits", "2.0")),
                               int(opts.get("min-bits", "0")), group_size)
    keep = [t for t in options.split()
            if t.split("=", 1)[0] not in ("budget", "target-bits", "budget-scope")]
    if group_size <= 0:
        return " ".join(keep + [f"target-bits={rate!r}", "budget=payload",
                                "budget-scope=layer"]), rate, None
    targets = {n: pooled_layer_total(s, rate, group_size) for n, s in shapes.items()}
    return " ".join(keep + ["budget=total", "budget-scope=layer"]), rate, targets
