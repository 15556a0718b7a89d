"""Hugging Face Llama checkpoints (baq.hf): safetensors through mmap, F32/F16/BF16, shards,
the q/k rotary permutation, and the same model as the llama2.c path (logits, modules)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from baq import eval as baq_eval
from baq import export, export_model, hf
from baq.calibrate import SafetensorsError
from baq.cli import run
from baq.export import synthetic_tokenizer
from baq.llama2c import (Checkpoint, CheckpointError, Config, LayerStack, Transformer,
                         parse_checkpoint, random_checkpoint, read_checkpoint, rope_table)

GQA = Config(dim=32, hidden_dim=48, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=300,
             seq_len=32)
TOKENS = np.array([1, 5, 77, 3, 250, 9, 14, 299, 42, 7, 8, 100])


def _rounded(ckpt: Checkpoint, dtype: str) -> Checkpoint:
    """``ckpt`` with every tensor rounded as a ``dtype`` checkpoint stores it."""
    def r(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, np.float32)
        if dtype == "F16":
            return a.astype(np.float16).astype(np.float32)
        if dtype == "BF16":
            return hf.to_float32("BF16", hf.bf16_bits(a))
        return a
    return Checkpoint(ckpt.config, {k: r(v) for k, v in ckpt.tensors.items()})


def _same_tensors(a: Checkpoint, b: Checkpoint) -> None:
    assert a.config == b.config
    for name, _ in a.config.tensor_layout():
        if not name.startswith("freq_cis"):
            np.testing.assert_array_equal(np.asarray(a.tensors[name]),
                                          np.asarray(b.tensors[name]), err_msg=name)


def test_permutation_is_hf_rotate_half() -> None:
    """HF's permuted q/k with rotate-half RoPE give the same attention scores as llama2.c's
    rows with pairwise RoPE, and unpermute_hf inverts permute_hf."""
    cfg = GQA
    rng = np.random.default_rng(0)
    hs, T = cfg.head_size, 6
    wq = rng.standard_normal((cfg.dim, cfg.dim)).astype(np.float32)
    wk = rng.standard_normal((cfg.kv_dim, cfg.dim)).astype(np.float32)
    x = rng.standard_normal((T, cfg.dim)).astype(np.float32)
    np.testing.assert_array_equal(hf.unpermute_hf(hf.permute_hf(wq, cfg.n_heads), cfg.n_heads),
                                  wq)
    cos, sin = rope_table(cfg, T, np.float64)  # [T, dim/2], frequency i % (hs/2) per head

    def meta(w: np.ndarray, heads: int) -> np.ndarray:  # pairs (2i, 2i+1)
        v = (x.astype(np.float64) @ w.T.astype(np.float64)).reshape(T, heads, hs)
        c, s = cos[:, :hs // 2, None].transpose(0, 2, 1), sin[:, :hs // 2, None].transpose(0, 2, 1)
        out = np.empty_like(v)
        out[..., 0::2] = v[..., 0::2] * c - v[..., 1::2] * s
        out[..., 1::2] = v[..., 0::2] * s + v[..., 1::2] * c
        return out

    def hf_rope(w: np.ndarray, heads: int) -> np.ndarray:  # transformers' rotate_half
        v = (x.astype(np.float64) @ w.T.astype(np.float64)).reshape(T, heads, hs)
        c = np.concatenate([cos[:, :hs // 2]] * 2, axis=1)[:, None, :]
        s = np.concatenate([sin[:, :hs // 2]] * 2, axis=1)[:, None, :]
        rot = np.concatenate([-v[..., hs // 2:], v[..., :hs // 2]], axis=-1)
        return v * c + rot * s

    q_m, k_m = meta(wq, cfg.n_heads), meta(wk, cfg.n_kv_heads)
    q_h = hf_rope(hf.permute_hf(wq, cfg.n_heads), cfg.n_heads)
    k_h = hf_rope(hf.permute_hf(wk, cfg.n_kv_heads), cfg.n_kv_heads)
    group = cfg.n_heads // cfg.n_kv_heads
    for h in range(cfg.n_heads):
        np.testing.assert_allclose(q_h[:, h] @ k_h[:, h // group].T,
                                   q_m[:, h] @ k_m[:, h // group].T, rtol=1e-10, atol=1e-9)


def test_bf16_rounding() -> None:
    x = np.array([1.0, -2.5, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, 3.0e38, 1e-40, np.inf],
                 np.float32)
    bits = hf.bf16_bits(x)
    # 1 + 2^-8 is a tie: to even (1.0); 1 + 3*2^-8 rounds up to 1 + 2^-6.
    assert [hex(b) for b in bits[:4]] == ["0x3f80", "0xc020", "0x3f80", "0x3f82"]
    back = hf.to_float32("BF16", bits)
    np.testing.assert_array_equal(hf.to_float32("BF16", hf.bf16_bits(back)), back)
    assert np.isinf(back[-1]) and np.isnan(hf.to_float32("BF16", hf.bf16_bits(
        np.array([np.nan], np.float32))))[0]


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("dtype,shards", [("F32", 1), ("F32", 3), ("F16", 1), ("BF16", 2)])
def test_synthetic_roundtrip(tmp_path, shared, dtype, shards) -> None:
    ck = random_checkpoint(dataclasses.replace(GQA, shared_classifier=shared), seed=4)
    hf.write_hf_checkpoint(ck, tmp_path, dtype, shards)
    assert (tmp_path / "model.safetensors.index.json").is_file() == (shards > 1)
    back = read_checkpoint(tmp_path)
    assert isinstance(back.tensors["wq"], LayerStack)
    want = _rounded(ck, dtype)
    _same_tensors(back, want)
    np.testing.assert_array_equal(Transformer(back).forward(TOKENS),
                                  Transformer(want).forward(TOKENS))
    _same_tensors(parse_checkpoint(back.to_bytes()), want)  # HF -> llama2.c .bin


def test_stories260k_in_hf_layout(tmp_path, stories260k) -> None:
    """stories260K written as HF checkpoints (q/k permuted): identical logits to the llama2.c
    path for F32 (single file and sharded), and to the rounded model for F16/BF16; the
    exported whole-model module is byte-identical for F32."""
    ckpt, _ = stories260k
    ref = Transformer(ckpt).forward(TOKENS)
    for dtype, shards in (("F32", 1), ("F32", 3), ("F16", 1), ("BF16", 2)):
        d = tmp_path / f"{dtype}-{shards}"
        hf.write_hf_checkpoint(ckpt, d, dtype, shards)
        got = Transformer(read_checkpoint(d)).forward(TOKENS)
        if dtype == "F32":
            np.testing.assert_array_equal(got, ref)
        else:
            np.testing.assert_array_equal(got, Transformer(_rounded(ckpt, dtype)).forward(TOKENS))
            assert np.abs(got - ref).max() < 0.05 * np.abs(ref).max()
    assert export_model.build_model_module(read_checkpoint(tmp_path / "F32-3"), None, 8) == \
        export_model.build_model_module(ckpt, None, 8)


@pytest.mark.parametrize("shared", [True, False])
def test_cli_tools_take_hf_directories(tmp_path, capsys, shared) -> None:
    """baq-export-model, baq-export and baq-eval on a HF directory give what the .bin gives,
    with a tied or a separate classifier (lm_head / llama2.c's wcls)."""
    ck = random_checkpoint(dataclasses.replace(GQA, shared_classifier=shared), seed=2)
    ck.save(tmp_path / "m.bin")
    hf.write_hf_checkpoint(ck, tmp_path / "hf")
    (tmp_path / "tok.bin").write_bytes(synthetic_tokenizer(GQA.vocab_size).to_bytes())
    (tmp_path / "calib.txt").write_text("the cat sat on the mat. the end.\n" * 40)
    outs = []
    for src in ("m.bin", "hf"):
        out = tmp_path / f"{src}.mlir"
        assert export_model.main(["--checkpoint", str(tmp_path / src), "--tokenizer",
                                  str(tmp_path / "tok.bin"), "--calib",
                                  str(tmp_path / "calib.txt"), "--window-len", "16",
                                  "--prefill", "4", "-q", "-o", str(out)]) == 0
        outs.append(out.read_bytes())
        mod = tmp_path / f"{src}.layers.mlir"
        assert export.main(["--checkpoint", str(tmp_path / src), "--tokenizer",
                            str(tmp_path / "tok.bin"), "--no-hessian", "-q", "-o",
                            str(mod)]) == 0
        assert baq_eval.main(["--checkpoint", str(tmp_path / src), "--tokenizer",
                              str(tmp_path / "tok.bin"), "--text", str(tmp_path / "calib.txt"),
                              "--window-len", "16", "-q", str(mod)]) == 0
    assert outs[0] == outs[1]
    assert b"baq.hessian = dense_resource<classifier_hessian>" in outs[0]
    printed = capsys.readouterr().out.split("perplexity: ")
    assert len(printed) == 3 and printed[1] == printed[2]


def _hf_dir(tmp_path, **config) -> "object":
    hf.write_hf_checkpoint(random_checkpoint(GQA, seed=1), tmp_path)
    if config:
        cfg = json.loads((tmp_path / "config.json").read_text())
        cfg.update(config)
        (tmp_path / "config.json").write_text(json.dumps(cfg))
    return tmp_path


@pytest.mark.parametrize("config,message", [
    ({"rope_theta": 500000.0}, "rope_theta 500000.0 \\(10000 only\\)"),
    ({"rms_norm_eps": 1e-6}, "rms_norm_eps"),
    ({"model_type": "mistral"}, "only Llama"),
    ({"hidden_size": 0}, "hidden_size = 0 is missing or implausible"),
    ({"num_key_value_heads": 3}, "do not form a Llama attention"),
    ({"intermediate_size": 50}, "mlp.gate_proj.weight has shape \\[48, 32\\], config.json "
                                "implies \\[50, 32\\]"),
    ({"tie_word_embeddings": False}, "lm_head.weight is missing"),
])
def test_config_errors(tmp_path, config, message) -> None:
    with pytest.raises(CheckpointError, match=message):
        read_checkpoint(_hf_dir(tmp_path, **config))


def test_file_errors(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="needs config.json"):
        read_checkpoint(tmp_path)
    d = _hf_dir(tmp_path)
    st = d / "model.safetensors"
    raw = st.read_bytes()
    st.write_bytes(raw[:-4])
    with pytest.raises(SafetensorsError, match="outside the"):
        read_checkpoint(d)
    hsize = int.from_bytes(raw[:8], "little")
    st.write_bytes(raw[:8] + raw[8:8 + hsize].replace(b'"F32"', b'"I8 "', 1) + raw[8 + hsize:])
    with pytest.raises(SafetensorsError, match="dtype 'I8 ' is not one of F32, F16, BF16"):
        read_checkpoint(d)
    st.unlink()
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        read_checkpoint(d)
    (d / "model.safetensors.index.json").write_text(json.dumps(
        {"weight_map": {"model.norm.weight": "model-00001-of-00002.safetensors"}}))
    with pytest.raises(CheckpointError, match="shard model-00001-of-00002.safetensors is "
                                              "missing"):
        read_checkpoint(d)


def test_cli_error_is_one_line(tmp_path, capsys) -> None:
    d = _hf_dir(tmp_path, rope_theta=1e6)
    assert run("baq-export-model", export_model.main,
               ["--checkpoint", str(d), "--no-hessian", "-o", str(tmp_path / "o.mlir")]) == 2
    assert not (tmp_path / "o.mlir").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rope_theta" in err[0] and err[0].startswith(
        "baq-export-model: error:")
