"""bench/llamacpp/gguf_model.py: the synthetic model as a llama.cpp GGUF.

Names, shapes and vocabulary types need nothing of llama.cpp; the round trip through
gguf-py runs when it is importable (installed, or ``LLAMA_CPP_DIR`` names a llama.cpp source
tree) and is skipped otherwise: CI does not depend on llama.cpp.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench" / "llamacpp"))

import gguf_model  # noqa: E402

from baq.export import synthetic_tokenizer  # noqa: E402
from baq.llama2c import Config, random_checkpoint  # noqa: E402


def tiny():
    cfg = Config(dim=64, hidden_dim=96, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=300,
                 seq_len=16)
    return random_checkpoint(cfg, seed=3), synthetic_tokenizer(300)


def test_synthetic_config_is_bench_models():
    cfg = gguf_model.synthetic_config()
    assert (cfg.dim, cfg.hidden_dim, cfg.n_layers, cfg.n_heads, cfg.n_kv_heads,
            cfg.vocab_size, cfg.seq_len) == (1024, 2816, 8, 16, 16, 512, 256)
    # Seed 0 like bench/model/run.py: the same weights.
    a = gguf_model.synthetic_checkpoint(128, 1, 16)
    b = random_checkpoint(gguf_model.synthetic_config(128, 1, 16), seed=0)
    np.testing.assert_array_equal(a.tensors["wq"], b.tensors["wq"])


def test_tensor_names_shapes_and_no_permutation():
    ckpt, _ = tiny()
    t = gguf_model.tensors(ckpt)
    cfg = ckpt.config
    want = {"token_embd.weight", "output_norm.weight"}
    for l in range(cfg.n_layers):
        want |= {f"blk.{l}.{n}.weight" for n in
                 ("attn_norm", "ffn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                  "ffn_gate", "ffn_down", "ffn_up")}
    assert set(t) == want  # shared classifier: no output.weight (llama.cpp ties it)
    assert t["blk.1.attn_k.weight"].shape == (cfg.kv_dim, cfg.dim)
    assert t["blk.0.ffn_down.weight"].shape == (cfg.dim, cfg.hidden_dim)
    # llama2.c rotates adjacent pairs like llama.cpp's arch llama: q/k rows unpermuted.
    np.testing.assert_array_equal(t["blk.1.attn_q.weight"], ckpt.tensors["wq"][1])
    np.testing.assert_array_equal(t["blk.1.attn_k.weight"], ckpt.tensors["wk"][1])
    np.testing.assert_array_equal(t["blk.0.ffn_gate.weight"], ckpt.tensors["w1"][0])
    np.testing.assert_array_equal(t["blk.0.ffn_up.weight"], ckpt.tensors["w3"][0])


def test_unshared_classifier_is_written():
    ckpt, _ = tiny()
    cfg = Config(**{**ckpt.config.__dict__, "shared_classifier": False})
    t = gguf_model.tensors(random_checkpoint(cfg, seed=1))
    assert t["output.weight"].shape == (cfg.vocab_size, cfg.dim)


def test_spm_vocab():
    _, tok = tiny()
    pieces, scores, types = gguf_model.spm_vocab(tok)
    assert len(pieces) == len(scores) == len(types) == 300
    assert types[:3] == [2, 3, 3]  # unknown, BOS and EOS are control tokens
    assert pieces[3 + 0x41] == b"<0x41>" and types[3 + 0x41] == 6
    assert all(t == 6 for t in types[3:259])
    i = tok.vocab.index(b" a")
    assert pieces[i] == "\u2581a".encode() and types[i] == 1


def test_vocab_size_mismatch_is_an_error(tmp_path):
    ckpt, _ = tiny()
    with pytest.raises(ValueError, match="tokenizer has 290 tokens, model 300"):
        gguf_model.write_gguf(ckpt, synthetic_tokenizer(290), tmp_path / "x.gguf", None, "x")


def _gguf():
    src = os.environ.get("LLAMA_CPP_DIR")
    if importlib.util.find_spec("gguf") is None and not (
            src and os.path.isdir(os.path.join(src, "gguf-py"))):
        pytest.skip("gguf-py not importable (pip install gguf, or LLAMA_CPP_DIR=<llama.cpp>)")
    return gguf_model.import_gguf(src if importlib.util.find_spec("gguf") is None else None)


def test_gguf_round_trip(tmp_path):
    gguf = _gguf()
    ckpt, tok = tiny()
    path = tmp_path / "tiny.gguf"
    gguf_model.write_gguf(ckpt, tok, path, gguf, "tiny")
    r = gguf.GGUFReader(str(path))
    cfg = ckpt.config

    def field(key):
        f = r.fields[key]
        return f.parts[f.data[0]]

    assert bytes(field("general.architecture")) == b"llama"
    assert int(field("llama.rope.dimension_count")[0]) == cfg.head_size
    assert int(field("llama.attention.head_count_kv")[0]) == cfg.n_kv_heads
    assert bytes(field("tokenizer.ggml.model")) == b"llama"
    tensors = {t.name: t for t in r.tensors}
    q = tensors["blk.1.attn_q.weight"]
    # GGUF stores ne = [in, out]: llama.cpp's matmul layout; the data is the [out, in] rows.
    assert [int(x) for x in q.shape] == [cfg.dim, cfg.dim]
    k = tensors["blk.0.attn_k.weight"]
    assert [int(x) for x in k.shape] == [cfg.dim, cfg.kv_dim]
    np.testing.assert_array_equal(np.asarray(k.data).reshape(cfg.kv_dim, cfg.dim),
                                  ckpt.tensors["wk"][0])
    assert tensors["token_embd.weight"].tensor_type == gguf.GGMLQuantizationType.F32
