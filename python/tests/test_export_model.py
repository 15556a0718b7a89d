"""The whole-model export (baq.export_model): contents, options and input errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from baq import export_model
from baq.export import collect_hessians, hessian_key
from baq.llama2c import Config, Transformer, random_checkpoint
from baq.mlir import parse_resources

CFG = Config(dim=16, hidden_dim=24, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=300,
             seq_len=32)


@pytest.fixture(scope="module")
def ckpt():
    return random_checkpoint(CFG, seed=3)


def test_weights_tables_and_hessians_are_the_checkpoints(ckpt) -> None:
    windows = list(np.random.default_rng(0).integers(0, CFG.vocab_size, size=(3, 32)))
    H = collect_hessians(ckpt, windows)
    text = export_model.build_model_module(ckpt, H, prefill=8)
    res = parse_resources(text)
    for name in CFG.linear_names():
        np.testing.assert_array_equal(
            np.frombuffer(res[name], "<f4").reshape(ckpt.linear(name).shape), ckpt.linear(name))
        key = hessian_key(name)
        np.testing.assert_array_equal(np.frombuffer(res[key], "<f4"),
                                      H[key].astype(np.float32).ravel())
    cos, sin = Transformer(ckpt)._rope(CFG.seq_len)
    np.testing.assert_array_equal(np.frombuffer(res["rope_cos"], "<f4").reshape(cos.shape), cos)
    np.testing.assert_array_equal(np.frombuffer(res["rope_sin"], "<f4").reshape(sin.shape), sin)
    np.testing.assert_array_equal(np.frombuffer(res["token_embedding"], "<f4"),
                                  ckpt.wcls.ravel())
    assert "func.func @forward(%tokens: tensor<1xi32>" in text
    assert "func.func @prefill(%tokens: tensor<8xi32>" in text
    # 7 projections per layer per function carry a Hessian; the classifier does not.
    assert text.count("baq.hessian") == 2 * 7 * CFG.n_layers


def test_hessians_file_mode_leaves_hessians_out(ckpt, tmp_path) -> None:
    out, side = tmp_path / "m.mlir", tmp_path / "h.safetensors"
    assert export_model.main(["--emit", "synthetic", "--windows", "2", "--prefill", "1",
                              "--hessians-file", str(side), "-q", "-o", str(out)]) == 0
    text = out.read_text()
    assert "baq.hessian" not in text and "func.func @prefill" not in text
    assert side.stat().st_size > 0


def test_bad_inputs(ckpt) -> None:
    with pytest.raises(ValueError, match="prefill window 64 exceeds seq_len 32"):
        export_model.build_model_module(ckpt, None, prefill=64)
    unshared = dataclasses.replace(ckpt, config=dataclasses.replace(
        CFG, shared_classifier=False))
    with pytest.raises(ValueError, match="separate classifier"):
        export_model.build_model_module(unshared, None, prefill=1)
