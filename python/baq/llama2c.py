"""llama2.c legacy ("version 0") checkpoints and tokenizers, and a numpy forward pass.

Everything here mirrors Karpathy's llama2.c ``run.c`` so that a model loaded here behaves
exactly like the C reference (greedy decoding of stories260K reproduces llama2.c's expected
output token for token). The forward pass works on whole sequences (causal attention over a
batch of windows) because perplexity and calibration need every position anyway, and it can
hook the input of every linear layer (for Hessians) and substitute linear weights (to
evaluate quantized models).

Linear layers are named ``blk{l}_{wq,wk,wv,wo,w1,w2,w3}``; weights use llama2.c's native
``[out, in]`` layout. The classifier is not one of them; it can be substituted and hooked
under the name ``classifier`` (the LM head as a projection, see ``Transformer.head``).
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from .cli import BaqError

LINEAR_KINDS: tuple[str, ...] = ("wq", "wk", "wv", "wo", "w1", "w2", "w3")
# The LM head's name as a projection (its input is the final RMSNorm's output).
CLASSIFIER = "classifier"
BOS_ID = 1
EOS_ID = 2
ENDOFTEXT = "<|endoftext|>"

HookFn = Callable[[str, np.ndarray], None]


class CheckpointError(BaqError, ValueError):
    """Raised when a file is not a readable llama2.c legacy checkpoint."""


class TokenizerError(BaqError, ValueError):
    """Raised when a file is not a readable llama2.c tokenizer.bin."""


# ----------------------------------------------------------------------------------------
# Checkpoint
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """The 7-int32 legacy header (``vocab_size`` stored negative means a separate wcls)."""

    dim: int
    hidden_dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    vocab_size: int
    seq_len: int
    shared_classifier: bool = True

    @property
    def head_size(self) -> int:
        return self.dim // self.n_heads

    @property
    def kv_dim(self) -> int:
        return self.n_kv_heads * self.head_size

    def linear_shape(self, kind: str) -> tuple[int, int]:
        """``(out, in)`` shape of a linear layer kind."""
        d, h, kv = self.dim, self.hidden_dim, self.kv_dim
        return {"wq": (d, d), "wk": (kv, d), "wv": (kv, d), "wo": (d, d),
                "w1": (h, d), "w2": (d, h), "w3": (h, d)}[kind]

    def linear_names(self) -> list[str]:
        return [f"blk{l}_{k}" for l in range(self.n_layers) for k in LINEAR_KINDS]

    def header_bytes(self) -> bytes:
        vs = self.vocab_size if self.shared_classifier else -self.vocab_size
        return struct.pack("<7i", self.dim, self.hidden_dim, self.n_layers, self.n_heads,
                           self.n_kv_heads, vs, self.seq_len)

    def tensor_layout(self) -> list[tuple[str, tuple[int, ...]]]:
        """Tensors in run.c file order (legacy freq_cis tables included, wcls if unshared)."""
        L, d, h, kv, V = self.n_layers, self.dim, self.hidden_dim, self.kv_dim, self.vocab_size
        half = self.seq_len * self.head_size // 2
        out = [("token_embedding", (V, d)), ("rms_att", (L, d)), ("wq", (L, d, d)),
               ("wk", (L, kv, d)), ("wv", (L, kv, d)), ("wo", (L, d, d)),
               ("rms_ffn", (L, d)), ("w1", (L, h, d)), ("w2", (L, d, h)), ("w3", (L, h, d)),
               ("rms_final", (d,)), ("freq_cis_real", (half,)), ("freq_cis_imag", (half,))]
        if not self.shared_classifier:
            out.append(("wcls", (V, d)))
        return out

    def n_floats(self) -> int:
        return sum(int(np.prod(s)) for _, s in self.tensor_layout())


class LayerStack:
    """A per-layer tensor ``[L, ...]`` whose layers are produced on demand (a Hugging Face
    checkpoint converts and un-permutes one layer when it is used): ``stack[l]`` is one
    float32 layer, ``np.asarray(stack)`` materialises all of them."""

    def __init__(self, layers: Sequence[Callable[[], np.ndarray]], shape: tuple[int, ...]):
        self._layers = list(layers)
        self.shape = tuple(shape)
        self.dtype = np.dtype(np.float32)
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, l: int) -> np.ndarray:
        if not isinstance(l, (int, np.integer)):
            return np.asarray(self)[l]
        return np.asarray(self._layers[l](), dtype=np.float32).reshape(self.shape[1:])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = np.empty(self.shape, np.float32)
        for l in range(len(self)):
            out[l] = self[l]
        return out if dtype is None else out.astype(dtype)

    def copy(self) -> np.ndarray:
        return np.asarray(self)

    def astype(self, dtype, copy: bool = True) -> np.ndarray:
        return np.asarray(self).astype(dtype)


@dataclass
class Checkpoint:
    """All tensors of a llama2.c model as float32 numpy arrays (run.c shapes); per-layer
    tensors may be :class:`LayerStack`s and whole tensors read-only memory maps."""

    config: Config
    tensors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def wcls(self) -> np.ndarray:
        return self.tensors["wcls"] if "wcls" in self.tensors else self.tensors["token_embedding"]

    def linear(self, name: str) -> np.ndarray:
        """Weight ``[out, in]`` of a linear layer named ``blk{l}_{kind}``."""
        layer, kind = parse_linear_name(name)
        if layer >= self.config.n_layers:
            raise KeyError(f"{name}: model has only {self.config.n_layers} layers")
        return self.tensors[kind][layer]

    def linear_weights(self) -> dict[str, np.ndarray]:
        return {n: self.linear(n) for n in self.config.linear_names()}

    def to_bytes(self) -> bytes:
        parts = [self.config.header_bytes()]
        for name, shape in self.config.tensor_layout():
            arr = np.asarray(self.tensors[name], dtype="<f4")
            if arr.shape != shape:
                raise ValueError(f"tensor {name}: shape {arr.shape}, expected {shape}")
            parts.append(arr.tobytes())
        return b"".join(parts)

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())


def parse_linear_name(name: str) -> tuple[int, str]:
    """``"blk3_w2"`` -> ``(3, "w2")``."""
    if not name.startswith("blk") or "_" not in name:
        raise KeyError(f"not a linear layer name: {name!r}")
    layer_s, kind = name[3:].split("_", 1)
    if not layer_s.isdigit() or kind not in LINEAR_KINDS:
        raise KeyError(f"not a linear layer name: {name!r}")
    return int(layer_s), kind


_V1_MAGIC = 0x616B3432  # "ak42": llama2.c export versions 1 and 2


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read a llama2.c legacy checkpoint, refusing anything whose size does not add up, or
    a Hugging Face Llama checkpoint directory (:mod:`baq.hf`). The tensors are read-only
    views of a memory map: nothing is loaded until it is used."""
    path = Path(path)
    if path.is_dir():
        from .hf import read_hf_checkpoint
        return read_hf_checkpoint(path)
    try:
        with open(path, "rb") as f:
            head = f.read(28)
            size = os.fstat(f.fileno()).st_size
            cfg = _parse_header(head, size, str(path))
            flat = np.memmap(f, dtype="<f4", mode="r", offset=28, shape=(cfg.n_floats(),))
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read checkpoint: {e.strerror or e}") from e
    return _split(cfg, flat, copy=False)


def parse_checkpoint(data: bytes, where: str = "<bytes>") -> Checkpoint:
    cfg = _parse_header(data[:28], len(data), where)
    return _split(cfg, np.frombuffer(data, dtype="<f4", offset=28), copy=True)


def _split(cfg: Config, flat: np.ndarray, copy: bool) -> Checkpoint:
    tensors: dict[str, np.ndarray] = {}
    off = 0
    for name, shape in cfg.tensor_layout():
        n = int(np.prod(shape))
        t = flat[off:off + n].reshape(shape)
        tensors[name] = t.astype(np.float32) if copy else np.asarray(t)
        off += n
    return Checkpoint(cfg, tensors)


def _parse_header(data: bytes, size: int, where: str) -> Config:
    """The header's config, checked against the file size ``size``."""
    if len(data) < 28:
        raise CheckpointError(f"{where}: {len(data)} bytes is too short for a llama2.c header")
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic == _V1_MAGIC:
        version = struct.unpack_from("<i", data, 4)[0]
        raise CheckpointError(f"{where}: llama2.c export version {version} ('ak42' magic); only "
                              "the legacy version-0 format (run.c) is supported")
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack_from("<7i", data, 0)
    fields = dict(dim=dim, hidden_dim=hidden, n_layers=n_layers, n_heads=n_heads,
                  n_kv_heads=n_kv, seq_len=seq_len)
    bad = [k for k, v in fields.items() if not 0 < v <= 1 << 20] + \
        ([] if 0 < abs(vocab) <= 1 << 22 else ["vocab_size"])
    if bad or dim % n_heads or n_heads % n_kv or (dim // n_heads) % 2:
        raise CheckpointError(
            f"{where}: not a llama2.c legacy checkpoint (header dim={dim} hidden_dim={hidden} "
            f"n_layers={n_layers} n_heads={n_heads} n_kv_heads={n_kv} vocab_size={vocab} "
            f"seq_len={seq_len} is implausible)")
    cfg = Config(dim, hidden, n_layers, n_heads, n_kv, abs(vocab), seq_len, vocab > 0)
    expected = 28 + 4 * cfg.n_floats()
    if size < expected:
        raise CheckpointError(f"{where}: truncated checkpoint: {size} bytes, the header "
                              f"implies {expected}")
    if size > expected:
        raise CheckpointError(f"{where}: unknown checkpoint format: {size} bytes, a legacy "
                              f"checkpoint with this header has exactly {expected}")
    return cfg


def random_checkpoint(cfg: Config, seed: int = 0, scale: float = 0.2) -> Checkpoint:
    """A synthetic model (for tests and ``--emit``): random weights, unit RMSNorm gains."""
    rng = np.random.default_rng(seed)
    t: dict[str, np.ndarray] = {}
    for name, shape in cfg.tensor_layout():
        if name.startswith("rms"):
            t[name] = (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        elif name.startswith("freq_cis"):
            t[name] = np.zeros(shape, np.float32)
        else:
            fan_in = shape[-1]
            t[name] = (rng.standard_normal(shape) * scale * 8 / math.sqrt(fan_in)).astype(np.float32)
    return Checkpoint(cfg, t)


# ----------------------------------------------------------------------------------------
# Tokenizer
# ----------------------------------------------------------------------------------------


class Tokenizer:
    """llama2.c ``tokenizer.bin``: byte-exact ``encode()`` / ``decode()`` of run.c."""

    def __init__(self, vocab: Sequence[bytes], scores: Sequence[float], max_token_length: int):
        self.vocab = list(vocab)
        self.scores = np.asarray(scores, dtype=np.float32)
        self.max_token_length = max_token_length
        self.lookup: dict[bytes, int] = {}
        for i, piece in enumerate(self.vocab):
            self.lookup.setdefault(piece, i)
        self._code_cache: dict[bytes, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @classmethod
    def load(cls, path: str | Path, vocab_size: int | None = None) -> "Tokenizer":
        """Read ``tokenizer.bin``; with ``vocab_size`` None, read records to the end of file."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise TokenizerError(f"{path}: cannot read tokenizer: {e.strerror or e}") from e
        if len(data) < 4:
            raise TokenizerError(f"{path}: too short for a llama2.c tokenizer")
        max_len = struct.unpack_from("<i", data, 0)[0]
        if not 0 < max_len <= 4096:
            raise TokenizerError(f"{path}: max_token_length {max_len} is implausible")
        off, vocab, scores = 4, [], []
        while (vocab_size is None and off < len(data)) or \
                (vocab_size is not None and len(vocab) < vocab_size):
            if off + 8 > len(data):
                raise TokenizerError(f"{path}: truncated at token {len(vocab)}")
            score, n = struct.unpack_from("<fi", data, off)
            off += 8
            if not 0 <= n <= max(max_len, 64) or off + n > len(data):
                raise TokenizerError(f"{path}: bad token record {len(vocab)} (length {n})")
            vocab.append(data[off:off + n])
            scores.append(score)
            off += n
        return cls(vocab, scores, max_len)

    def to_bytes(self) -> bytes:
        parts = [struct.pack("<i", self.max_token_length)]
        for piece, score in zip(self.vocab, self.scores):
            parts.append(struct.pack("<fi", float(score), len(piece)) + piece)
        return b"".join(parts)

    def _codepoint_tokens(self, text: bytes) -> list[int]:
        """run.c's first stage: one token per UTF-8 code point, byte fallback (id = byte+3)."""
        out: list[int] = []
        buf = bytearray()
        n = len(text)
        for idx in range(n):
            c = text[idx]
            if c & 0xC0 != 0x80:
                buf.clear()
            buf.append(c)
            nxt = text[idx + 1] if idx + 1 < n else 0
            if nxt & 0xC0 == 0x80 and len(buf) < 4:
                continue
            tid = self.lookup.get(bytes(buf), -1)
            if tid != -1:
                out.append(tid)
            else:
                out.extend(b + 3 for b in buf)
            buf.clear()
        return out

    def _merge(self, tokens: list[int]) -> list[int]:
        """Greedy merging: best-scoring adjacent pair first, leftmost on ties (as run.c).

        run.c rescans all pairs after every merge (quadratic); this uses a heap keyed by
        (-score, position of the left piece) with lazy invalidation, which selects the very
        same pair at every step because merging keeps the left-to-right order of pieces.
        """
        import heapq

        n = len(tokens)
        if n < 2:
            return list(tokens)
        tok = list(tokens)
        nxt = list(range(1, n)) + [-1]
        prv = [-1] + list(range(n - 1))
        alive = [True] * n
        vocab, lookup, scores = self.vocab, self.lookup, self.scores
        heap: list[tuple[float, int, int, int, int]] = []

        def push(i: int) -> None:
            j = nxt[i]
            if j < 0:
                return
            tid = lookup.get(vocab[tok[i]] + vocab[tok[j]], -1)
            if tid != -1 and scores[tid] > -1e10:
                heapq.heappush(heap, (-float(scores[tid]), i, tid, tok[i], tok[j]))

        for i in range(n - 1):
            push(i)
        while heap:
            _, i, tid, ti, tj = heapq.heappop(heap)
            j = nxt[i] if alive[i] else -1
            if j < 0 or tok[i] != ti or tok[j] != tj:
                continue  # stale entry
            tok[i] = tid
            alive[j] = False
            nxt[i] = nxt[j]
            if nxt[j] >= 0:
                prv[nxt[j]] = i
            if prv[i] >= 0:
                push(prv[i])
            push(i)
        out, i = [], 0
        while i >= 0:
            out.append(tok[i])
            i = nxt[i]
        return out

    def encode(self, text: str | bytes, bos: bool = True, eos: bool = False) -> list[int]:
        """run.c ``encode()``: [BOS] + dummy prefix " " (if text non-empty) + merged pieces."""
        raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        tokens: list[int] = [BOS_ID] if bos else []
        if raw:
            dummy = self.lookup.get(b" ", -1)
            if dummy == -1:
                raise TokenizerError("vocabulary has no ' ' piece for the dummy prefix")
            tokens.append(dummy)
        tokens.extend(self._codepoint_tokens(raw))
        tokens = self._merge(tokens)
        if eos:
            tokens.append(EOS_ID)
        return tokens

    def decode_piece(self, prev_token: int, token: int) -> bytes:
        """run.c ``decode()``: strip the leading space after BOS, map ``<0xHH>`` to a byte."""
        piece = self.vocab[token]
        if prev_token == BOS_ID and piece.startswith(b" "):
            piece = piece[1:]
        if len(piece) == 6 and piece.startswith(b"<0x") and piece.endswith(b">"):
            try:
                return bytes([int(piece[3:5], 16)])
            except ValueError:
                pass
        return piece

    @staticmethod
    def printable(piece: bytes) -> bytes:
        """run.c ``safe_printf``: drop single non-printable, non-space bytes."""
        if not piece:
            return b""
        if len(piece) == 1:
            b = piece[0]
            if not (0x20 <= b < 0x7F or b in b" \t\n\v\f\r"):
                return b""
        return piece

    def decode(self, tokens: Sequence[int], prev_token: int = BOS_ID) -> str:
        """Text run.c would print for ``tokens`` following ``prev_token``."""
        out = bytearray()
        prev = prev_token
        for t in tokens:
            out += self.printable(self.decode_piece(prev, int(t)))
            prev = int(t)
        return out.decode("utf-8", errors="replace")


# ----------------------------------------------------------------------------------------
# Forward pass
# ----------------------------------------------------------------------------------------


def _rmsnorm(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    ss = np.mean(x * x, axis=-1, keepdims=True, dtype=x.dtype) + x.dtype.type(1e-5)
    return weight * (x * (x.dtype.type(1.0) / np.sqrt(ss)))


def rope_table(cfg: Config, T: int, dtype: type = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """cos/sin ``[T, dim/2]`` of ``pos * freq``, float32 like run.c:
    freq = 1/10000^((i % hs)/hs)."""
    hs = cfg.head_size
    i = np.arange(0, cfg.dim, 2)
    head_dim = (i % hs).astype(np.float32)
    freq = np.float32(1.0) / np.power(np.float32(10000.0), head_dim / np.float32(hs))
    val = np.arange(T, dtype=np.float32)[:, None] * freq[None, :].astype(np.float32)
    return np.cos(val).astype(dtype), np.sin(val).astype(dtype)


class _LazyWeights(dict):
    """``Transformer.W`` that copies a checkpoint layer in on first use (``lazy=True``): a
    block-by-block caller deletes a block's entries when done, so only one block's
    transposed float32 copies are alive at a time."""

    def __init__(self, model: "Transformer") -> None:
        super().__init__()
        self._model = model

    def __missing__(self, name: str) -> np.ndarray:
        self._model.set_linear(name, self._model.ckpt.linear(name))
        return self[name]


class Transformer:
    """Full-sequence numpy forward pass of run.c's ``forward()`` for a batch of windows.

    ``weights`` replaces linear layers by name (``blk{l}_{kind}`` -> ``[out, in]``), which is
    how quantized models are evaluated: non-linear tensors always come from the checkpoint.
    ``lazy``: checkpoint layers are copied in when first used (see ``_LazyWeights``).
    """

    def __init__(self, ckpt: Checkpoint, weights: Mapping[str, np.ndarray] | None = None,
                 dtype: type = np.float32, lazy: bool = False):
        self.ckpt = ckpt
        self.cfg = ckpt.config
        self.dtype = np.dtype(dtype)
        self.W: dict[str, np.ndarray] = _LazyWeights(self) if lazy else {}
        for name in self.cfg.linear_names():  # stored [in, out] for x @ W
            if weights is not None and name in weights:
                self.set_linear(name, weights[name])
            elif not lazy:
                self.set_linear(name, ckpt.linear(name))
        t = ckpt.tensors
        self.emb = np.asarray(t["token_embedding"]).astype(self.dtype)
        self.set_linear(CLASSIFIER, ckpt.wcls if weights is None or CLASSIFIER not in weights
                        else weights[CLASSIFIER])
        self.rms_att = t["rms_att"].astype(self.dtype)
        self.rms_ffn = t["rms_ffn"].astype(self.dtype)
        self.rms_final = t["rms_final"].astype(self.dtype)
        self._rope_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _rope(self, T: int) -> tuple[np.ndarray, np.ndarray]:
        if T not in self._rope_cache:
            self._rope_cache[T] = rope_table(self.cfg, T, self.dtype)
        return self._rope_cache[T]

    @staticmethod
    def _rotate(v: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
        v0, v1 = v[..., 0::2], v[..., 1::2]
        out = np.empty_like(v)
        out[..., 0::2] = v0 * cos - v1 * sin
        out[..., 1::2] = v0 * sin + v1 * cos
        return out

    def set_linear(self, name: str, weight: np.ndarray) -> None:
        """Replace one linear layer's ``[out, in]`` weight (e.g. by its quantized version);
        ``"classifier"`` is the LM head ``[vocab, dim]``."""
        want = (self.cfg.vocab_size, self.cfg.dim) if name == CLASSIFIER else \
            self.cfg.linear_shape(parse_linear_name(name)[1])
        w = np.asarray(weight)
        if w.shape != want:
            raise ValueError(f"{name}: substituted weight has shape {w.shape}, expected {want}")
        if name == CLASSIFIER:
            self.wcls_t = np.ascontiguousarray(w.T, dtype=self.dtype)
        else:
            self.W[name] = np.ascontiguousarray(w.T, dtype=self.dtype)

    def embed(self, tokens: np.ndarray | Sequence[int]) -> np.ndarray:
        """Residual stream ``[B, T, dim]`` entering block 0 (token embeddings)."""
        tok = np.asarray(tokens, dtype=np.int64)
        if tok.ndim != 2:
            raise ValueError(f"tokens must be [B, T], got shape {tok.shape}")
        if tok.shape[1] > self.cfg.seq_len:
            raise ValueError(f"sequence of {tok.shape[1]} tokens exceeds seq_len "
                             f"{self.cfg.seq_len}")
        return self.emb[tok]

    def block(self, l: int, x: np.ndarray, hook: HookFn | None = None,
              stop_after: str | None = None) -> np.ndarray | None:
        """Transformer block ``l`` on the residual stream ``x [B, T, dim]``; returns the new
        stream, or None right after linear kind ``stop_after`` has been applied (its input
        reached ``hook``), which is all sequential calibration of that sublayer needs."""
        cfg = self.cfg
        B, T, _ = x.shape
        hs, H, KV = cfg.head_size, cfg.n_heads, cfg.n_kv_heads
        kv_mul = H // KV
        cos, sin = self._rope(T)
        cos_k, sin_k = cos[:, : cfg.kv_dim // 2], sin[:, : cfg.kv_dim // 2]
        mask = np.where(np.triu(np.ones((T, T), dtype=bool), k=1), -np.inf, 0.0).astype(self.dtype)
        scale = self.dtype.type(1.0 / math.sqrt(hs))
        att = np.empty((T, T), dtype=self.dtype)
        p = f"blk{l}_"

        def lin(kind: str, inp: np.ndarray) -> np.ndarray:
            if hook is not None:
                hook(p + kind, inp.reshape(-1, inp.shape[-1]))
            return inp @ self.W[p + kind]

        xb = _rmsnorm(x, self.rms_att[l])
        q = self._rotate(lin("wq", xb), cos, sin)
        k = self._rotate(lin("wk", xb), cos_k, sin_k)
        v = lin("wv", xb)
        if stop_after in ("wq", "wk", "wv"):
            return None
        q = q.reshape(B, T, H, hs).transpose(0, 2, 1, 3)  # [B, H, T, hs]
        k = k.reshape(B, T, KV, hs).transpose(0, 2, 1, 3)  # [B, KV, T, hs]
        v = v.reshape(B, T, KV, hs).transpose(0, 2, 1, 3)  # [B, KV, T, hs]
        # One 2-D (T x T) score matrix at a time: it stays in cache, which is ~2x faster
        # than one batched [B, H, T, T] tensor; q @ k^T goes through BLAS (hs is tiny).
        # The score buffer is reused: fresh 1 MB arrays would be mmap'ed and page-faulted
        # on every head.
        o = np.empty((B, H, T, hs), dtype=self.dtype)
        q *= scale
        for b in range(B):
            for h in range(H):
                kh = h // kv_mul  # GQA: head h reads kv head h // kv_mul
                np.matmul(q[b, h], k[b, kh].T, out=att)
                att += mask
                att -= att.max(axis=-1, keepdims=True)
                np.exp(att, out=att)
                att /= att.sum(axis=-1, keepdims=True)
                np.matmul(att, v[b, kh], out=o[b, h])
        o = o.transpose(0, 2, 1, 3).reshape(B, T, cfg.dim)
        x = x + lin("wo", o)
        if stop_after == "wo":
            return None
        xb = _rmsnorm(x, self.rms_ffn[l])
        h1 = lin("w1", xb)
        h3 = lin("w3", xb)
        if stop_after in ("w1", "w3"):
            return None
        h = h1 * (self.dtype.type(1.0) / (self.dtype.type(1.0) + np.exp(-h1))) * h3
        return x + lin("w2", h)

    def head(self, x: np.ndarray, logits: bool = True, hook: HookFn | None = None
             ) -> np.ndarray:
        """Final RMSNorm and (with ``logits``) the classifier; ``hook("classifier", x)``
        receives the classifier's ``[B*T, dim]`` input."""
        x = _rmsnorm(x, self.rms_final)
        if hook is not None:
            hook(CLASSIFIER, x.reshape(-1, x.shape[-1]))
        return x @ self.wcls_t if logits else x

    def forward(self, tokens: np.ndarray | Sequence[int], hook: HookFn | None = None,
                logits: bool = True) -> np.ndarray:
        """Logits ``[B, T, vocab]`` (or ``[T, vocab]`` for 1-D input); positions start at 0.

        ``hook(name, x)`` receives the ``[B*T, in]`` input of every linear layer.
        """
        tok = np.asarray(tokens, dtype=np.int64)
        squeeze = tok.ndim == 1
        x = self.embed(tok[None] if squeeze else tok)
        for l in range(self.cfg.n_layers):
            x = self.block(l, x, hook)
        out = self.head(x, logits)
        return out[0] if squeeze else out

    def generate_greedy(self, steps: int, prompt: Sequence[int] = (BOS_ID,)) -> list[int]:
        """run.c ``generate()`` at temperature 0: returns the tokens after ``prompt[0]``.

        Stops early when BOS is produced, like run.c. Recomputes the full prefix each step
        (no KV cache), which is cheap for the tiny models this is used on.
        """
        seq = [int(prompt[0])]
        out: list[int] = []
        for pos in range(min(steps, self.cfg.seq_len)):
            if pos < len(prompt) - 1:
                nxt = int(prompt[pos + 1])
            else:
                logits = self.forward(np.asarray(seq))[-1]
                nxt = int(np.argmax(logits))
            if nxt == BOS_ID:
                break
            out.append(nxt)
            seq.append(nxt)
        return out


# ----------------------------------------------------------------------------------------
# Text -> token streams, perplexity
# ----------------------------------------------------------------------------------------


def split_stories(text: str) -> list[str]:
    """Stories separated by lines that are exactly ``<|endoftext|>``; each ``.strip()``-ed
    (as llama2.c's TinyStories pretokenizer does) and empty ones dropped."""
    stories, cur = [], []
    for line in text.split("\n"):
        if line.rstrip("\r") == ENDOFTEXT:
            stories.append("\n".join(cur))
            cur = []
        else:
            cur.append(line)
    stories.append("\n".join(cur))
    return [s.strip() for s in stories if s.strip()]


def token_stream(text: str, tokenizer: Tokenizer) -> np.ndarray:
    """Concatenation over stories of ``[BOS] + encode(story)`` (run.c encode, dummy prefix)."""
    parts = [tokenizer.encode(s, bos=True, eos=False) for s in split_stories(text)]
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.asarray(p, dtype=np.int64) for p in parts])


def cut_windows(stream: np.ndarray, window_len: int) -> list[np.ndarray]:
    """Non-overlapping windows of ``window_len`` tokens; a shorter tail window is kept if it
    has at least 2 tokens (so it predicts at least one token)."""
    out = [stream[i:i + window_len] for i in range(0, len(stream), window_len)]
    return [w for w in out if len(w) >= 2]


@dataclass
class PerplexityResult:
    perplexity: float
    mean_nll: float
    n_predicted: int
    n_windows: int


def perplexity(model: Transformer, stream: np.ndarray, window_len: int = 512,
               batch: int = 16) -> PerplexityResult:
    """BRIEF §5 perplexity: ``exp(mean next-token NLL)``.

    The stream (see :func:`token_stream`: each story encoded separately with run.c's encoder
    and prefixed with BOS=1, all stories concatenated in file order) is cut into
    non-overlapping ``window_len``-token windows (the last, shorter one kept if it has >= 2
    tokens). Every window is run from position 0 with causal attention inside the window
    only; within a window, tokens 1..L-1 are predicted from their prefix, so the first token
    of each window is context only. Story boundaries inside a window are not masked (as in
    llama2.c training). The mean is over all predicted tokens of all windows (float64
    log-softmax of the model's float32 logits).
    """
    wins = cut_windows(np.asarray(stream, dtype=np.int64), window_len)
    total, count = 0.0, 0
    by_len: dict[int, list[np.ndarray]] = {}
    for w in wins:
        by_len.setdefault(len(w), []).append(w)
    for L, group in by_len.items():
        for s in range(0, len(group), batch):
            toks = np.stack(group[s:s + batch])
            lg = model.forward(toks).astype(np.float64)[:, :-1]  # [B, L-1, V]
            tgt = toks[:, 1:]
            m = lg.max(axis=-1, keepdims=True)
            lse = np.log(np.exp(lg - m).sum(axis=-1)) + m[..., 0]
            picked = np.take_along_axis(lg, tgt[..., None], axis=-1)[..., 0]
            total += float((lse - picked).sum())
            count += tgt.size
    if count == 0:
        raise ValueError("no tokens to predict (text too short)")
    mean = total / count
    return PerplexityResult(math.exp(mean), mean, count, len(wins))


def load_model(checkpoint: str | Path, tokenizer: str | Path) -> tuple[Checkpoint, Tokenizer]:
    ckpt = read_checkpoint(checkpoint)
    tok = Tokenizer.load(tokenizer, ckpt.config.vocab_size)
    return ckpt, tok


def iter_batches(items: Sequence[np.ndarray], batch: int) -> Iterable[np.ndarray]:
    for s in range(0, len(items), batch):
        yield np.stack(items[s:s + batch])
