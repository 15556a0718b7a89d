"""Calibration Hessians and the exported MLIR contract."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from conftest import MLIR_OPT, mlir_opt

from baq import export
from baq.export import HessianAccumulator, build_module, collect_hessians, hessian_key
from baq.llama2c import Config, Transformer, random_checkpoint
from baq.mlir import parse_elements, parse_resources
from baq.packed import parse_module

CFG = Config(dim=16, hidden_dim=24, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=300,
             seq_len=32)


@pytest.fixture(scope="module")
def calibrated():
    ck = random_checkpoint(CFG, seed=5)
    rng = np.random.default_rng(0)
    windows = list(rng.integers(0, CFG.vocab_size, size=(5, 32)))
    return ck, windows, collect_hessians(ck, windows, batch=2)


def test_hessian_keys_shape_symmetry_psd(calibrated) -> None:
    ck, windows, H = calibrated
    assert set(H) == {f"blk{l}_{k}_hessian" for l in range(2) for k in ("attn", "ffn", "wo", "w2")}
    for name in CFG.linear_names():
        h = H[hessian_key(name)]
        n_in = ck.linear(name).shape[1]
        assert h.shape == (n_in, n_in) and h.dtype == np.float64
        np.testing.assert_array_equal(h, h.T)
        ev = np.linalg.eigvalsh(h)
        assert ev.min() >= -1e-10 * ev.max()
        assert np.all(np.diag(h) > 0)
    assert hessian_key("blk1_wk") == hessian_key("blk1_wv") == "blk1_attn_hessian"
    assert hessian_key("blk0_w3") == "blk0_ffn_hessian"


def test_hessian_is_2_over_n_xxt(calibrated) -> None:
    """H equals 2/n X^T X of the actual layer inputs, over all n token vectors."""
    ck, windows, H = calibrated
    xs: dict[str, list[np.ndarray]] = {}
    Transformer(ck).forward(np.stack(windows), hook=lambda n, x: xs.setdefault(n, []).append(x))
    for name in ("blk0_wq", "blk1_w2", "blk1_wo", "blk0_w1"):
        X = np.concatenate(xs[name]).astype(np.float64)
        assert X.shape[0] == 5 * 32
        np.testing.assert_allclose(H[hessian_key(name)], 2.0 / X.shape[0] * X.T @ X, rtol=1e-12)
    acc = HessianAccumulator()
    acc("blk0_wk", np.ones((3, 16)))  # non-representative: ignored (shares wq's input)
    assert not acc.sums


def test_module_text_contract(calibrated, tmp_path) -> None:
    ck, _, H = calibrated
    text = build_module(ck, H)
    funcs = re.findall(r"func\.func @(\w+)\(%x: tensor<1x(\d+)xf32>\) -> tensor<1x(\d+)xf32>",
                       text)
    assert [f[0] for f in funcs] == CFG.linear_names()
    for name, n, m in funcs:
        assert ck.linear(name).shape == (int(m), int(n))
        assert f"arith.constant dense_resource<{name}> : tensor<{m}x{n}xf32>" in text
    assert text.count("linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, "
                      "affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> "
                      "(d0, d1)>] {baq.hessian = dense_resource<") == 14
    assert "baq.hessian = dense_resource<blk1_attn_hessian> : tensor<16x16xf32>" in text
    assert "baq.hessian = dense_resource<blk0_w2_hessian> : tensor<24x24xf32>" in text
    assert "token_embedding" not in text and "wcls" not in text
    res = parse_resources(text)
    assert len(res) == 14 + 8  # weights + distinct Hessians
    assert all(text.count(f"  {k}: \"0x04000000") == 1 for k in res)
    h = parse_elements("dense_resource<blk1_ffn_hessian>", (16, 16), "f32", res)
    np.testing.assert_array_equal(h, H["blk1_ffn_hessian"].astype(np.float32))
    for name, lw in parse_module(text).items():
        np.testing.assert_array_equal(lw.weight, ck.linear(name))


@pytest.mark.skipif(not MLIR_OPT.is_file(), reason="mlir-opt not installed")
def test_mlir_opt_parses_export(tmp_path) -> None:
    out = tmp_path / "syn.mlir"
    assert export.main(["--emit", "synthetic", "--windows", "4", "-q", "-o", str(out)]) == 0
    p = subprocess.run([str(mlir_opt()), "--allow-unregistered-dialect", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("linalg.matmul") == 14
    # the reader also copes with what mlir-opt prints (aliases, renamed values)
    a, b = parse_module(out.read_text()), parse_module(p.stdout)
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k].weight, b[k].weight)


def test_hessians_file_matches_embedded(tmp_path) -> None:
    """--hessians-file + baq-opt --baq-attach-hessians quantizes exactly like the embedded
    Hessians (same values, attached by weight name)."""
    from conftest import baq_opt
    opt = baq_opt()
    embedded, bare, st = tmp_path / "e.mlir", tmp_path / "b.mlir", tmp_path / "h.safetensors"
    common = ["--emit", "synthetic", "--windows", "4", "-q"]
    assert export.main(common + ["-o", str(embedded)]) == 0
    assert export.main(common + ["--hessians-file", str(st), "-o", str(bare)]) == 0
    assert "baq.hessian" not in bare.read_text()
    allocate = "--baq-allocate=target-bits=2.5 progress=false"
    a = subprocess.run([str(opt), str(embedded), allocate], check=True, capture_output=True).stdout
    b = subprocess.run([str(opt), str(bare), f"--baq-attach-hessians=file={st}", allocate],
                       check=True, capture_output=True).stdout
    assert b"baq.bits" in a and a == b
