"""llama2.c reader, tokenizer and forward pass against llama2.c's own behaviour."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from conftest import data_file

from baq.export import SYNTHETIC_CONFIG, synthetic_tokenizer
from baq.llama2c import (BOS_ID, CheckpointError, Config, Tokenizer, Transformer, cut_windows,
                         parse_checkpoint, perplexity, random_checkpoint, split_stories,
                         token_stream)


def naive_encode(tok: Tokenizer, text: bytes, bos: bool = True) -> list[int]:
    """A literal transcription of run.c encode() (quadratic rescans), to check the fast one."""
    tokens = [BOS_ID] if bos else []
    if text:
        tokens.append(tok.vocab.index(b" "))
    buf = b""
    for i, c in enumerate(text):
        if c & 0xC0 != 0x80:
            buf = b""
        buf += bytes([c])
        nxt = text[i + 1] if i + 1 < len(text) else 0
        if nxt & 0xC0 == 0x80 and len(buf) < 4:
            continue
        if buf in tok.vocab:
            tokens.append(tok.vocab.index(buf))
        else:
            tokens.extend(b + 3 for b in buf)
        buf = b""
    while True:
        best, best_id, best_idx = -1e10, -1, -1
        for i in range(len(tokens) - 1):
            s = tok.vocab[tokens[i]] + tok.vocab[tokens[i + 1]]
            if s in tok.vocab:
                tid = tok.vocab.index(s)
                if tok.scores[tid] > best:
                    best, best_id, best_idx = tok.scores[tid], tid, i
        if best_idx == -1:
            return tokens
        tokens[best_idx] = best_id
        del tokens[best_idx + 1]


SAMPLES = ["", "a", "Hello world", "  two  spaces\nnewline", "the theathe andthe",
           "curly ‘quotes’ “and” dashes – —", "emoji 🙂 and é", "tab\tend."]


@pytest.mark.parametrize("text", SAMPLES)
def test_encode_matches_runc_synthetic(text: str) -> None:
    tok = synthetic_tokenizer(SYNTHETIC_CONFIG.vocab_size)
    assert tok.encode(text) == naive_encode(tok, text.encode())


def test_encode_matches_runc_tok512(stories260k) -> None:
    _, tok = stories260k
    text = data_file("tinystories-dev.txt").read_text(encoding="utf-8")
    stories = split_stories(text)[:3] + SAMPLES
    for s in stories:
        assert tok.encode(s) == naive_encode(tok, s.encode()), s[:40]
    # invalid UTF-8 goes through the byte loop exactly like run.c
    raw = b"caf\xc3\xa9 \xff\xfe bad \xe2\x80"
    assert tok.encode(raw) == naive_encode(tok, raw)


def test_tokenizer_roundtrip(stories260k) -> None:
    _, tok = stories260k
    s = "Once upon a time, Lily said “hi” — and left.\nThe end."
    ids = tok.encode(s)
    assert ids[0] == BOS_ID
    assert tok.decode(ids[1:]) == s


def test_greedy_reference(stories260k) -> None:
    """llama2.c run.c, temperature 0, 200 steps from BOS: exact text and first ids."""
    ckpt, tok = stories260k
    ref = data_file("stories260K-greedy-reference.txt").read_text(encoding="utf-8")
    header = [l for l in ref.splitlines() if l.startswith("#")]
    body = "".join(l for l in ref.splitlines(True) if not l.startswith("#"))
    first_ids = eval(next(l for l in header if "token ids" in l).split(":", 1)[1])
    out = Transformer(ckpt).generate_greedy(200)
    assert out[:30] == first_ids
    assert len(out) == 200
    assert tok.decode(out) + "\n" == body  # run.c prints a newline after generation


def test_stories260k_header(stories260k) -> None:
    ckpt, _ = stories260k
    c = ckpt.config
    assert (c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size,
            c.seq_len) == (64, 172, 5, 8, 4, 512, 512)
    assert c.shared_classifier and ckpt.wcls is ckpt.tensors["token_embedding"]
    assert ckpt.linear("blk4_w2").shape == (64, 172)


def test_dev_perplexity(stories260k) -> None:
    """BRIEF §5 protocol on the dev text; the brief quotes FP32 4.45."""
    ckpt, tok = stories260k
    stream = token_stream(data_file("tinystories-dev.txt").read_text(encoding="utf-8"), tok)
    r = perplexity(Transformer(ckpt), stream, 512)
    assert r.n_windows == len(cut_windows(stream, 512)) == 155
    assert r.n_predicted == len(stream) - r.n_windows
    assert r.perplexity == pytest.approx(4.4544, abs=2e-3)


def _tiny() -> Config:
    return Config(dim=16, hidden_dim=24, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=300,
                  seq_len=32)


def test_checkpoint_roundtrip_and_errors() -> None:
    for shared in (True, False):
        cfg = Config(**{**_tiny().__dict__, "shared_classifier": shared})
        ck = random_checkpoint(cfg, seed=3)
        data = ck.to_bytes()
        assert struct.unpack_from("<i", data, 20)[0] == (300 if shared else -300)
        back = parse_checkpoint(data)
        assert back.config == cfg
        for k, v in ck.tensors.items():
            np.testing.assert_array_equal(back.tensors[k], v)
        if not shared:
            assert back.wcls is back.tensors["wcls"]
    with pytest.raises(CheckpointError, match="truncated"):
        parse_checkpoint(data[:-4])
    with pytest.raises(CheckpointError, match="unknown checkpoint format"):
        parse_checkpoint(data + b"\0\0\0\0")
    with pytest.raises(CheckpointError, match="too short"):
        parse_checkpoint(b"\1\2")
    with pytest.raises(CheckpointError, match="version 2"):
        parse_checkpoint(struct.pack("<Ii", 0x616B3432, 2) + bytes(256))
    with pytest.raises(CheckpointError, match="not a llama2.c"):
        parse_checkpoint(b"PK\3\4" + bytes(100))  # a zip file, say


def test_forward_matches_token_by_token() -> None:
    """Full-sequence causal attention == run.c's one-token-at-a-time recurrence (float64)."""
    cfg = _tiny()
    ck = random_checkpoint(cfg, seed=1)
    m = Transformer(ck, dtype=np.float64)
    toks = np.random.default_rng(0).integers(0, cfg.vocab_size, size=(2, 12))
    full = m.forward(toks)
    # reference: a direct, unvectorised transcription of run.c forward() with a KV cache
    t = {k: v.astype(np.float64) for k, v in ck.tensors.items()}
    hs, kvd, L = cfg.head_size, cfg.kv_dim, cfg.n_layers
    for b in range(2):
        kc = np.zeros((L, cfg.seq_len, kvd))
        vc = np.zeros((L, cfg.seq_len, kvd))
        for pos, token in enumerate(toks[b]):
            x = t["token_embedding"][token].copy()
            for l in range(L):
                xb = t["rms_att"][l] * x / np.sqrt(np.mean(x * x) + 1e-5)
                q, k, v = t["wq"][l] @ xb, t["wk"][l] @ xb, t["wv"][l] @ xb
                for i in range(0, cfg.dim, 2):
                    fr = 1.0 / 10000.0 ** ((i % hs) / hs)
                    c, s = np.cos(pos * fr), np.sin(pos * fr)
                    for vec in ((q, k) if i < kvd else (q,)):
                        v0, v1 = vec[i], vec[i + 1]
                        vec[i], vec[i + 1] = v0 * c - v1 * s, v0 * s + v1 * c
                kc[l, pos], vc[l, pos] = k, v
                out = np.zeros(cfg.dim)
                for h in range(cfg.n_heads):
                    kh = h // (cfg.n_heads // cfg.n_kv_heads)
                    sc = kc[l, :pos + 1, kh * hs:(kh + 1) * hs] @ q[h * hs:(h + 1) * hs] / np.sqrt(hs)
                    a = np.exp(sc - sc.max())
                    a /= a.sum()
                    out[h * hs:(h + 1) * hs] = a @ vc[l, :pos + 1, kh * hs:(kh + 1) * hs]
                x = x + t["wo"][l] @ out
                xb = t["rms_ffn"][l] * x / np.sqrt(np.mean(x * x) + 1e-5)
                h1, h3 = t["w1"][l] @ xb, t["w3"][l] @ xb
                x = x + t["w2"][l] @ (h1 / (1 + np.exp(-h1)) * h3)
            x = t["rms_final"] * x / np.sqrt(np.mean(x * x) + 1e-5)
            # run.c (and Transformer) compute the RoPE angles in float32: ~1e-7 differences
            np.testing.assert_allclose(full[b, pos], t["token_embedding"] @ x, rtol=1e-5,
                                       atol=1e-6)


def test_weight_substitution_and_hook() -> None:
    cfg = _tiny()
    ck = random_checkpoint(cfg, seed=2)
    toks = np.arange(10)[None] % cfg.vocab_size
    seen: dict[str, tuple[int, int]] = {}
    base = Transformer(ck).forward(toks, hook=lambda n, x: seen.setdefault(n, x.shape))
    assert set(seen) == set(cfg.linear_names())
    assert seen["blk0_w2"] == (10, cfg.hidden_dim) and seen["blk1_wq"] == (10, cfg.dim)
    same = Transformer(ck, {"blk1_w2": ck.linear("blk1_w2").copy()}).forward(toks)
    np.testing.assert_array_equal(base, same)
    zeroed = Transformer(ck, {"blk1_w2": np.zeros((cfg.dim, cfg.hidden_dim))}).forward(toks)
    assert np.abs(zeroed - base).max() > 1e-3
    with pytest.raises(ValueError, match="shape"):
        Transformer(ck, {"blk0_wk": np.zeros((cfg.dim, cfg.dim))})


def test_story_split_and_windows() -> None:
    text = "A b.\n<|endoftext|>\n \nSecond one.\n<|endoftext|>\n\n<|endoftext|>\n"
    assert split_stories(text) == ["A b.", "Second one."]
    tok = synthetic_tokenizer(SYNTHETIC_CONFIG.vocab_size)
    s = token_stream(text, tok)
    assert s[0] == BOS_ID and (s == BOS_ID).sum() == 2
    w = cut_windows(np.arange(11), 4)
    assert [len(x) for x in w] == [4, 4, 3]
    assert [len(x) for x in cut_windows(np.arange(9), 4)] == [4, 4]  # 1-token tail dropped


def test_tokenizer_file_roundtrip_and_errors(tmp_path) -> None:
    from baq.llama2c import TokenizerError
    tok = synthetic_tokenizer(SYNTHETIC_CONFIG.vocab_size)
    p = tmp_path / "tok.bin"
    p.write_bytes(tok.to_bytes())
    back = Tokenizer.load(p, SYNTHETIC_CONFIG.vocab_size)
    assert back.vocab == tok.vocab and np.array_equal(back.scores, tok.scores)
    assert Tokenizer.load(p).vocab_size == SYNTHETIC_CONFIG.vocab_size  # read to EOF
    p.write_bytes(tok.to_bytes()[:-3])
    with pytest.raises(TokenizerError, match="truncated|bad token"):
        Tokenizer.load(p, SYNTHETIC_CONFIG.vocab_size)


def test_cli_reports_bad_checkpoint(tmp_path, capsys) -> None:
    from baq import eval as baq_eval
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"not a model at all, just some text......")
    (tmp_path / "m.mlir").write_text("module {}\n")
    (tmp_path / "t.txt").write_text("hi\n")
    import sys
    argv = sys.argv
    sys.argv = ["baq-eval", "--checkpoint", str(bad), "--tokenizer", str(bad), "--text",
                str(tmp_path / "t.txt"), str(tmp_path / "m.mlir")]
    try:
        assert baq_eval.cli() == 2
    finally:
        sys.argv = argv
    assert "baq-eval: error:" in capsys.readouterr().err
