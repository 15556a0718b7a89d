"""The whole-model export (baq.export_model): contents, options and input errors."""

from __future__ import annotations

import dataclasses
import io
import math
import subprocess

import numpy as np
import pytest
from conftest import baq_opt

from baq import eval as baq_eval
from baq import export_model
from baq.budget import pooled_options
from baq.calibrate import read_safetensors
from baq.export import HEAD_HESSIAN, collect_hessians, hessian_key, layer_hessians
from baq.llama2c import (CLASSIFIER, Config, Tokenizer, Transformer, random_checkpoint,
                         read_checkpoint, token_stream)
from baq.packed import read_module
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


WINDOWS = list(np.random.default_rng(5).integers(0, CFG.vocab_size, size=(3, 32)))


def _head_input(ckpt) -> np.ndarray:
    """The classifier's input (the final RMSNorm's output) over WINDOWS, [n, dim]."""
    return Transformer(ckpt).forward(np.stack(WINDOWS), logits=False).reshape(-1, CFG.dim)


@pytest.mark.parametrize("shared", [True, False])
def test_classifier_is_a_calibrated_projection(ckpt, shared) -> None:
    """With calibration the classifier reads its own global (a copy of a tied embedding, or
    the separate wcls) and carries the Hessian of the final norm's output; the embedding
    gather keeps reading token_embedding."""
    if not shared:
        t = dict(ckpt.tensors, wcls=np.random.default_rng(9).standard_normal(
            (CFG.vocab_size, CFG.dim)).astype(np.float32))
        ckpt = dataclasses.replace(ckpt, config=dataclasses.replace(
            CFG, shared_classifier=False), tensors=t)
    H = collect_hessians(ckpt, WINDOWS, head=True)
    x = _head_input(ckpt).astype(np.float64)
    np.testing.assert_allclose(H[HEAD_HESSIAN], 2.0 / len(x) * x.T @ x, rtol=1e-6, atol=1e-9)
    text = export_model.build_model_module(ckpt, H, prefill=8)
    res = parse_resources(text)
    np.testing.assert_array_equal(np.frombuffer(res["classifier"], "<f4"), ckpt.wcls.ravel())
    np.testing.assert_array_equal(np.frombuffer(res["token_embedding"], "<f4"),
                                  ckpt.tensors["token_embedding"].ravel())
    np.testing.assert_array_equal(np.frombuffer(res[HEAD_HESSIAN], "<f4"),
                                  H[HEAD_HESSIAN].astype(np.float32).ravel())
    assert text.count(f"baq.hessian = dense_resource<{HEAD_HESSIAN}> : "
                      f"tensor<{CFG.dim}x{CFG.dim}xf32>") == 2
    assert text.count("memref.get_global @classifier ") == 2
    assert text.count("baq.hessian") == 2 * (7 * CFG.n_layers + 1)
    # Without the head's Hessian (--fp32-head): a separate classifier keeps its global,
    # a tied one reads the embedding, no Hessian either way.
    del H[HEAD_HESSIAN]
    fp32 = export_model.build_model_module(ckpt, H, prefill=8)
    assert ("@classifier" in fp32) == (not shared) and HEAD_HESSIAN not in fp32
    assert fp32.count("baq.hessian") == 2 * 7 * CFG.n_layers
    if not shared:  # a separate classifier is exported even without Hessians
        nh = parse_resources(export_model.build_model_module(ckpt, None, prefill=1))
        np.testing.assert_array_equal(np.frombuffer(nh["classifier"], "<f4"), ckpt.wcls.ravel())


def test_streamed_hessians_equal_mapping(ckpt) -> None:
    """The module written while the Hessians are computed block by block is the module of
    the precomputed Hessians, byte for byte."""
    H = collect_hessians(ckpt, WINDOWS, head=True)
    streamed = io.BytesIO()
    export_model.write_model_module(streamed, ckpt, layer_hessians(ckpt, WINDOWS, head=True),
                                    prefill=8, head_hessian=True)
    assert streamed.getvalue().decode() == export_model.build_model_module(ckpt, H, prefill=8)


def test_hessians_file_holds_the_head(tmp_path) -> None:
    out, side = tmp_path / "m.mlir", tmp_path / "h.safetensors"
    ck = tmp_path / "m.bin"
    assert export_model.main(["--emit", "synthetic", "--windows", "2", "--prefill", "1",
                              "--synthetic-checkpoint", str(ck), "--hessians-file", str(side),
                              "-q", "-o", str(out)]) == 0
    text = out.read_text()
    assert "baq.hessian" not in text and "memref.get_global @classifier " in text
    got = read_safetensors(side)
    model = read_checkpoint(ck)
    assert list(got) == model.config.linear_names() + ["classifier"]
    assert got["classifier"].shape == (model.config.dim, model.config.dim)
    np.testing.assert_array_equal(got["blk0_wq"], got["blk0_wk"])


def test_quantized_head_is_pooled_and_evaluated(tmp_path) -> None:
    """baq-opt --baq-allocate quantizes the calibrated classifier with the other projections
    under one pooled budget (the rate baq.budget computes over all 15 matmuls, the head
    included), and baq.eval substitutes and counts it."""
    opt = baq_opt()
    mod, ck, tok = tmp_path / "m.mlir", tmp_path / "m.bin", tmp_path / "tok.bin"
    assert export_model.main(["--emit", "synthetic", "--windows", "4", "--prefill", "1",
                              "--synthetic-checkpoint", str(ck), "--synthetic-tokenizer",
                              str(tok), "-q", "-o", str(mod)]) == 0
    q = tmp_path / "q.mlir"
    options = "target-bits=2.5 budget=total"
    subprocess.run([str(opt), str(mod), f"--baq-allocate={options} progress=false", "-o",
                    str(q)], check=True, capture_output=True)
    model = read_checkpoint(ck)
    names = set(model.config.linear_names()) | {CLASSIFIER}
    got = {n: w for n, w in baq_eval.linear_weights_by_name(read_module(q), names).items()
           if n in names}
    assert set(got) == names and all(w.layout is not None for w in got.values())
    fp32 = {n: model.wcls if n == CLASSIFIER else model.linear(n) for n in names}
    _, rate, _ = pooled_options(options, fp32)
    for n, w in got.items():
        assert int(w.layout.bits.sum()) == math.floor(rate * w.shape[1] + 1e-9), n
    text = tmp_path / "dev.txt"
    text.write_text("the cat and the dog ran. the end.\n" * 30)
    res = baq_eval.evaluate_module(model, token_stream(text.read_text(), Tokenizer.load(
        tok, model.config.vocab_size)), q, window_len=32)
    assert res["layers"] == res["quantized_layers"] == 15
    assert res["total_bits"] <= 2.5
