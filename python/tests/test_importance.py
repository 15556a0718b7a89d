"""baq.importance: output-measured layer importance and the rates it implies."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from baq.budget import LayerShape, layer_bits, pooled_payload_rate
from baq.importance import OutputProbe, Probe, allocate_rates, modelled_cost, probe_rates
from baq.llama2c import Config, Transformer, random_checkpoint

CFG = Config(dim=16, hidden_dim=40, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=64,
             seq_len=32)


def _shapes(n: int = 6) -> dict[str, LayerShape]:
    return {f"l{i}": LayerShape(64, 48 + 16 * (i % 3)) for i in range(n)}


def _budget(shapes, total: float) -> int:
    return math.floor(total * sum(s.m * s.n for s in shapes.values()) + 1e-9)


def _cost(shapes, rates) -> int:
    return sum(layer_bits(math.floor(rates[n] * s.n + 1e-9), s) for n, s in shapes.items())


def test_equal_layers_keep_the_pooled_rate() -> None:
    shapes = {f"l{i}": LayerShape(64, 64) for i in range(4)}
    budget = _budget(shapes, 3.4)
    rate = pooled_payload_rate(list(shapes.values()), 3.4)
    probes = {n: Probe((2, 3, 4), (4e-3, 1e-3, 2.5e-4)) for n in shapes}
    rates = allocate_rates(shapes, probes, rate, budget)
    assert set(rates.values()) == {rate}


def test_important_layer_gets_more_bits_within_budget() -> None:
    shapes = _shapes()
    budget = _budget(shapes, 3.3)
    rate = pooled_payload_rate(list(shapes.values()), 3.3)
    probes = {n: Probe((2, 3, 4), (4e-3, 1e-3, 2.5e-4)) for n in shapes}
    probes["l0"] = Probe((2, 3, 4), (2e-1, 5e-2, 1.25e-2))  # 50x the output cost
    probes["l1"] = Probe((2, 3, 4), (4e-5, 1e-5, 2.5e-6))
    rates = allocate_rates(shapes, probes, rate, budget)
    assert rates["l0"] > rate > rates["l1"]
    assert _cost(shapes, rates) <= budget
    assert all(2 <= r <= 4 for r in rates.values())  # within the measured range
    pooled = {n: rate for n in shapes}
    assert modelled_cost(probes, rates) < 0.8 * modelled_cost(probes, pooled)


def test_measured_cliff_below_keeps_a_layer_up() -> None:
    """A layer whose cost explodes one bit down (measured, as at 1 bit) is not moved down
    although its slope above the pooled rate is as flat as the others'."""
    shapes = {f"l{i}": LayerShape(64, 64) for i in range(4)}
    budget = _budget(shapes, 2.4)
    rate = pooled_payload_rate(list(shapes.values()), 2.4)
    probes = {n: Probe((1, 2, 3), (1.6e-2, 1e-3, 2.5e-4)) for n in shapes}
    probes["l0"] = Probe((1, 2, 3), (5.0, 1.2e-3, 3e-4))
    rates = allocate_rates(shapes, probes, rate, budget)
    assert rates["l0"] >= rate
    assert _cost(shapes, rates) <= budget


def test_rates_are_optimal_among_one_step_moves() -> None:
    """Moving one row-bit's worth of rate between any two layers never lowers the modelled
    cost within the budget (equal-slope condition, up to breakpoint rounding)."""
    rng = np.random.default_rng(0)
    shapes = _shapes(5)
    budget = _budget(shapes, 2.4)
    rate = pooled_payload_rate(list(shapes.values()), 2.4)
    probes = {}
    for n, k in zip(shapes, rng.lognormal(-6, 1.5, len(shapes))):
        a, b = sorted(rng.uniform(2, 12, 2))[::-1]
        probes[n] = Probe((1, 2, 3), (float(k) * a, float(k), float(k) / b))
    rates = allocate_rates(shapes, probes, rate, budget)
    base = modelled_cost(probes, rates)
    for a in shapes:
        for b in shapes:
            if a == b:
                continue
            moved = dict(rates)
            moved[a] += 4 / shapes[a].n
            moved[b] -= 4 * shapes[a].n / shapes[b].n / shapes[a].n
            if _cost(shapes, moved) > budget or not all(1 <= r <= 3 for r in moved.values()):
                continue
            assert modelled_cost(probes, moved) >= base * (1 - 1e-3)


def test_probe_model_is_convex_and_bounded() -> None:
    p = Probe((1, 2, 3), (1.0, 0.25, 0.0625))
    assert p.cost(2.5) == pytest.approx(0.125)  # log-linear between probes
    assert p.cost(np.array([1.0, 3.0])) == pytest.approx([1.0, 0.0625])
    # A bit that buys more than the bit below it is noise: the drop is capped by it.
    q = Probe((1, 2, 3), (1.0, 0.5, 0.01))
    assert q.cost(3) == pytest.approx(0.25)
    assert Probe((2, 3), (1.0, 2.0)).cost(3) == pytest.approx(1 / 1.1)  # no gain
    assert Probe((2, 3), (0.0, 0.0)).cost(2) > 0
    assert Probe((2, 3), (1.0, 1e-12)).cost(3) == pytest.approx(1 / 64)


def test_probe_rates() -> None:
    assert probe_rates(2.0) == (1, 2, 3)
    assert probe_rates(3.1) == (2, 3, 4)
    assert probe_rates(1.4) == (1, 2)
    assert probe_rates(0.4) == (1, 2)
    assert probe_rates(8.0) == (6, 7, 8)
    assert probe_rates(3.0, min_bits=3) == (3, 4)


def test_output_probe_measures_kl() -> None:
    ck = random_checkpoint(CFG, seed=5)
    rng = np.random.default_rng(2)
    windows = list(rng.integers(0, CFG.vocab_size, size=(3, 24)))
    probe = OutputProbe(ck, windows, batch=2)
    name = "blk1_w2"
    w = ck.linear(name)
    assert probe.kl(name, w) == pytest.approx(0.0, abs=1e-9)
    small = probe.kl(name, w + 0.01 * rng.standard_normal(w.shape).astype(np.float32))
    large = probe.kl(name, w + 0.1 * rng.standard_normal(w.shape).astype(np.float32))
    assert 0 < small < large
    # Independent reference: a full forward of the perturbed model.
    pert = w + 0.05 * rng.standard_normal(w.shape).astype(np.float32)
    ref = Transformer(ck).forward(np.stack(windows)).astype(np.float64)
    got = Transformer(ck, {name: pert}).forward(np.stack(windows)).astype(np.float64)
    lp = ref - np.log(np.exp(ref - ref.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - ref.max(-1, keepdims=True)
    lq = got - np.log(np.exp(got - got.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - got.max(-1, keepdims=True)
    expect = float(np.mean(np.sum(np.exp(lp) * (lp - lq), axis=-1)))
    assert probe.kl(name, pert) == pytest.approx(expect, rel=1e-4)
    # The probe restored the layer: the unperturbed weight is free again.
    assert probe.kl(name, w) == pytest.approx(0.0, abs=1e-9)
