"""The bench/model synthetic decoder as a llama.cpp GGUF (arch ``llama``, F32).

Weights: ``bench/model/run.py``'s synthetic model, bit for bit (same ``Config`` and
``random_checkpoint`` seed). Layout conventions, llama2.c -> llama.cpp:

* RoPE: llama2.c (and baq.llama2c) rotate adjacent pairs ``(2i, 2i+1)`` of each head, which
  is llama.cpp's ``LLAMA_ROPE_TYPE_NORM`` used by arch ``llama``. So wq/wk are written
  unpermuted (llama.cpp's HF converter permutes only because Hugging Face checkpoints rotate
  the two halves of a head instead; ``examples/convert-llama2c-to-ggml`` copies them as is).
* A ``[out, in]`` numpy matrix is written as is: gguf-py reverses the shape, so llama.cpp
  sees ``ne = [in, out]``, the layout of its matmul weights.
* The classifier is the token embedding (llama2.c's shared ``wcls``): no ``output.weight``,
  and llama.cpp ties ``output`` to ``token_embd`` (llama-quantize then picks the output
  tensor's type for ``token_embd``).
* Vocabulary: the llama2.c tokenizer's pieces as an SPM (``llama``) vocabulary, spaces as
  U+2581, ``<0xXX>`` pieces as BYTE tokens, so llama.cpp can tokenize the bench text for
  ``llama-imatrix``.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

from baq.llama2c import Checkpoint, Config, Tokenizer, random_checkpoint  # noqa: E402

# llama.cpp tensor names of the llama2.c linear kinds.
LINEAR_GGUF = {"wq": "attn_q", "wk": "attn_k", "wv": "attn_v", "wo": "attn_output",
               "w1": "ffn_gate", "w2": "ffn_down", "w3": "ffn_up"}
NORM_EPS = 1e-5  # baq.llama2c._rmsnorm and run.c
ROPE_THETA = 10000.0


def synthetic_config(dim: int = 1024, layers: int = 8, seq_len: int = 256,
                     vocab: int = 512) -> Config:
    """bench/model/run.py's synthetic configuration (its ``main`` builds it inline)."""
    hidden = int(8 * dim / 3 / 256 + 1) * 256
    return Config(dim=dim, hidden_dim=hidden, n_layers=layers, n_heads=dim // 64,
                  n_kv_heads=dim // 64, vocab_size=vocab, seq_len=seq_len)


def synthetic_checkpoint(dim: int = 1024, layers: int = 8, seq_len: int = 256) -> Checkpoint:
    return random_checkpoint(synthetic_config(dim, layers, seq_len), seed=0)


def import_gguf(llama_cpp_dir: Path | str | None):
    """llama.cpp's gguf-py: from ``LLAMA_CPP_DIR/gguf-py`` if given, else an installed one.

    gguf/vocab.py imports sentencepiece at module level; only its SentencePiece vocab
    loader uses it, which this writer does not, so a placeholder stands in when absent.
    """
    if llama_cpp_dir is not None:
        sys.path.insert(0, str(Path(llama_cpp_dir) / "gguf-py"))
    if importlib.util.find_spec("sentencepiece") is None:
        stub = types.ModuleType("sentencepiece")
        stub.SentencePieceProcessor = None
        sys.modules["sentencepiece"] = stub
    import gguf
    return gguf


def spm_vocab(tok: Tokenizer) -> tuple[list[bytes], list[float], list[int]]:
    """(pieces, scores, token types) of a llama2.c tokenizer as a llama.cpp SPM vocab.

    Types use gguf.TokenType's values: 1 normal, 2 unknown, 3 control, 6 byte. llama.cpp
    requires distinct pieces; a repeated piece (llama2.c tolerates them: the synthetic
    tokenizer has two ``the``) keeps its first id and later copies become ``<dupN>``.
    """
    pieces, types_, seen = [], [], set()
    for i, p in enumerate(tok.vocab):
        if i == 0:
            types_.append(2)
        elif i in (1, 2):
            types_.append(3)
        elif p.startswith(b"<0x") and len(p) == 6 and p.endswith(b">"):
            types_.append(6)
        else:
            types_.append(1)
            p = p.replace(b" ", "\u2581".encode())
            if p in seen:
                p = f"<dup{i}>".encode()
        seen.add(p)
        pieces.append(p)
    return pieces, [float(s) for s in tok.scores], types_


def piece_text(pieces: list[bytes], types_: list[int], t: int) -> bytes:
    """What llama.cpp's ``llama_token_to_piece(special=true)`` prints for token ``t``."""
    if types_[t] == 6:
        return bytes([int(pieces[t][3:5], 16)])
    if types_[t] == 2:
        return "\u2585".encode()
    return pieces[t].replace("\u2581".encode(), b" ")


def tensors(ckpt: Checkpoint) -> dict[str, np.ndarray]:
    """GGUF tensor name -> float32 array (``[out, in]`` for matrices), in file order."""
    cfg, t = ckpt.config, ckpt.tensors
    out = {"token_embd.weight": np.asarray(t["token_embedding"], np.float32)}
    for l in range(cfg.n_layers):
        out[f"blk.{l}.attn_norm.weight"] = np.asarray(t["rms_att"][l], np.float32)
        for kind in ("wq", "wk", "wv", "wo"):
            out[f"blk.{l}.{LINEAR_GGUF[kind]}.weight"] = np.asarray(t[kind][l], np.float32)
        out[f"blk.{l}.ffn_norm.weight"] = np.asarray(t["rms_ffn"][l], np.float32)
        for kind in ("w1", "w3", "w2"):
            out[f"blk.{l}.{LINEAR_GGUF[kind]}.weight"] = np.asarray(t[kind][l], np.float32)
    out["output_norm.weight"] = np.asarray(t["rms_final"], np.float32)
    if not cfg.shared_classifier:
        out["output.weight"] = np.asarray(t["wcls"], np.float32)
    return out


def write_gguf(ckpt: Checkpoint, tok: Tokenizer, path: Path | str, gguf, name: str) -> None:
    cfg = ckpt.config
    if tok.vocab_size != cfg.vocab_size:
        raise ValueError(f"tokenizer has {tok.vocab_size} tokens, model {cfg.vocab_size}")
    w = gguf.GGUFWriter(str(path), arch="llama")
    w.add_name(name)
    w.add_context_length(cfg.seq_len)
    w.add_embedding_length(cfg.dim)
    w.add_block_count(cfg.n_layers)
    w.add_feed_forward_length(cfg.hidden_dim)
    w.add_head_count(cfg.n_heads)
    w.add_head_count_kv(cfg.n_kv_heads)
    w.add_rope_dimension_count(cfg.head_size)
    w.add_rope_freq_base(ROPE_THETA)
    w.add_layer_norm_rms_eps(NORM_EPS)
    w.add_vocab_size(cfg.vocab_size)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    pieces, scores, types_ = spm_vocab(tok)
    w.add_tokenizer_model("llama")
    w.add_token_list(pieces)
    w.add_token_scores(scores)
    w.add_token_types(types_)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_space_prefix(True)  # llama2.c's encode() prepends a space too
    for n, a in tensors(ckpt).items():
        w.add_tensor(n, np.ascontiguousarray(a))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
