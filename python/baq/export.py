"""baq-export: calibrate a llama2.c model and write its linear layers as MLIR for baq-opt.

Each linear layer becomes ``func.func @blk{l}_{kind}`` holding its FP32 weight (llama2.c's
``[out, in]`` layout, a transposed-B ``linalg.matmul``) and a ``baq.hessian`` attribute with
``H = 2/n * sum_t x_t x_t^T`` over the n calibration token vectors that reach the layer's
input (accumulated in float64, stored as f32). Layers that read the same input share one
Hessian blob (q/k/v: ``blk{l}_attn_hessian``; w1/w3: ``blk{l}_ffn_hessian``). Embedding,
classifier and norms are not exported: the evaluator takes them from the checkpoint.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from .calibrate import Calibrator, write_safetensors
from .cli import ArgumentParser, BaqError, read_text, run
from .llama2c import (CLASSIFIER, LINEAR_KINDS, Checkpoint, Config, Tokenizer, Transformer,
                      parse_linear_name, random_checkpoint, read_checkpoint, token_stream)
from .mlir import ModuleWriter

# Which layer's input defines each shared Hessian, and the blob it goes to.
_HESSIAN_OF = {"wq": "attn", "wk": "attn", "wv": "attn", "w1": "ffn", "w3": "ffn",
               "wo": "wo", "w2": "w2"}
_REPRESENTATIVE = {"wq", "wo", "w1", "w2"}


HEAD_HESSIAN = CLASSIFIER + "_hessian"


def hessian_key(name: str) -> str:
    """Resource key of the Hessian blob a linear layer (or the classifier) refers to."""
    if name == CLASSIFIER:
        return HEAD_HESSIAN
    layer, kind = parse_linear_name(name)
    return f"blk{layer}_{_HESSIAN_OF[kind]}_hessian"


class HessianAccumulator:
    """Forward hook that feeds each distinct linear-layer input to a ``baq.calibrate``
    Calibrator (float64 ``sum x x^T`` per shared Hessian key)."""

    def __init__(self) -> None:
        self.calibrator = Calibrator()

    @property
    def sums(self) -> dict[str, np.ndarray]:
        return self.calibrator._sums

    def __call__(self, name: str, x: np.ndarray) -> None:
        if name != CLASSIFIER and parse_linear_name(name)[1] not in _REPRESENTATIVE:
            return  # same input as its representative (wk/wv read wq's, w3 reads w1's)
        self.calibrator.add(hessian_key(name), x)

    def hessians(self) -> dict[str, np.ndarray]:
        """``2/n * sum x x^T`` per key, symmetrised against rounding."""
        return {k: 0.5 * (h + h.T) for k, h in self.calibrator.hessians().items()}


class CalibrationError(BaqError, ValueError):
    """The calibration request cannot be met (an empty text, more windows than it holds)."""


def calibration_stream(path: str | Path, tokenizer: Tokenizer) -> np.ndarray:
    """The token stream of a calibration text file; a file with no text (empty, whitespace,
    only ``<|endoftext|>`` lines) or not UTF-8 is a located error."""
    stream = token_stream(read_text(path, "calibration text"), tokenizer)
    if len(stream) == 0:
        raise CalibrationError(f"{path}: no calibration text (the file is empty, whitespace "
                               f"or only <|endoftext|> lines)")
    return stream


def check_window_options(ap: ArgumentParser, a: argparse.Namespace) -> None:
    """``--window-len`` and ``--batch`` of the calibrating tools."""
    if a.window_len < 1:
        ap.error(f"--window-len must be >= 1, got {a.window_len}")
    if a.batch < 1:
        ap.error(f"--batch must be >= 1, got {a.batch}")


def calibration_windows(stream: np.ndarray, window_len: int, windows: int,
                        seed: int) -> list[np.ndarray]:
    """``windows`` distinct non-overlapping ``window_len`` slots of the stream, drawn with
    ``seed`` and kept in stream order; ``windows <= 0`` (or more than available) takes all."""
    slots = len(stream) // window_len
    if slots == 0:
        return [stream] if len(stream) else []
    idx = np.arange(slots)
    if 0 < windows < slots:
        idx = np.sort(np.random.default_rng(seed).choice(slots, size=windows, replace=False))
    return [stream[i * window_len:(i + 1) * window_len] for i in idx]


def gptq_windows(stream: np.ndarray, window_len: int, windows: int,
                 seed: int) -> list[np.ndarray]:
    """The official GPTQ code's draw (IST-DASLab/gptq ``datautils.get_wikitext2``):
    ``random.seed(seed)``, then ``windows`` times a start ``random.randint(0, len - window_len
    - 1)`` of the stream, in draw order; windows may overlap and need not start a story.
    A private ``random.Random(seed)`` yields the same sequence as the module functions."""
    if windows <= 0:
        raise ValueError(f"GPTQ window sampling draws a number of windows, got {windows}")
    if len(stream) <= window_len:
        raise ValueError(f"GPTQ window sampling needs more than {window_len} tokens, the "
                         f"stream has {len(stream)}")
    rng = random.Random(seed)
    starts = [rng.randint(0, len(stream) - window_len - 1) for _ in range(windows)]
    return [stream[i:i + window_len] for i in starts]


WINDOW_SAMPLINGS = {"slots": calibration_windows, "gptq": gptq_windows}


def layer_hessians(ckpt: Checkpoint, windows: list[np.ndarray], batch: int = 8,
                   progress: bool = False, head: bool = False
                   ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """``(l, Hessians of block l by blob key)`` for l = 0 .. n_layers-1, then with ``head``
    ``(n_layers, {"classifier_hessian": H})`` of the classifier's input (the final RMSNorm's
    output). The windows go through the model block by block (the residual stream of all
    windows is kept, ``windows x len x dim`` floats), so only one block's float64 sums are
    alive at a time and each block's Hessians can be written out before the next is
    computed; the sums are added in the same order as a whole forward pass per batch would."""
    model = Transformer(ckpt, lazy=True)
    t0 = time.time()
    xs = [model.embed(np.stack(windows[s:s + batch])) for s in range(0, len(windows), batch)]
    L = ckpt.config.n_layers
    for l in range(L):
        acc = HessianAccumulator()
        xs = [model.block(l, x, acc) for x in xs]
        for kind in LINEAR_KINDS:  # this block's weights are not needed again
            model.W.pop(f"blk{l}_{kind}", None)
        if progress:
            print(f"baq-export: calibrated block {l + 1}/{L} on {len(windows)} windows "
                  f"({time.time() - t0:.1f} s)", file=sys.stderr)
        yield l, acc.hessians()
    if head:
        acc = HessianAccumulator()
        for x in xs:
            model.head(x, logits=False, hook=acc)
        yield L, acc.hessians()


def collect_hessians(ckpt: Checkpoint, windows: list[np.ndarray], batch: int = 8,
                     progress: bool = False, head: bool = False) -> dict[str, np.ndarray]:
    """All Hessians by blob key (:func:`layer_hessians`; ``head``: the classifier's too)."""
    out: dict[str, np.ndarray] = {}
    for _, h in layer_hessians(ckpt, windows, batch, progress, head):
        out.update(h)
    return out


def build_module(ckpt: Checkpoint, hessians: dict[str, np.ndarray] | None,
                 targets: dict[str, float] | None = None) -> str:
    """MLIR text with one function per linear layer (see module docstring); ``targets``:
    per-layer ``baq.target_bits``."""
    w = ModuleWriter()
    for name in ckpt.config.linear_names():
        key = hessian_key(name) if hessians is not None else None
        w.add_linear(name, ckpt.linear(name), key,
                     hessians.get(key) if hessians is not None else None,
                     (targets or {}).get(name))
    return w.text()


SYNTHETIC_CONFIG = Config(dim=16, hidden_dim=40, n_layers=2, n_heads=4, n_kv_heads=2,
                          vocab_size=320, seq_len=64)


def synthetic_tokenizer(vocab_size: int) -> Tokenizer:
    """A llama2.c-layout tokenizer: <unk>, BOS, EOS, 256 bytes, then single letters/pairs."""
    vocab = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [f"<0x{b:02X}>".encode() for b in range(256)]
    extra = [bytes([c]) for c in b" abcdefghijklmnopqrstuvwxyz.,\n"]
    extra += [b" " + bytes([c]) for c in b"abcdefghijklmnopqrstuvwxyz"]
    extra += [a + b for a in (b"th", b"he", b"an") for b in (b"e", b"d", b"")] + [b"the", b" the"]
    vocab += extra
    if vocab_size < 259:
        raise ValueError("a llama2.c tokenizer needs >= 259 tokens (3 special + 256 bytes)")
    while len(vocab) < vocab_size:
        vocab.append(f"<x{len(vocab)}>".encode())
    vocab = vocab[:vocab_size]
    scores = [0.0] * 259 + [-float(i) for i in range(len(vocab) - 259)]
    return Tokenizer(vocab, scores, max(len(v) for v in vocab))


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="baq-export", description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path,
                    help="llama2.c legacy checkpoint (.bin) or Hugging Face Llama directory")
    ap.add_argument("--tokenizer", type=Path, help="llama2.c tokenizer.bin")
    ap.add_argument("--calib", type=Path, help="calibration text (stories split by "
                    "<|endoftext|> lines)")
    ap.add_argument("--windows", type=int, default=0,
                    help="number of calibration windows, drawn as random distinct "
                         "non-overlapping slots with --seed; <= 0 (default): every window "
                         "of the calibration text")
    ap.add_argument("--window-len", type=int, default=512, help="tokens per window (512)")
    ap.add_argument("--seed", type=int, default=0, help="window sampling seed (0)")
    ap.add_argument("--batch", type=int, default=8, help="windows per forward batch")
    ap.add_argument("--no-hessian", action="store_true",
                    help="write weights only (matmuls without baq.hessian are left alone)")
    ap.add_argument("--hessians-file", type=Path,
                    help="write the Hessians to this safetensors file, one tensor per linear "
                         "layer keyed by its weight's name, and leave baq.hessian out of the "
                         "module (attach them with baq-opt --baq-attach-hessians)")
    ap.add_argument("--emit", choices=("model", "synthetic"), default="model",
                    help="'synthetic': a small random model calibrated on random tokens "
                         "(no data files needed)")
    ap.add_argument("--synthetic-checkpoint", type=Path,
                    help="with --emit synthetic: also save the model as a llama2.c .bin")
    ap.add_argument("--synthetic-tokenizer", type=Path,
                    help="with --emit synthetic: also save a matching tokenizer.bin")
    ap.add_argument("-o", "--output", type=Path, required=True, help="output model.mlir")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    check_window_options(ap, a)
    t0 = time.time()
    if a.emit == "synthetic":
        cfg = SYNTHETIC_CONFIG
        ckpt = random_checkpoint(cfg, seed=a.seed)
        if a.synthetic_checkpoint:
            ckpt.save(a.synthetic_checkpoint)
        if a.synthetic_tokenizer:
            a.synthetic_tokenizer.write_bytes(synthetic_tokenizer(cfg.vocab_size).to_bytes())
        rng = np.random.default_rng(a.seed + 1)
        wl = min(a.window_len, cfg.seq_len)
        n = a.windows if a.windows > 0 else 16
        windows = list(rng.integers(0, cfg.vocab_size, size=(n, wl)))
    else:
        if not (a.checkpoint and a.tokenizer and (a.calib or a.no_hessian)):
            ap.error("--checkpoint, --tokenizer and --calib are required (or --emit synthetic)")
        ckpt = read_checkpoint(a.checkpoint)
        windows = []
        if not a.no_hessian:
            tok = Tokenizer.load(a.tokenizer, ckpt.config.vocab_size)
            stream = calibration_stream(a.calib, tok)
            wl = min(a.window_len, ckpt.config.seq_len)
            windows = calibration_windows(stream, wl, a.windows, a.seed)
            if not a.quiet:
                print(f"baq-export: {len(stream)} calibration tokens, {len(windows)} windows of "
                      f"{wl}", file=sys.stderr)
    hessians = None if a.no_hessian else collect_hessians(ckpt, windows, a.batch, not a.quiet)
    if a.hessians_file is not None:
        if hessians is None:
            ap.error("--hessians-file needs calibration (drop --no-hessian)")
        write_safetensors(a.hessians_file, {name: hessians[hessian_key(name)]
                                            for name in ckpt.config.linear_names()})
        hessians = None
    text = build_module(ckpt, hessians)
    a.output.write_text(text)
    if not a.quiet:
        print(f"baq-export: wrote {a.output} ({len(ckpt.config.linear_names())} linear layers, "
              f"{len(text) / 1e6:.1f} MB) in {time.time() - t0:.1f} s", file=sys.stderr)
    return 0


def cli() -> int:
    """Console entry point: input errors become one ``baq-export: error:`` line and exit 2."""
    return run("baq-export", main)


if __name__ == "__main__":
    sys.exit(cli())
