"""Layer importance measured on the model's output, and the per-layer payload rates it implies.

The pooled module budget (``budget-scope=module``) gives every layer the same payload rate,
and the Hessian losses ``tr((W-Q) H (W-Q)^T)`` of different layers are not comparable (the
same layer error costs different perplexity in different layers: an error in ``w2`` or
``wo`` lands on the residual stream, one in ``wq``/``wk`` passes a softmax first). This
module measures what each layer's quantization costs the *output*:

1. quantize the FP32-calibrated model with the real ``--baq-allocate`` options at two payload
   rates ``b0`` and ``b0 + 1`` around the pooled rate (two ``baq-opt`` runs);
2. for every layer and both rates, substitute that one layer alone and measure the mean
   per-token KL divergence ``D_l(b)`` of the model's next-token distribution from the FP32
   one on a few calibration windows (the stream entering each block is cached, so a probe
   only re-runs the blocks from its own on);
3. model ``D_l(r) = D_l(b0) exp(-s_l (r - b0))`` with each layer's measured slope
   ``s_l = ln(D_l(b0) / D_l(b0 + 1))`` and choose the rates that minimise ``sum_l D_l(r_l)``
   for the same stored total (errors of different layers add to first order): the
   equal-slope condition ``s_l D_l(r_l) = mu * weights_l``, ``mu`` found by bisection over
   the exact stored-bit cost, rates kept within one bit of the pooled rate (the two probes
   bracket it; farther out the exponential is an extrapolation).

The result is per-layer ``baq.target_bits``, which the sequential driver honours layer by
layer exactly as it honours the pooled rate. It is a measurement on the model at hand, not a
rule about layer kinds, so it carries over to models whose sensitivities differ.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .budget import (LayerShape, layer_bits, layer_shapes, parse_allocate_options,
                     pooled_layer_total, pooled_options)
from .eval import run_baq_opt
from .export import build_module, collect_hessians
from .llama2c import Checkpoint, Transformer, parse_linear_name
from .packed import read_module

_EPS = 1e-9
# Slopes per bit outside [1.1x, 16x] are measurement noise (4x is a full bit of a uniform
# grid; a probe whose loss does not fall at all would otherwise claim infinite importance).
_MIN_SLOPE, _MAX_SLOPE = math.log(1.1), math.log(16.0)
_TINY_KL = 1e-12


@dataclass(frozen=True)
class Probe:
    """One layer's measured output cost at the two probe rates."""
    kl_lo: float  # mean per-token KL at b0
    kl_hi: float  # at b0 + 1

    @property
    def slope(self) -> float:
        lo, hi = max(self.kl_lo, _TINY_KL), max(self.kl_hi, _TINY_KL)
        return min(max(math.log(lo / hi), _MIN_SLOPE), _MAX_SLOPE)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


class OutputProbe:
    """Mean per-token KL of the model's next-token distribution with some layers replaced,
    from the FP32 model's, on fixed windows; block inputs are cached so a probe of a layer in
    block l runs blocks l.. only."""

    def __init__(self, ckpt: Checkpoint, windows: Sequence[np.ndarray], batch: int = 8):
        self.ckpt = ckpt
        self.model = Transformer(ckpt)
        self.batches = [np.stack(windows[s:s + batch]) for s in range(0, len(windows), batch)]
        # stream[b][l]: input of block l for batch b; the reference log-probabilities.
        self.stream: list[list[np.ndarray]] = []
        self.ref: list[np.ndarray] = []
        for tok in self.batches:
            x = self.model.embed(tok)
            per_block = []
            for l in range(ckpt.config.n_layers):
                per_block.append(x)
                x = self.model.block(l, x)
            self.stream.append(per_block)
            self.ref.append(_log_softmax(self.model.head(x)))

    def kl(self, name: str, weight: np.ndarray) -> float:
        """KL with layer ``name`` replaced by ``weight`` (the model is restored after)."""
        first = parse_linear_name(name)[0]
        self.model.set_linear(name, weight)
        try:
            total, count = 0.0, 0
            for b, ref in enumerate(self.ref):
                x = self.stream[b][first]
                for l in range(first, self.ckpt.config.n_layers):
                    x = self.model.block(l, x)
                logq = _log_softmax(self.model.head(x))
                total += float(np.sum(np.exp(ref) * (ref - logq)))
                count += ref.shape[0] * ref.shape[1]
            return total / count
        finally:
            self.model.set_linear(name, self.ckpt.linear(name))


def probe_rates(rate: float, min_bits: int = 0, max_bits: int = 8) -> tuple[int, int]:
    """The two integer payload rates probed around the pooled ``rate``."""
    lo = min(max(math.floor(rate + _EPS), max(min_bits, 1)), max_bits - 1)
    return lo, lo + 1


def allocate_rates(shapes: dict[str, LayerShape], probes: dict[str, Probe], b0: int,
                   pooled_rate: float, budget_bits: int, group_size: int = 0,
                   min_bits: int = 0, max_bits: int = 8, spread: float = 1.0
                   ) -> dict[str, float]:
    """Per-layer payload rates (breakpoints ``k / N``) minimising the modelled output cost
    ``sum_l D_l(r_l)`` with every layer's stored bits (``layer_bits``) summing to at most
    ``budget_bits``; rates within ``spread`` bits of ``pooled_rate``."""
    names = list(shapes)
    lo_r = max(float(min_bits), pooled_rate - spread)
    hi_r = min(float(max_bits), pooled_rate + spread)

    def rates_for(log_mu: float) -> dict[str, float]:
        out = {}
        for n in names:
            s, p = shapes[n], probes[n]
            # s_l D_l(b0) e^{-s_l (r - b0)} = mu * weights_l
            weight = s.m * s.n
            r = b0 + (math.log(p.slope * max(p.kl_lo, _TINY_KL) / weight) - log_mu) / p.slope
            r = min(max(r, lo_r), hi_r)
            out[n] = math.floor(r * s.n + _EPS) / s.n
        return out

    def cost(rates: dict[str, float]) -> int:
        return sum(layer_bits(math.floor(rates[n] * shapes[n].n + _EPS), shapes[n], group_size)
                   for n in names)

    # Larger mu, fewer bits; find the smallest mu whose rates fit.
    lo, hi = -200.0, 200.0
    if cost(rates_for(hi)) > budget_bits:
        raise ValueError("the lowest rates do not fit the budget")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if cost(rates_for(mid)) <= budget_bits:
            hi = mid
        else:
            lo = mid
    rates = rates_for(hi)
    # Rounding to breakpoints can leave the modelled cost above the pooled layout's (which
    # fits by construction: it is how pooled_rate was found); never do worse than it.
    pooled = {n: math.floor(pooled_rate * shapes[n].n + _EPS) / shapes[n].n for n in names}
    if modelled_cost(shapes, probes, b0, rates) > modelled_cost(shapes, probes, b0, pooled):
        return pooled
    return rates


def modelled_cost(shapes: dict[str, LayerShape], probes: dict[str, Probe], b0: int,
                  rates: dict[str, float]) -> float:
    """``sum_l D_l(r_l)`` under the exponential model."""
    return sum(probes[n].kl_lo * math.exp(-probes[n].slope * (rates[n] - b0)) for n in shapes)


def measure_probes(ckpt: Checkpoint, windows: Sequence[np.ndarray], baq_opt: Path,
                   layer_options: str, rates: tuple[int, int], work_dir: Path,
                   batch: int = 8, progress: Callable[[str], None] | None = None
                   ) -> dict[str, Probe]:
    """``Probe`` per linear layer: ``layer_options`` (per-layer ``--baq-allocate`` options
    without budget keys) at ``budget=payload target-bits=b`` for both ``rates`` on FP32
    Hessians of ``windows``, each layer substituted alone."""
    hessians = collect_hessians(ckpt, list(windows), batch)
    src = work_dir / "importance-fp32.mlir"
    src.write_text(build_module(ckpt, hessians))
    probe = OutputProbe(ckpt, windows, batch)
    kls: dict[int, dict[str, float]] = {}
    for b in rates:
        out = work_dir / f"importance-{b}.mlir"
        run_baq_opt(baq_opt, src, out, f"{layer_options} budget=payload budget-scope=layer "
                    f"target-bits={b} progress=false", work_dir / f"importance-{b}.log",
                    echo=None)
        got = read_module(out)
        kls[b] = {n: probe.kl(n, got[n].weight) for n in ckpt.config.linear_names()}
        if progress:
            progress(f"layer importance: {len(kls[b])} layers probed at {b} payload bits")
    probes = {n: Probe(kls[rates[0]][n], kls[rates[1]][n]) for n in ckpt.config.linear_names()}
    (work_dir / "importance.json").write_text(json.dumps(
        {n: {"kl": [p.kl_lo, p.kl_hi], "slope": p.slope} for n, p in probes.items()}, indent=1))
    return probes


def importance_options(ckpt: Checkpoint, windows: Sequence[np.ndarray], baq_opt: Path,
                       options: str, weights: dict[str, np.ndarray], work_dir: Path,
                       probe_windows: int = 16, batch: int = 8,
                       progress: Callable[[str], None] | None = None
                       ) -> tuple[str, dict[str, float]] | None:
    """The per-layer form of a pooled total budget (``budget=total``, module scope) with rates
    set by measured output importance: the options every ``baq-opt`` run gets and each
    layer's ``baq.target_bits`` (payload rates, or with scale groups each layer's total).
    None when ``options`` (without ``report=``) do not pool a total budget."""
    opts = parse_allocate_options(options)
    layer_opts, rate, _ = pooled_options(options, weights)
    if rate is None:
        return None
    shapes = layer_shapes(opts, weights)
    group_size = int(opts.get("group-size", "0"))
    min_bits, max_bits = int(opts.get("min-bits", "0")), int(opts.get("max-bits", "8"))
    total_weights = sum(s.m * s.n for s in shapes.values())
    budget_bits = math.floor(float(opts.get("target-bits", "2.0")) * total_weights + _EPS)
    keep = " ".join(t for t in options.split()
                    if t.split("=", 1)[0] not in ("budget", "target-bits", "budget-scope"))
    b0, b1 = probe_rates(rate, min_bits, max_bits)
    probes = measure_probes(ckpt, list(windows)[:max(1, probe_windows)], baq_opt, keep,
                            (b0, b1), work_dir, batch, progress)
    rates = allocate_rates(shapes, probes, b0, rate, budget_bits, group_size, min_bits,
                           max_bits)
    if progress:
        lo, hi = min(rates.values()), max(rates.values())
        progress(f"layer importance: payload rates {lo:.3f}..{hi:.3f} around the pooled "
                 f"{rate:.4f} (modelled output KL {modelled_cost(shapes, probes, b0, rates):.3g}"
                 f" vs {modelled_cost(shapes, probes, b0, {n: rate for n in shapes}):.3g})")
    if group_size <= 0:
        return keep + " budget=payload budget-scope=layer", rates
    return keep + " budget=total budget-scope=layer", {
        n: pooled_layer_total(shapes[n], r, group_size) for n, r in rates.items()}
