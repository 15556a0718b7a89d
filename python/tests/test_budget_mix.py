"""baq.budget (the pooled module budget, mirrored from --baq-allocate) and baq.mix (the
per-layer mix baseline's greedy)."""

import math

import numpy as np
import pytest

from baq.budget import (LayerShape, layer_bits, payload_words, pooled_layer_total,
                        pooled_options, pooled_payload_rate, scale_bits)
from baq.mix import choose_mix, mix_candidates, mix_options


def test_payload_words_follow_format_section_3():
    assert payload_words(64, 3) == 6          # whole words, interleaved by row
    assert payload_words(40, 3) == 3 + 1      # 8-bit tails of 3 rows share one word
    assert payload_words(0, 5) == 0


def test_pooled_rate_is_the_uniform_split():
    # stories260K's block: at uniform 2-bit GPTQ's own total every layer gets 2.0 payload,
    # although the narrow layers alone could not afford it.
    shapes = [LayerShape(64, 64)] * 4 + [LayerShape(172, 64)] * 2 + [LayerShape(64, 172)]
    w = sum(s.m * s.n for s in shapes)
    uniform2 = sum(layer_bits(2 * s.n, s) for s in shapes) / w
    assert pooled_payload_rate(shapes, uniform2) == 2.0
    assert layer_bits(2 * 64, LayerShape(64, 64)) / 4096 > uniform2  # alone it would not fit
    # Just below, the rate drops to the next breakpoint, and the budget always holds.
    for target in (uniform2 - 1e-4, 2.47, 3.47, 4.4):
        r = pooled_payload_rate(shapes, target)
        spent = sum(layer_bits(math.floor(r * s.n + 1e-9), s) for s in shapes)
        assert spent <= math.floor(target * w + 1e-9)
        assert any(abs(r * s.n - round(r * s.n)) < 1e-9 for s in shapes)  # a breakpoint k/N
    assert pooled_payload_rate(shapes, uniform2 - 1e-4) < 2.0


def test_pooled_rate_refuses_what_min_bits_cannot_meet():
    with pytest.raises(ValueError, match="cannot be met over the module"):
        pooled_payload_rate([LayerShape(4, 4)], 1.0, min_bits=2)


def test_scale_bits_like_choose_grid_type():
    assert scale_bits(np.ones((2, 2), np.float32)) == 8            # 8-bit scale codes
    assert scale_bits(np.full((2, 2), 7.75, np.float32)) == 8
    assert scale_bits(np.full((2, 2), 7.8, np.float32)) == 16      # ranges beyond 15.5
    assert scale_bits(np.full((2, 2), 1e-4, np.float32)) == 16     # below code 1
    assert scale_bits(np.ones((2, 2), np.float32), "f16") == 16
    assert scale_bits(np.full((2, 2), 9.0, np.float32), "u8") == 8
    assert scale_bits(np.full((2, 2), 4e4, np.float32)) == 32   # ranges beyond f16
    assert scale_bits(np.full((2, 2), 1e-6, np.float32)) == 32  # below its normal range
    assert scale_bits(np.full((2, 2), 4e4, np.float32), "bf16") == 16


def test_pooled_options_rewrite_only_pooled_totals():
    w = {"a": np.ones((64, 64), np.float32), "b": np.ones((48, 172), np.float32)}
    opts, rate, targets = pooled_options("target-bits=2.367 budget=total act-order=true", w)
    assert targets is None
    assert rate == pooled_payload_rate([LayerShape(64, 64), LayerShape(48, 172)], 2.367)
    assert opts.split()[0] == "act-order=true"
    assert f"target-bits={rate!r}" in opts and "budget=payload" in opts \
        and "budget-scope=layer" in opts
    for unchanged in ("target-bits=2", "target-bits=2 budget=total budget-scope=layer",
                      "target-bits=2 budget=total budget-scope=module-greedy"):
        assert pooled_options(unchanged, w) == (unchanged, None, None)
    # With scale groups each layer meets its share as a total (its own target).
    opts, rate, targets = pooled_options("target-bits=3 budget=total group-size=32", w)
    assert opts == "group-size=32 budget=total budget-scope=layer"
    shapes = {"a": LayerShape(64, 64), "b": LayerShape(48, 172)}
    assert targets == {n: pooled_layer_total(s, rate, 32) for n, s in shapes.items()}
    assert sum(targets[n] * s.m * s.n for n, s in shapes.items()) <= 3 * (64 * 64 + 48 * 172)


def _mix_problem():
    rng = np.random.default_rng(0)
    weights = {"big": rng.standard_normal((64, 128)).astype(np.float32),
               "small": rng.standard_normal((64, 64)).astype(np.float32)}
    hessians = {n: np.eye(w.shape[1]) for n, w in weights.items()}
    energy = {n: float((w.astype(np.float64) ** 2).sum()) for n, w in weights.items()}
    return weights, hessians, energy


def test_mix_spends_the_budget_where_relative_loss_falls_most():
    weights, hessians, energy = _mix_problem()
    # One layer-bit of slack on top of 2 bits everywhere: "big"'s next bit gains more
    # per stored bit but does not fit; "small"'s does, and is taken.
    losses = {b: {"big": energy["big"] * 4.0 ** -b, "small": energy["small"] * 16.0 ** -b}
              for b in (1, 2, 3, 4)}
    total_w = sum(w.size for w in weights.values())
    two = sum(layer_bits(2 * w.shape[1], LayerShape(*w.shape)) for w in weights.values())
    bits = choose_mix(weights, hessians, losses, (two + 64 * 64) / total_w)
    assert bits == {"big": 2, "small": 3}
    # With room for both, "big" (the larger gain per bit) is raised first.
    assert choose_mix(weights, hessians, losses, (two + 64 * 128) / total_w) == \
        {"big": 3, "small": 2}
    # The budget holds.
    spent = sum(layer_bits(b * weights[n].shape[1], LayerShape(*weights[n].shape))
                for n, b in bits.items())
    assert spent <= two + 64 * 64


def test_mix_starts_from_the_widest_uniform_layout():
    weights, hessians, energy = _mix_problem()
    # Whatever the losses say, no layer drops below the uniform width that fits.
    losses = {b: {"big": energy["big"] * 2.0 ** -b, "small": energy["small"] * 64.0 ** -b}
              for b in (1, 2, 3, 4)}
    three = sum(layer_bits(3 * w.shape[1], LayerShape(*w.shape)) for w in weights.values())
    total_w = sum(w.size for w in weights.values())
    bits = choose_mix(weights, hessians, losses, (three + 64 * 64) / total_w)
    assert min(bits.values()) == 3 and bits == {"big": 3, "small": 4}


def test_mix_refuses_budgets_below_its_lowest_candidate():
    weights, hessians, energy = _mix_problem()
    losses = {b: {n: 1.0 for n in weights} for b in (2, 3)}
    with pytest.raises(ValueError, match="already costs"):
        choose_mix(weights, hessians, losses, 1.0)


def test_mix_options_and_candidates():
    assert mix_options("target-bits=2.47 budget=total act-order=false") == (
        "act-order=false uniform=true budget=payload", 2.47)
    with pytest.raises(ValueError, match="budget=total"):
        mix_options("target-bits=2.47")
    assert mix_candidates(2.47) == [1, 2, 3, 4]
    assert mix_candidates(3.47) == [2, 3, 4, 5]
