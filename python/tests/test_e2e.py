"""End to end on a tiny synthetic llama2.c model: checkpoint bytes, tokenizer, export,
mlir-opt parse, FP32 and packed evaluation; baq-opt runs when it has been built."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pytest
from conftest import MLIR_OPT, baq_opt, mlir_opt
from packer import pack, packed_function

from baq import eval as baq_eval
from baq import export, report
from baq.export import hessian_key, synthetic_tokenizer
from baq.llama2c import (Config, Transformer, parse_checkpoint, perplexity, random_checkpoint,
                         read_checkpoint, token_stream)
from baq.mlir import parse_elements, parse_resources
from baq.packed import read_module

CFG = Config(dim=16, hidden_dim=40, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=320,
             seq_len=64)
STORY = ("Once upon a time the cat and the dog went to the park. They played and ran.\n"
         "The end.\n<|endoftext|>\nThe sun was hot, and the hen sat in the shade.\n"
         "<|endoftext|>\n")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e")
    ck = random_checkpoint(CFG, seed=11)
    (d / "model.bin").write_bytes(ck.to_bytes())
    (d / "tok.bin").write_bytes(synthetic_tokenizer(CFG.vocab_size).to_bytes())
    (d / "calib.txt").write_text(STORY * 6)
    (d / "dev.txt").write_text(STORY.replace("cat", "fox") * 4)
    rc = export.main(["--checkpoint", str(d / "model.bin"), "--tokenizer", str(d / "tok.bin"),
                      "--calib", str(d / "calib.txt"), "--window-len", "64", "--windows", "0",
                      "-q", "-o", str(d / "model.mlir")])
    assert rc == 0
    return d


def _eval(d, mlir, capsys) -> dict:
    out = d / "res.json"
    rc = baq_eval.main(["--checkpoint", str(d / "model.bin"), "--tokenizer", str(d / "tok.bin"),
                        "--text", str(d / "dev.txt"), "--window-len", "64", "--json", str(out),
                        str(mlir)])
    assert rc == 0
    printed = capsys.readouterr().out
    res = json.loads(out.read_text())
    assert f"perplexity: {res['perplexity']:.4f}" in printed
    assert re.search(r"total bits/weight: \d+\.\d+", printed)
    return res


def test_files_roundtrip(files) -> None:
    ck = read_checkpoint(files / "model.bin")
    assert ck.config == CFG
    assert parse_checkpoint((files / "model.bin").read_bytes()).config.dim == 16


def test_fp32_eval_matches_direct(files, capsys) -> None:
    res = _eval(files, files / "model.mlir", capsys)
    ck = read_checkpoint(files / "model.bin")
    from baq.llama2c import Tokenizer
    tok = Tokenizer.load(files / "tok.bin", CFG.vocab_size)
    stream = token_stream((files / "dev.txt").read_text(), tok)
    direct = perplexity(Transformer(ck), stream, 64)
    assert res["perplexity"] == pytest.approx(direct.perplexity, rel=1e-12)
    assert 1.0 < res["perplexity"] < 10 * CFG.vocab_size
    assert res["payload_bits"] == res["total_bits"] == 32.0
    assert res["layers"] == 14 and res["quantized_layers"] == 0


@pytest.mark.skipif(not MLIR_OPT.is_file(), reason="mlir-opt not installed")
def test_export_parses_with_mlir_opt(files) -> None:
    p = subprocess.run([str(mlir_opt()), "--allow-unregistered-dialect",
                        str(files / "model.mlir")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_packed_layer_eval(files, capsys) -> None:
    """Replace one function by a packed 4/3/0-bit version: eval sees exactly the packed W."""
    ck = read_checkpoint(files / "model.bin")
    text = (files / "model.mlir").read_text()
    W = ck.linear("blk1_w2")
    rng = np.random.default_rng(0)
    bits = rng.choice([0, 3, 4, 5], size=W.shape[1]).tolist()
    pk = pack(W, bits, 16)
    ftext, res = packed_function("blk1_w2", pk)
    start = text.index("  func.func @blk1_w2(")
    end = text.index("  func.func @blk1_w3(")
    text = text[:start] + ftext + text[end:]
    entries = "".join(f'      {k}: "{v}",\n' for k, v in res.items())
    text = text.replace("    builtin: {\n", "    builtin: {\n" + entries, 1)
    q = files / "q.mlir"
    q.write_text(text)
    r = _eval(files, q, capsys)
    assert r["quantized_layers"] == 1
    from baq.llama2c import Tokenizer
    tok = Tokenizer.load(files / "tok.bin", CFG.vocab_size)
    stream = token_stream((files / "dev.txt").read_text(), tok)
    direct = perplexity(Transformer(ck, {"blk1_w2": pk["W_hat"]}), stream, 64).perplexity
    assert r["perplexity"] == pytest.approx(direct, rel=1e-12)
    fp = perplexity(Transformer(ck), stream, 64).perplexity
    assert r["perplexity"] != pytest.approx(fp, rel=1e-9)
    # bits: 13 FP32 layers + the packed one (M=16, N=40, G=ceil(P/16) f16 scale+zero)
    n_all = sum(np.prod(CFG.linear_shape(k)) for k in ("wq", "wk", "wv", "wo", "w1", "w2", "w3")) * 2
    P = sum(b > 0 for b in bits)
    G = -(-P // 16)
    packed_total = 16 * sum(bits) + (32 * pk["nwords"] - 16 * sum(bits)) + 16 * G * 32 + 4 * 40
    want = (32 * (n_all - 16 * 40) + packed_total) / n_all
    assert r["total_bits"] == pytest.approx(want, rel=1e-12)


def test_report_plots(tmp_path) -> None:
    rep = {"matmuls": [
        {"name": "blk0_wq", "shape": [16, 16], "bits_histogram": [1, 0, 10, 5, 0, 0, 0, 0, 0],
         "ratio_c": 0.8, "hessian_loss": 1.0, "uniform_hessian_loss": 1.4},
        {"location": "loc(\"x\")", "bits_histogram": [0, 0, 16], "ratio_c": 0.95},
        {"name": "nohist"}], "total": {}}
    (tmp_path / "a.report.json").write_text(json.dumps(rep))
    sweep = {"rows": [
        {"method": "fp32", "target_bits": None, "total_bits": 32.0, "perplexity": 4.45},
        {"method": "rtn", "target_bits": 2, "total_bits": 2.6, "perplexity": 900.0},
        {"method": "rtn", "target_bits": 3, "total_bits": 3.6, "perplexity": 20.0},
        {"method": "baq-exact", "target_bits": 2, "total_bits": 2.6, "perplexity": 250.0},
        {"method": "gptq", "target_bits": 2, "error": "boom"}]}
    (tmp_path / "sweep.json").write_text(json.dumps(sweep))
    out = tmp_path / "plots"
    rc = report.main([str(tmp_path / "a.report.json"), "--sweep", str(tmp_path / "sweep.json"),
                      "-o", str(out)])
    assert rc == 0
    for n in ("a-bits.png", "a-ratio.png", "sweep-ppl.png"):
        data = (out / n).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    assert "| gptq | 2 | - | - | failed |" in baq_eval.markdown_table(sweep["rows"])


def test_baq_opt_sweep(files, tmp_path) -> None:
    """Needs <repo>/build/bin/baq-opt: quantize the synthetic export and evaluate it."""
    tool = baq_opt()
    out = tmp_path / "sweep"
    rc = baq_eval.main(["--checkpoint", str(files / "model.bin"), "--tokenizer",
                        str(files / "tok.bin"), "--text", str(files / "dev.txt"),
                        "--window-len", "64", "--sweep", "--baq-opt", str(tool), "--bits", "2",
                        "4", "--methods", "fp32", "rtn", "baq-exact", "--out-dir", str(out),
                        str(files / "model.mlir")])
    doc = json.loads((out / "sweep.json").read_text())
    errors = [r.get("error") for r in doc["rows"] if "error" in r]
    assert rc == 0 and not errors, errors
    rows = {(r["method"], r["target_bits"]): r for r in doc["rows"]}
    fp = rows[("fp32", None)]["perplexity"]
    for b in (2, 4):
        ex = rows[("baq-exact", b)]
        assert ex["payload_bits"] <= b + 1e-9  # exact allocator never exceeds the budget
        assert ex["total_bits"] > ex["payload_bits"]  # metadata is charged
        assert np.isfinite(ex["perplexity"]) and ex["perplexity"] > 0
        assert abs(rows[("rtn", b)]["payload_bits"] - b) < 1e-9
    assert rows[("baq-exact", 4)]["perplexity"] < rows[("baq-exact", 2)]["perplexity"] or \
        rows[("baq-exact", 4)]["perplexity"] < 1.5 * fp
    for r in doc["rows"][1:]:  # the reader's accounting equals the pass's own report
        assert r["report_total_bits"] == pytest.approx(r["total_bits"], abs=1e-12)
        assert r["report_payload_bits"] == pytest.approx(r["payload_bits"], abs=1e-12)
    q = read_module(out / "baq-exact-2b.mlir")
    assert len(q) == 14 and all(w.layout is not None for w in q.values())
    # the independently dequantized weights reproduce the pass's Hessian loss per layer
    ck = read_checkpoint(files / "model.bin")
    fp_text = (files / "model.mlir").read_text()
    res = parse_resources(fp_text)
    rep = json.loads((out / "baq-exact-2b.report.json").read_text())
    assert len(rep["matmuls"]) == 14
    for m in rep["matmuls"]:
        name = m["name"]
        W, Wq = ck.linear(name).astype(np.float64), q[name].weight.astype(np.float64)
        N = W.shape[1]
        H = parse_elements(f"dense_resource<{hessian_key(name)}>", (N, N), "f32", res)
        E = W - Wq
        loss = float(np.einsum("ij,jk,ik->", E, H.astype(np.float64), E))
        assert loss == pytest.approx(m["hessian_loss"], rel=1e-4, abs=1e-9), name
        assert np.bincount(q[name].layout.bits, minlength=9).tolist() == m["bits_histogram"]
    assert (out / "sweep.md").read_text().startswith("| method |")
