"""Layer importance measured on the model's output, and the per-layer payload rates it implies.

The pooled module budget (``budget-scope=module``) gives every layer the same payload rate,
and the Hessian losses ``tr((W-Q) H (W-Q)^T)`` of different layers are not comparable (the
same layer error costs different perplexity in different layers: an error in ``w2`` or
``wo`` lands on the residual stream, one in ``wq``/``wk`` passes a softmax first). This
module measures what each layer's quantization costs the *output*:

1. quantize the FP32-calibrated model with the real ``--baq-allocate`` options at the
   payload rates ``b0 - 1``, ``b0`` and ``b0 + 1`` around the pooled rate (``b0`` its
   integer part; three ``baq-opt`` runs);
2. for every layer and rate, substitute that one layer alone and measure the mean
   per-token KL divergence ``D_l(b)`` of the model's next-token distribution from the FP32
   one on a few calibration windows (the stream entering each block is cached, so a probe
   only re-runs the blocks from its own on);
3. model ``D_l(r)`` log-linearly between the measured rates (made convex: a bit never buys
   more than the bit below it) and choose the rates that minimise ``sum_l D_l(r_l)`` for the
   same stored total (errors of different layers add to first order): every layer at the
   rate minimising ``D_l(r) + mu * weights_l * r``, ``mu`` bisected over the exact
   stored-bit cost, rates within the measured range. Going down a bit is measured, not
   extrapolated: at 2 bits a layer at 1 bit costs far more than a 4x-per-bit model says.

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
# Cost ratios per bit outside [1.1x, 64x] are taken as measurement noise (a bit of a uniform
# grid is ~4x; one 1-bit step can be far more): a probe whose cost does not fall at all
# would otherwise make a layer look free to move down, or infinitely important.
_MIN_SLOPE, _MAX_SLOPE = math.log(1.1), math.log(64.0)
_TINY_KL = 1e-12


@dataclass(frozen=True)
class Probe:
    """One layer's measured output cost (mean per-token KL) at increasing payload rates."""
    rates: tuple[int, ...]
    kls: tuple[float, ...]

    def log_costs(self) -> np.ndarray:
        """``ln D`` at ``rates``, made convex in the rate (each bit's drop capped by the drop
        of the bit below it, drops within the noise bounds) so that the allocation below is
        a convex problem."""
        y = np.log(np.maximum(np.asarray(self.kls, dtype=np.float64), _TINY_KL))
        # Decrease per bit: within [_MIN_SLOPE, _MAX_SLOPE], non-increasing with the rate.
        drops = np.clip(-np.diff(y), _MIN_SLOPE, _MAX_SLOPE)
        drops = np.minimum.accumulate(drops)
        return y[0] - np.concatenate([[0.0], np.cumsum(drops)])

    def cost(self, r: np.ndarray | float) -> np.ndarray:
        """Modelled ``D(r)``: log-linear between the probes (and beyond them along the end
        segments)."""
        x = np.asarray(self.rates, dtype=np.float64)
        y = self.log_costs()
        r = np.asarray(r, dtype=np.float64)
        slope_lo = (y[1] - y[0]) / (x[1] - x[0])
        slope_hi = (y[-1] - y[-2]) / (x[-1] - x[-2])
        inner = np.interp(r, x, y)
        out = np.where(r < x[0], y[0] + slope_lo * (r - x[0]),
                       np.where(r > x[-1], y[-1] + slope_hi * (r - x[-1]), inner))
        return np.exp(out)


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
        # stream[b][l]: input of block l for batch b; the reference log-probabilities.
        self.stream: list[list[np.ndarray]] = []
        self.ref: list[np.ndarray] = []
        for s in range(0, len(windows), batch):
            tok = np.stack(windows[s:s + batch])
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


def probe_rates(rate: float, min_bits: int = 0, max_bits: int = 8) -> tuple[int, ...]:
    """The integer payload rates probed around the pooled ``rate``: its integer part and the
    bits below and above it, so that moving a layer down is measured, not extrapolated (at 2
    bits a layer at 1 bit costs far more than a 4x-per-bit model predicts)."""
    base = min(max(math.floor(rate + _EPS), max(min_bits, 1)), max_bits - 1)
    return tuple(b for b in (base - 1, base, base + 1) if max(min_bits, 1) <= b <= max_bits)


def allocate_rates(shapes: dict[str, LayerShape], probes: dict[str, Probe],
                   pooled_rate: float, budget_bits: int, group_size: int = 0,
                   min_bits: int = 0, max_bits: int = 8) -> dict[str, float]:
    """Per-layer payload rates (breakpoints ``k / N`` within the probed range) minimising the
    modelled output cost ``sum_l D_l(r_l)`` with the layers' stored bits (``layer_bits``)
    summing to at most ``budget_bits``: for a multiplier mu each layer takes the rate
    minimising ``D_l(r) + mu * weights_l * r`` (convex ``D_l``: the equal-slope condition),
    and mu is bisected over the exact stored cost. Never worse, in the model, than every
    layer at ``pooled_rate``."""
    names = list(shapes)
    cands, costs, stored = {}, {}, {}
    for n in names:
        s, p = shapes[n], probes[n]
        lo = max(min_bits, min(p.rates))
        hi = min(max_bits, max(p.rates))
        k = np.arange(math.ceil(lo * s.n - _EPS), math.floor(hi * s.n + _EPS) + 1)
        cands[n] = k / s.n
        costs[n] = p.cost(cands[n])
        stored[n] = np.array([layer_bits(int(b), s, group_size) for b in k])

    def pick(log_mu: float) -> dict[str, int]:
        mu = math.exp(log_mu)
        return {n: int(np.argmin(costs[n] + mu * shapes[n].m * shapes[n].n * cands[n]))
                for n in names}

    def spent(idx: dict[str, int]) -> int:
        return sum(int(stored[n][i]) for n, i in idx.items())

    lo, hi = -80.0, 40.0  # larger mu, fewer bits
    pooled = {n: math.floor(pooled_rate * shapes[n].n + _EPS) / shapes[n].n for n in names}
    if spent(pick(hi)) > budget_bits:
        return pooled
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if spent(pick(mid)) <= budget_bits:
            hi = mid
        else:
            lo = mid
    idx = pick(hi)
    rates = {n: float(cands[n][i]) for n, i in idx.items()}
    if modelled_cost(probes, rates) > modelled_cost(probes, pooled):
        return pooled  # breakpoint rounding; the pooled layout fits by construction
    return rates


def modelled_cost(probes: dict[str, Probe], rates: dict[str, float]) -> float:
    """``sum_l D_l(r_l)`` under the probes' model."""
    return float(sum(probes[n].cost(r) for n, r in rates.items()))


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
    probes = {n: Probe(tuple(rates), tuple(kls[b][n] for b in rates))
              for n in ckpt.config.linear_names()}
    (work_dir / "importance.json").write_text(json.dumps(
        {n: {"rates": list(p.rates), "kl": list(p.kls)} for n, p in probes.items()}, indent=1))
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
    rates_probed = probe_rates(rate, min_bits, max_bits)
    if len(rates_probed) < 2:
        return None
    probes = measure_probes(ckpt, list(windows)[:max(1, probe_windows)], baq_opt, keep,
                            rates_probed, work_dir, batch, progress)
    rates = allocate_rates(shapes, probes, rate, budget_bits, group_size, min_bits, max_bits)
    if progress:
        lo, hi = min(rates.values()), max(rates.values())
        pooled = {n: rate for n in shapes}
        progress(f"layer importance: payload rates {lo:.3f}..{hi:.3f} around the pooled "
                 f"{rate:.4f} (modelled output KL {modelled_cost(probes, rates):.3g} vs "
                 f"{modelled_cost(probes, pooled):.3g})")
    if group_size <= 0:
        return keep + " budget=payload budget-scope=layer", rates
    return keep + " budget=total budget-scope=layer", {
        n: pooled_layer_total(shapes[n], r, group_size) for n, r in rates.items()}
