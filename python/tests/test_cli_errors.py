"""Every ``python -m baq.X`` tool answers malformed input with ONE line on stderr,
``baq-X: error: <what and where>``, and exit code 2 (1: it ran, but a result failed) --
never a Python traceback (issue 22, class 6).

Each case runs the tool as a subprocess on tiny synthetic files made here (no data files,
no baq-opt: a failing baq-opt is a shell script). ``-q`` silences progress lines where a
tool has them, so stderr must be exactly the one error line.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import REPO
from packer import module, pack, packed_function

from baq.export import SYNTHETIC_CONFIG, build_module, synthetic_tokenizer
from baq.llama2c import Config, random_checkpoint

STORY = ("Once upon a time the cat and the dog went to the park. They played and ran.\n"
         "The end.\n<|endoftext|>\nThe sun was hot, and the hen sat in the shade.\n"
         "<|endoftext|>\n")


def _packed_module(ckpt) -> str:
    """A module with blk0_wq packed (4-bit, f16 grids) and blk0_wo in FP32."""
    w = ckpt.linear("blk0_wq")
    pk = pack(w, [4] * w.shape[1], 8)
    plain = build_module(ckpt, None)
    wo = plain[plain.index("  func.func @blk0_wo"):plain.index("  func.func @blk0_w1")]
    res_wo = plain[plain.index("      blk0_wo:"):].split("\n", 1)[0].strip().rstrip(",")
    text = module([packed_function("blk0_wq", pk)])
    text = text.replace("module {\n", "module {\n" + wo, 1)
    return text.replace("    builtin: {\n", "    builtin: {\n      " + res_wo + ",\n", 1)


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    ck = random_checkpoint(SYNTHETIC_CONFIG, seed=2)
    raw = ck.to_bytes()
    tok = synthetic_tokenizer(SYNTHETIC_CONFIG.vocab_size).to_bytes()
    files = {
        "ckpt.bin": raw,
        "trunc.bin": raw[:-100],
        "short.bin": raw[:20],
        "ak42.bin": struct.pack("<Ii", 0x616B3432, 2) + raw[8:],
        "tok.bin": tok,
        "tok-trunc.bin": tok[: len(tok) // 2],
        "tok-bad.bin": struct.pack("<i", -7) + tok[4:],
        "text.txt": (STORY * 4).encode(),
        "empty.txt": b"",
        "blank.txt": b"  \n\t\n \n",
        "eot.txt": b"<|endoftext|>\n\n<|endoftext|>\n",
        "latin1.txt": "Le ch\u00e2teau \u00e9tait grand.\n".encode("latin-1"),
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    (d / "adir").mkdir()
    fp = build_module(ck, None)
    (d / "fp.mlir").write_text(fp)
    q = _packed_module(ck)
    (d / "q.mlir").write_text(q)
    # a module of another model: the weight shapes do not match the checkpoint
    other = random_checkpoint(Config(dim=8, hidden_dim=16, n_layers=2, n_heads=2,
                                     n_kv_heads=2, vocab_size=320, seq_len=64), seed=1)
    (d / "other.mlir").write_text(build_module(other, None))
    key = "blk0_wq_payload"
    start = q.index(f"      {key}: \"0x") + len(f"      {key}: \"")
    end = q.index('"', start)
    blob = q[start:end]
    variants = {
        "q-trunc.mlir": q[:start] + blob[:-8] + q[end:],
        "q-odd.mlir": q[:start] + blob[:-1] + q[end:],
        "q-nonhex.mlir": q[:start] + blob[:-4] + "ZZZZ" + q[end:],
        "q-noblob.mlir": q.replace(f"      {key}: \"{blob}\",\n", ""),
        "q-noprefix.mlir": q[:start] + "0x0400" + q[end:],
        "q-scaletype.mlir": q.replace("scale_type = f16", "scale_type = f8", 2),
        "q-nobits.mlir": q.replace("bits = [", "bitz = [", 2),
        "q-cut.mlir": q[: q.index("baq.packed_constant") + 60],
        "q-dynamic.mlir": q.replace(f"tensor<{pack_words(q)}xi32>", "tensor<?xi32>"),
        "q-scales.mlir": q.replace("tensor<16x2xf16>", "tensor<16x3xf16>", 1),
    }
    for name, text in variants.items():
        assert text != q, name
        (d / name).write_text(text)
    (d / "q-latin1.mlir").write_bytes(q.encode() + b"// \xe9\n")
    # safetensors: valid, then broken in the ways a reader must refuse
    (d / "h.safetensors").write_bytes(_safetensors({"a": {"dtype": "F32", "shape": [2, 2],
                                                          "data_offsets": [0, 16]}}, 16))
    st = {
        "st-short.safetensors": b"\x10\x00",
        "st-size.safetensors": struct.pack("<Q", 1 << 40) + b"{}",
        "st-json.safetensors": _raw_st(b"{not json", b""),
        "st-list.safetensors": _raw_st(b"[1, 2]", b""),
        "st-deep.safetensors": _raw_st(b"[" * 100000 + b"]" * 100000, b""),
        "st-dup.safetensors": _raw_st(b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": '
                                      b'[0, 4]}, "a": {"dtype": "F32", "shape": [1], '
                                      b'"data_offsets": [0, 4]}}', b"\0" * 4),
        "st-dtype.safetensors": _safetensors({"a": {"dtype": "Q7", "shape": [1],
                                                    "data_offsets": [0, 4]}}, 4),
        "st-range.safetensors": _safetensors({"a": {"dtype": "F32", "shape": [2, 2],
                                                    "data_offsets": [0, 16]}}, 8),
        "st-shape.safetensors": _safetensors({"a": {"dtype": "F32", "shape": [3, 2],
                                                    "data_offsets": [0, 16]}}, 16),
        "st-fields.safetensors": _safetensors({"a": {"dtype": "F32"}}, 0),
        "st-negshape.safetensors": _safetensors({"a": {"dtype": "F32", "shape": [-1, -4],
                                                       "data_offsets": [0, 16]}}, 16),
    }
    for name, data in st.items():
        (d / name).write_bytes(data)
    # JSON files for baq.report
    (d / "r-bad.json").write_text('{"matmuls": [')
    (d / "r-list.json").write_text("[1, 2, 3]")
    (d / "r-matmuls.json").write_text('{"matmuls": 7}')
    (d / "r-entry.json").write_text('{"matmuls": ["blk0_wq"]}')
    (d / "r-values.json").write_text('{"matmuls": [{"name": "a", "ratio_c": "high", '
                                     '"hessian_loss": 1, "uniform_hessian_loss": 2}]}')
    (d / "r-latin1.json").write_bytes(b'{"matmuls": [], "x": "\xe9"}')
    (d / "s-rows.json").write_text('{"rows": [{"method": "a", "perplexity": "x", '
                                   '"total_bits": 3}]}')
    # stand-ins for baq-opt: one that fails with an MLIR-style diagnostic, one not executable,
    # one that succeeds but writes nothing useful
    fail = d / "baq-opt-fail"
    fail.write_text("#!/bin/sh\necho \"in.mlir:3:5: error: 'linalg.matmul' op bad things\" >&2\n"
                    "echo 'note: see current operation' >&2\nexit 1\n")
    fail.chmod(0o755)
    (d / "baq-opt-noexec").write_text("#!/bin/sh\nexit 0\n")
    (d / "baq-opt-noexec").chmod(0o644)
    empty = d / "baq-opt-empty"
    empty.write_text("#!/bin/sh\nfor a; do :; done\n: > \"$a\"\nexit 0\n")
    empty.chmod(0o755)
    (d / "work-file").write_text("not a directory\n")
    (d / "fp32-cache").mkdir()
    (d / "fp32-cache" / "fp32.json").write_text('{"perplex')
    return d


def pack_words(text: str) -> int:
    i = text.index("payload(dense_resource<blk0_wq_payload> : tensor<") + \
        len("payload(dense_resource<blk0_wq_payload> : tensor<")
    return int(text[i:text.index("x", i)])


def _raw_st(header: bytes, data: bytes) -> bytes:
    return struct.pack("<Q", len(header)) + header + data


def _safetensors(header: dict, nbytes: int) -> bytes:
    return _raw_st(json.dumps(header).encode(), b"\0" * nbytes)


M = ["--checkpoint", "{d}/ckpt.bin", "--tokenizer", "{d}/tok.bin"]
EV = ["-m", "baq.eval", *M, "--text", "{d}/text.txt", "--window-len", "64", "-q"]
EX = ["-m", "baq.export", *M, "--calib", "{d}/text.txt", "--window-len", "64", "-q",
      "-o", "{d}/out.mlir"]
EM = ["-m", "baq.export_model", *M, "--calib", "{d}/text.txt", "--window-len", "64", "-q",
      "-o", "{d}/out.mlir"]
QU = ["-m", "baq.quantize", *M, "--calib", "{d}/text.txt", "--window-len", "64", "-q",
      "--windows", "0", "--baq-opt", "{d}/baq-opt-fail", "-o", "{d}/out.mlir"]
RS = ["-m", "baq.results", *M, "--calib", "{d}/text.txt", "--text", "{d}/text.txt",
      "--baq-opt", "{d}/baq-opt-fail", "--doc", "{d}/R.md", "--plot", "{d}/r.png",
      "--methods", "gptq", "--calibrations", "fp32", "--targets", "payload:2", "--seeds", "0"]


def sub(argv: list[str], old: str, new: str) -> list[str]:
    """argv with the argument ``old`` (or ``old``'s value ``{d}/old``) replaced."""
    assert old in argv, (old, argv)
    return [new if a == old else a for a in argv]


# (id, argv, text the error line must contain)
CASES = [
    # -- baq.eval: files
    ("eval-ckpt-missing", sub(EV, "{d}/ckpt.bin", "{d}/nope.bin") + ["{d}/fp.mlir"],
     "nope.bin"),
    ("eval-ckpt-dir", sub(EV, "{d}/ckpt.bin", "{d}/adir") + ["{d}/fp.mlir"], "adir"),
    ("eval-ckpt-trunc", sub(EV, "{d}/ckpt.bin", "{d}/trunc.bin") + ["{d}/fp.mlir"],
     "truncated checkpoint"),
    ("eval-ckpt-short", sub(EV, "{d}/ckpt.bin", "{d}/short.bin") + ["{d}/fp.mlir"],
     "too short"),
    ("eval-ckpt-ak42", sub(EV, "{d}/ckpt.bin", "{d}/ak42.bin") + ["{d}/fp.mlir"], "ak42"),
    ("eval-tok-trunc", sub(EV, "{d}/tok.bin", "{d}/tok-trunc.bin") + ["{d}/fp.mlir"],
     "tok-trunc.bin"),
    ("eval-tok-bad", sub(EV, "{d}/tok.bin", "{d}/tok-bad.bin") + ["{d}/fp.mlir"],
     "max_token_length"),
    ("eval-tok-missing", sub(EV, "{d}/tok.bin", "{d}/nope.bin") + ["{d}/fp.mlir"], "nope.bin"),
    ("eval-text-latin1", sub(EV, "{d}/text.txt", "{d}/latin1.txt") + ["{d}/fp.mlir"],
     "latin1.txt: not UTF-8"),
    ("eval-text-empty", sub(EV, "{d}/text.txt", "{d}/empty.txt") + ["{d}/fp.mlir"],
     "empty.txt"),
    ("eval-text-eot", sub(EV, "{d}/text.txt", "{d}/eot.txt") + ["{d}/fp.mlir"], "eot.txt"),
    ("eval-text-dir", sub(EV, "{d}/text.txt", "{d}/adir") + ["{d}/fp.mlir"], "adir"),
    ("eval-text-missing", sub(EV, "{d}/text.txt", "{d}/nope.txt") + ["{d}/fp.mlir"],
     "nope.txt"),
    ("eval-model-missing", EV + ["{d}/nope.mlir"], "nope.mlir"),
    ("eval-model-dir", EV + ["{d}/adir"], "adir"),
    ("eval-model-latin1", EV + ["{d}/q-latin1.mlir"], "q-latin1.mlir: not UTF-8"),
    ("eval-model-other", EV + ["{d}/other.mlir"], "blk0_wq"),
    # -- baq.eval: quantized modules whose blobs or layouts are broken
    ("eval-blob-trunc", EV + ["{d}/q-trunc.mlir"], "blk0_wq_payload"),
    ("eval-blob-odd", EV + ["{d}/q-odd.mlir"], "blk0_wq_payload"),
    ("eval-blob-nonhex", EV + ["{d}/q-nonhex.mlir"], "blk0_wq_payload"),
    ("eval-blob-missing", EV + ["{d}/q-noblob.mlir"], "blk0_wq_payload"),
    ("eval-blob-noprefix", EV + ["{d}/q-noprefix.mlir"], "blk0_wq_payload"),
    ("eval-layout-type", EV + ["{d}/q-scaletype.mlir"], "f8"),
    ("eval-layout-nobits", EV + ["{d}/q-nobits.mlir"], "bits"),
    ("eval-layout-cut", EV + ["{d}/q-cut.mlir"], "q-cut.mlir: @blk0_wo: resource blob"),
    ("eval-dynamic", EV + ["{d}/q-dynamic.mlir"], "tensor<?xi32>"),
    ("eval-scales-shape", EV + ["{d}/q-scales.mlir"], "@blk0_wq"),
    ("eval-bits-only-odd", ["-m", "baq.eval", "--bits-only", "{d}/q-odd.mlir"],
     "blk0_wq_payload"),
    ("eval-bits-only-missing", ["-m", "baq.eval", "--bits-only", "{d}/nope.mlir"],
     "nope.mlir"),
    # -- baq.eval: options
    ("eval-window-0", sub(EV, "64", "0") + ["{d}/fp.mlir"], "--window-len"),
    ("eval-window-neg", sub(EV, "64", "-5") + ["{d}/fp.mlir"], "--window-len"),
    ("eval-batch-0", EV + ["--batch", "0", "{d}/fp.mlir"], "--batch"),
    ("eval-no-text", ["-m", "baq.eval", *M, "{d}/fp.mlir"], "--text"),
    ("eval-sweep-no-tool", EV + ["--sweep", "--baq-opt", "{d}/nope", "{d}/fp.mlir"], "nope"),
    ("eval-json-dir", EV + ["--json", "{d}/adir", "{d}/fp.mlir"], "adir"),
    ("eval-bad-option", EV + ["--window-len", "ten", "{d}/fp.mlir"], "--window-len"),
    # -- the reader itself (python -m baq.packed)
    ("packed-odd", ["-m", "baq.packed", "{d}/q-odd.mlir"], "blk0_wq_payload"),
    ("packed-nonhex", ["-m", "baq.packed", "{d}/q-nonhex.mlir"], "blk0_wq_payload"),
    ("packed-trunc", ["-m", "baq.packed", "{d}/q-trunc.mlir"], "blk0_wq_payload"),
    ("packed-missing", ["-m", "baq.packed", "{d}/nope.mlir"], "nope.mlir"),
    ("packed-cut", ["-m", "baq.packed", "{d}/q-cut.mlir"], "@blk0_wo"),
    ("packed-no-args", ["-m", "baq.packed"], "MODULE"),
    # -- baq.export
    ("export-empty", sub(EX, "{d}/text.txt", "{d}/empty.txt"), "empty.txt"),
    ("export-blank", sub(EX, "{d}/text.txt", "{d}/blank.txt"), "blank.txt"),
    ("export-eot", sub(EX, "{d}/text.txt", "{d}/eot.txt"), "eot.txt"),
    ("export-latin1", sub(EX, "{d}/text.txt", "{d}/latin1.txt"), "latin1.txt: not UTF-8"),
    ("export-calib-dir", sub(EX, "{d}/text.txt", "{d}/adir"), "adir"),
    ("export-ckpt-trunc", sub(EX, "{d}/ckpt.bin", "{d}/trunc.bin"), "truncated checkpoint"),
    ("export-tok-missing", sub(EX, "{d}/tok.bin", "{d}/nope.bin"), "nope.bin"),
    ("export-window-0", sub(EX, "64", "0"), "--window-len"),
    ("export-batch-0", EX + ["--batch", "0"], "--batch"),
    ("export-out-dir", sub(EX, "{d}/out.mlir", "{d}/nodir/out.mlir"), "nodir"),
    ("export-hessians-dir", EX + ["--hessians-file", "{d}/adir"], "adir"),
    ("export-synthetic-window-0", ["-m", "baq.export", "--emit", "synthetic", "--window-len",
                                   "0", "-q", "-o", "{d}/out.mlir"], "--window-len"),
    # -- baq.export_model
    ("export-model-empty", sub(EM, "{d}/text.txt", "{d}/empty.txt"), "empty.txt"),
    ("export-model-blank", sub(EM, "{d}/text.txt", "{d}/blank.txt"), "blank.txt"),
    ("export-model-latin1", sub(EM, "{d}/text.txt", "{d}/latin1.txt"), "not UTF-8"),
    ("export-model-ckpt-ak42", sub(EM, "{d}/ckpt.bin", "{d}/ak42.bin"), "ak42"),
    ("export-model-prefill", EM + ["--prefill", "100"], "--prefill"),
    ("export-model-window-neg", sub(EM, "64", "-1"), "--window-len"),
    ("export-model-batch-0", EM + ["--batch", "0"], "--batch"),
    ("export-model-out-dir", sub(EM, "{d}/out.mlir", "{d}/adir"), "adir"),
    # -- baq.quantize (baq-opt stand-ins)
    ("quantize-empty", sub(QU, "{d}/text.txt", "{d}/blank.txt"), "blank.txt"),
    ("quantize-latin1", sub(QU, "{d}/text.txt", "{d}/latin1.txt"), "latin1.txt: not UTF-8"),
    ("quantize-tool-missing", sub(QU, "{d}/baq-opt-fail", "{d}/nope"), "nope"),
    ("quantize-tool-dir", sub(QU, "{d}/baq-opt-fail", "{d}/adir"), "adir"),
    ("quantize-tool-fails", QU, "bad things"),
    ("quantize-tool-noexec", sub(QU, "{d}/baq-opt-fail", "{d}/baq-opt-noexec"),
     "baq-opt-noexec"),
    ("quantize-tool-empty", sub(QU, "{d}/baq-opt-fail", "{d}/baq-opt-empty"), "blk0_wq"),
    ("quantize-ckpt-trunc", sub(QU, "{d}/ckpt.bin", "{d}/trunc.bin"), "truncated"),
    ("quantize-window-len", sub(QU, "64", "1"), "--window-len"),
    # -- baq.results
    ("results-ckpt-missing", sub(RS, "{d}/ckpt.bin", "{d}/nope.bin"), "nope.bin"),
    ("results-ckpt-trunc", sub(RS, "{d}/ckpt.bin", "{d}/trunc.bin") +
     ["--work-dir", "{d}/wd1"], "truncated checkpoint"),
    ("results-text-latin1", sub(RS, "{d}/text.txt", "{d}/latin1.txt") +
     ["--work-dir", "{d}/wd2"], "not UTF-8"),
    ("results-cache-corrupt", RS + ["--work-dir", "{d}/fp32-cache"], "fp32.json"),
    ("results-work-file", RS + ["--work-dir", "{d}/work-file"], "work-file"),
    ("results-target", sub(RS, "payload:2", "payload:x"), "payload:x"),
    ("results-jobs", RS + ["--jobs", "0"], "--jobs"),
    # -- baq.report
    ("report-missing", ["-m", "baq.report", "{d}/nope.json", "-o", "{d}/plots"], "nope.json"),
    ("report-bad-json", ["-m", "baq.report", "{d}/r-bad.json", "-o", "{d}/plots"],
     "r-bad.json"),
    ("report-list", ["-m", "baq.report", "{d}/r-list.json", "-o", "{d}/plots"], "r-list.json"),
    ("report-matmuls", ["-m", "baq.report", "{d}/r-matmuls.json", "-o", "{d}/plots"],
     "matmuls"),
    ("report-entry", ["-m", "baq.report", "{d}/r-entry.json", "-o", "{d}/plots"], "matmuls"),
    ("report-values", ["-m", "baq.report", "{d}/r-values.json", "-o", "{d}/plots"],
     "ratio_c"),
    ("report-latin1", ["-m", "baq.report", "{d}/r-latin1.json", "-o", "{d}/plots"],
     "not UTF-8"),
    ("report-sweep-rows", ["-m", "baq.report", "--sweep", "{d}/s-rows.json", "-o",
                           "{d}/plots"], "perplexity"),
    ("report-out-file", ["-m", "baq.report", "{d}/r-list.json", "-o", "{d}/work-file"],
     "work-file"),
    # -- baq.calibrate (python -m baq.calibrate FILE: check a Hessians file)
    ("calibrate-missing", ["-m", "baq.calibrate", "{d}/nope.safetensors"], "nope.safetensors"),
    ("calibrate-dir", ["-m", "baq.calibrate", "{d}/adir"], "adir"),
    ("calibrate-short", ["-m", "baq.calibrate", "{d}/st-short.safetensors"], "st-short"),
    ("calibrate-size", ["-m", "baq.calibrate", "{d}/st-size.safetensors"], "header"),
    ("calibrate-json", ["-m", "baq.calibrate", "{d}/st-json.safetensors"], "header"),
    ("calibrate-list", ["-m", "baq.calibrate", "{d}/st-list.safetensors"], "header"),
    ("calibrate-deep", ["-m", "baq.calibrate", "{d}/st-deep.safetensors"], "header"),
    ("calibrate-dup", ["-m", "baq.calibrate", "{d}/st-dup.safetensors"], "'a'"),
    ("calibrate-dtype", ["-m", "baq.calibrate", "{d}/st-dtype.safetensors"], "Q7"),
    ("calibrate-range", ["-m", "baq.calibrate", "{d}/st-range.safetensors"], "'a'"),
    ("calibrate-shape", ["-m", "baq.calibrate", "{d}/st-shape.safetensors"], "'a'"),
    ("calibrate-fields", ["-m", "baq.calibrate", "{d}/st-fields.safetensors"], "'a'"),
    ("calibrate-negshape", ["-m", "baq.calibrate", "{d}/st-negshape.safetensors"], "'a'"),
]


def _run(d, argv: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"), OPENBLAS_NUM_THREADS="1",
               MPLBACKEND="Agg")
    args = [a.replace("{d}", str(d)) for a in argv]
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=d, timeout=120)


@pytest.fixture(scope="module")
def results(d):
    """Every case run once, in parallel (each is a fresh interpreter)."""
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda c: _run(d, c[1]), CASES))
    return {c[0]: g for c, g in zip(CASES, got)}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_one_line_error(case, d, results) -> None:
    name, argv, needle = case
    p = results[name]
    prog = "baq-" + argv[1].split(".", 1)[1].replace("_", "-")
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in p.stderr, p.stderr
    assert p.returncode in (1, 2), (p.returncode, p.stderr)
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith(f"{prog}: error: "), lines[0]
    assert needle in lines[0], lines[0]


def test_valid_inputs_still_work(d) -> None:
    """The same files, unbroken, are accepted (so the cases above fail for their defect)."""
    for argv in (EV + ["{d}/q.mlir"], EV + ["{d}/fp.mlir"], EX, EM + ["--prefill", "8"],
                 ["-m", "baq.packed", "{d}/q.mlir"], ["-m", "baq.calibrate", "{d}/h.safetensors"],
                 ["-m", "baq.eval", "--bits-only", "{d}/q.mlir"]):
        p = _run(d, argv)
        assert p.returncode == 0 and "error" not in p.stderr, (argv, p.stderr)


def test_reader_raises_only_located_errors() -> None:
    """Each truncation and each one-character deletion of a valid packed module either
    reads or raises a BaqError (FormatError/MlirError) -- never KeyError, ValueError from
    numpy or bytes.fromhex, AssertionError or OverflowError."""
    from baq.cli import BaqError
    from baq.packed import parse_module
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 13)).astype(np.float32)
    text = module([packed_function("f", pack(W, [3, 0, 8, 2, 5, 1, 4, 4, 7, 6, 2, 3, 1], 4))])
    for i in range(len(text)):
        for t in (text[:i], text[:i] + text[i + 1:]):
            try:
                parse_module(t)
            except BaqError:
                pass
    big = "9" * 24
    for old, new in (("bits = [3", f"bits = [{big}"), ("channel_dim = 1", f"channel_dim = {big}"),
                     ("tensor<5x", f"tensor<{big}x"), ("outputs = 5", "outputs = 0")):
        with pytest.raises(BaqError):
            parse_module(text.replace(old, new))


def test_safetensors_edges() -> None:
    """The header size at the edges of the file, and zero-size tensors."""
    from baq.calibrate import SafetensorsError, parse_safetensors
    head = json.dumps({"a": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]},
                       "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    raw = _raw_st(head, b"\0\0\x80\x3f")
    got = parse_safetensors(raw)
    assert got["a"].shape == (0,) and got["b"].tolist() == [1.0]
    for size in (len(head) + 4 + 1, len(head) + 100):  # past the end of the file
        with pytest.raises(SafetensorsError, match="size field"):
            parse_safetensors(struct.pack("<Q", size) + raw[8:])
    with pytest.raises(SafetensorsError, match="outside the 3 data bytes"):
        parse_safetensors(raw[:-1])
    assert parse_safetensors(_raw_st(b"{}", b"")) == {}
    with pytest.raises(SafetensorsError, match="too short"):
        parse_safetensors(struct.pack("<Q", 0)[:7])
    ok = _raw_st(b'{"__metadata__": {"k": "v"}, "a": {"dtype": "F16", "shape": [1, 1], '
                 b'"data_offsets": [0, 2]}}', b"\0\0")
    assert list(parse_safetensors(ok)) == ["a"]
    with pytest.raises(SafetensorsError, match="nested deeper"):
        parse_safetensors(_raw_st(b'{"a": {"shape": [[1]]}}', b""))


def test_bugs_keep_their_traceback(capsys) -> None:
    """The boundary converts known input errors only: anything else is a bug and propagates."""
    from baq.cli import BaqError, run

    def bug(argv):
        raise KeyError("not an input error")

    def bad_input(argv):
        raise BaqError("f.txt: line 1\nline 2")

    with pytest.raises(KeyError):
        run("baq-x", bug, [])
    assert run("baq-x", bad_input, []) == 2
    assert capsys.readouterr().err == "baq-x: error: f.txt: line 1 | line 2\n"
