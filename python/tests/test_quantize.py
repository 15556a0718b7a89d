"""baq-quantize: the sequential calibration protocol (against full forward passes of
partially quantized models), the driver end to end with baq-opt, and its input errors."""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import BAQ_OPT, REPO, baq_opt, data_file

from baq import eval as baq_eval
from baq import quantize
from baq.eval import BaqOptError
from baq.export import build_module, collect_hessians, gptq_windows, synthetic_tokenizer
from baq.llama2c import (Checkpoint, Config, Tokenizer, parse_linear_name, random_checkpoint,
                         read_checkpoint, token_stream)
from baq.packed import parse_module, read_module
from baq.quantize import CalibrationError, calibrate, strip_report

CFG = Config(dim=16, hidden_dim=40, n_layers=3, n_heads=4, n_kv_heads=2, vocab_size=320,
             seq_len=64)
KEYS = ("attn", "wo", "ffn", "w2")
STORY = ("Once upon a time the cat and the dog went to the park. They played and ran.\n"
         "The end.\n<|endoftext|>\nThe sun was hot, and the hen sat in the shade.\n"
         "<|endoftext|>\n")


@pytest.fixture(scope="module")
def model():
    ck = random_checkpoint(CFG, seed=3)
    rng = np.random.default_rng(1)
    return ck, list(rng.integers(0, CFG.vocab_size, size=(5, 48)))


def coarse(names, hessians, ck):
    """A stand-in quantizer: round to a 0.25 grid (Hessian-independent, so the reference
    below can recompute the very same weights)."""
    return {n: np.round(ck.linear(n) * 4) / 4 for n in names}


def substituted(ck: Checkpoint, names) -> Checkpoint:
    """The checkpoint with the named linear layers replaced by their coarse version."""
    t = {k: v.copy() for k, v in ck.tensors.items()}
    for n in names:
        l, kind = parse_linear_name(n)
        t[kind][l] = np.round(ck.linear(n) * 4) / 4
    return replace(ck, tensors=t)


def run(ck, windows, mode):
    calls = []

    def q(names, h):
        calls.append((list(names), sorted(h)))
        return coarse(names, h, ck)
    H, fed = calibrate(ck, windows, mode, q, batch=2)
    return H, fed, calls


def test_fp32_mode_is_export(model) -> None:
    ck, windows = model
    H, fed = calibrate(ck, windows, "fp32", None, batch=2)
    ref = collect_hessians(ck, windows, batch=2)
    assert fed == {} and set(H) == set(ref)
    for k in ref:
        np.testing.assert_array_equal(H[k], ref[k])


def test_sequential_protocol(model) -> None:
    """Block b's Hessians equal those of a full FP forward pass of the model whose blocks
    0..b-1 are quantized; block 0 equals FP32, later blocks differ from it."""
    ck, windows = model
    H, fed, calls = run(ck, windows, "sequential")
    fp = collect_hessians(ck, windows, batch=2)
    assert [c[0] for c in calls] == [[f"blk{l}_{k}" for k in ("wq", "wk", "wv", "wo", "w1",
                                                               "w3", "w2")] for l in range(3)]
    assert calls[0][1] == sorted(f"blk0_{k}_hessian" for k in KEYS)
    for l in range(CFG.n_layers):
        before = [n for n in CFG.linear_names() if parse_linear_name(n)[0] < l]
        ref = collect_hessians(substituted(ck, before), windows, batch=2)
        for k in KEYS:
            key = f"blk{l}_{k}_hessian"
            np.testing.assert_allclose(H[key], ref[key], rtol=1e-12, atol=0)
            if l == 0:
                np.testing.assert_array_equal(H[key], fp[key])
            else:
                assert np.abs(H[key] - fp[key]).max() > 1e-3 * np.abs(fp[key]).max(), key
    assert sorted(fed) == sorted(CFG.linear_names())
    for n, w in fed.items():
        np.testing.assert_array_equal(w, np.round(ck.linear(n) * 4) / 4)


def test_true_sequential_protocol(model) -> None:
    """Each sublayer group's Hessian comes from a forward pass with all earlier groups of
    the block (and all earlier blocks) quantized."""
    ck, windows = model
    H, _, calls = run(ck, windows, "true-sequential")
    assert len(calls) == 4 * CFG.n_layers
    assert [c[0] for c in calls[:4]] == [["blk0_wq", "blk0_wk", "blk0_wv"], ["blk0_wo"],
                                         ["blk0_w1", "blk0_w3"], ["blk0_w2"]]
    order = ("wq", "wk", "wv", "wo", "w1", "w3", "w2")
    first_kind = {"attn": "wq", "wo": "wo", "ffn": "w1", "w2": "w2"}
    fp = collect_hessians(ck, windows, batch=2)
    for l in range(CFG.n_layers):
        for k in KEYS:
            upto = order.index(first_kind[k])
            done = [n for n in CFG.linear_names()
                    if parse_linear_name(n)[0] < l or
                    (parse_linear_name(n)[0] == l and order.index(parse_linear_name(n)[1]) < upto)]
            ref = collect_hessians(substituted(ck, done), windows, batch=2)
            key = f"blk{l}_{k}_hessian"
            np.testing.assert_allclose(H[key], ref[key], rtol=1e-12, atol=0)
            if (l, k) == (0, "attn"):
                np.testing.assert_array_equal(H[key], fp[key])
            else:
                assert np.abs(H[key] - fp[key]).max() > 1e-3 * np.abs(fp[key]).max(), key


def test_calibrate_errors(model) -> None:
    ck, windows = model
    with pytest.raises(CalibrationError, match="unknown calibration mode"):
        calibrate(ck, windows, "half-sequential", None)
    with pytest.raises(CalibrationError, match="no calibration windows"):
        calibrate(ck, [], "sequential", lambda n, h: {})
    with pytest.raises(CalibrationError, match="needs a quantizer"):
        calibrate(ck, windows, "sequential", None)


def test_strip_report() -> None:
    assert strip_report("target-bits=2 report=r.json budget=total") == \
        "target-bits=2 budget=total"
    assert strip_report('report="a b.json" uniform=true') == "uniform=true"
    assert strip_report("target-bits=3") == "target-bits=3"


# ----------------------------------------------------------------------------------------
# The driver with baq-opt on a synthetic model
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("quantize")
    ck = random_checkpoint(replace(CFG, n_layers=2), seed=11)
    (d / "model.bin").write_bytes(ck.to_bytes())
    (d / "tok.bin").write_bytes(synthetic_tokenizer(CFG.vocab_size).to_bytes())
    (d / "calib.txt").write_text(STORY * 6)
    (d / "dev.txt").write_text(STORY.replace("cat", "fox") * 4)
    return d


def args(d, *extra):
    return ["--checkpoint", str(d / "model.bin"), "--tokenizer", str(d / "tok.bin"),
            "--calib", str(d / "calib.txt"), "--window-len", "64", "--windows", "3", "-q",
            *extra]


@pytest.mark.parametrize("mode", ["fp32", "sequential", "true-sequential"])
def test_driver_output_evaluates_and_lowers(files, tmp_path, mode) -> None:
    tool = baq_opt()
    out = tmp_path / "q.mlir"
    rep = tmp_path / "r.json"
    cal = tmp_path / "cal.mlir"
    rc = quantize.main(args(files, "--baq-opt", str(tool), "--calibration", mode,
                            "--allocate", f"target-bits=3 report={rep}",
                            "--save-calibrated", str(cal), "--work-dir", str(tmp_path / "w"),
                            "-o", str(out)))
    assert rc == 0
    q = read_module(out)
    assert len(q) == 14 and all(w.layout is not None for w in q.values())
    # one report, from the final run over all layers; per-step runs wrote none
    assert len(json.loads(rep.read_text())["matmuls"]) == 14
    steps = sorted((tmp_path / "w").glob("step*.q.mlir"))
    assert len(steps) == {"fp32": 0, "sequential": 2, "true-sequential": 8}[mode]
    # the output is exactly what baq-opt makes of the calibrated export-format module
    again = tmp_path / "again.mlir"
    subprocess.run([str(tool), f"--baq-allocate=target-bits=3", str(cal), "-o", str(again)],
                   check=True, capture_output=True)
    assert again.read_text() == out.read_text()
    res = tmp_path / "res.json"
    assert baq_eval.main(["--checkpoint", str(files / "model.bin"), "--tokenizer",
                          str(files / "tok.bin"), "--text", str(files / "dev.txt"),
                          "--window-len", "64", "--json", str(res), str(out)]) == 0
    r = json.loads(res.read_text())
    assert r["quantized_layers"] == 14 and r["payload_bits"] == pytest.approx(3.0)
    assert np.isfinite(r["perplexity"])
    p = subprocess.run([str(tool), "--baq-lower-cpu", str(out), "-o", str(tmp_path / "cpu.mlir")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "baq." not in (tmp_path / "cpu.mlir").read_text().split("{-#")[0]


def test_driver_sequential_hessians_in_saved_module(files, tmp_path) -> None:
    """The saved calibrated module carries block-0 Hessians equal to the FP32 export's and
    block-1 Hessians that differ (they see block 0 quantized)."""
    tool = baq_opt()
    mods = {}
    for mode in ("fp32", "sequential"):
        cal = tmp_path / f"{mode}.mlir"
        assert quantize.main(args(files, "--baq-opt", str(tool), "--calibration", mode,
                                  "--allocate", "target-bits=2", "--save-calibrated", str(cal),
                                  "-o", str(tmp_path / f"{mode}.q.mlir"))) == 0
        from baq.mlir import parse_resources
        mods[mode] = parse_resources(cal.read_text())
    for k in KEYS:
        assert mods["fp32"][f"blk0_{k}_hessian"] == mods["sequential"][f"blk0_{k}_hessian"]
        assert mods["fp32"][f"blk1_{k}_hessian"] != mods["sequential"][f"blk1_{k}_hessian"]
    # weights are the checkpoint's in both
    for n in ("blk0_wq", "blk1_w2"):
        assert mods["fp32"][n] == mods["sequential"][n]


def official_draw(stream, nsamples, seed, seqlen):
    """IST-DASLab/gptq ``datautils.get_wikitext2``'s loop, verbatim but for the tensor."""
    random.seed(seed)
    trainloader = []
    for _ in range(nsamples):
        i = random.randint(0, len(stream) - seqlen - 1)
        j = i + seqlen
        trainloader.append(stream[i:j])
    return trainloader


def test_gptq_windows_are_the_official_draw() -> None:
    stream = np.arange(5000) * 7
    for seed in (0, 1, 9):
        want = official_draw(stream, 128, seed, 512)
        got = gptq_windows(stream, 512, 128, seed)
        assert len(got) == 128
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
    starts = [int(w[0]) // 7 for w in gptq_windows(stream, 512, 128, 0)]
    # random offsets, not slots: unaligned, overlapping, kept in draw order
    assert any(s % 512 for s in starts)
    assert min(np.diff(sorted(starts))) < 512 and starts != sorted(starts)
    assert gptq_windows(stream, 512, 128, 0)[5].tolist() != \
        gptq_windows(stream, 512, 128, 1)[5].tolist()
    with pytest.raises(ValueError, match="draws a number of windows, got 0"):
        gptq_windows(stream, 512, 0, 0)
    with pytest.raises(ValueError, match="needs more than 512 tokens, the stream has 512"):
        gptq_windows(stream[:512], 512, 4, 0)


def test_driver_window_sampling_gptq(files, tmp_path) -> None:
    """--window-sampling gptq calibrates on exactly the official draw of the token stream,
    also when it asks for more windows than the text has slots."""
    tool = baq_opt()
    ck = read_checkpoint(files / "model.bin")
    stream = token_stream((files / "calib.txt").read_text(),
                          Tokenizer.load(files / "tok.bin", CFG.vocab_size))
    n = len(stream) // 64 + 3
    cal = {}
    for sampling in ("gptq", "slots"):
        cal[sampling] = tmp_path / f"{sampling}.mlir"
        extra = ["--window-sampling", sampling] if sampling == "gptq" else []
        assert quantize.main(args(files, "--baq-opt", str(tool), "--calibration", "fp32",
                                  "--allocate", "target-bits=2", "--save-calibrated",
                                  str(cal[sampling]), "-o", str(tmp_path / "q.mlir"),
                                  *extra)) == 0
    want = build_module(ck, collect_hessians(ck, gptq_windows(stream, 64, 3, 0), batch=8))
    assert cal["gptq"].read_text() == want
    assert cal["slots"].read_text() != want
    assert quantize.main(args(files, "--baq-opt", str(tool), "--calibration", "sequential",
                              "--allocate", "target-bits=2", "--window-sampling", "gptq",
                              "--windows", str(n), "-o", str(tmp_path / "many.mlir"))) == 0
    assert len(read_module(tmp_path / "many.mlir")) == 14


def test_sequential_driver_is_official_llama_sequential(tmp_path) -> None:
    """Uniform 2-bit GPTQ (``refine=0``: plain GPTQ) with the min-max grid, sequential
    calibration: the driver gives bit for bit the weights of the numpy port of the official
    code (bench/quality), once the port's grid is rounded to the f16 range and minimum the
    format stores (f16 scales and zeros: ``scale-type=f16 zero-type=auto``); with the official float32 grid the
    weights differ."""
    spec = importlib.util.spec_from_file_location(
        "gptq_official", REPO / "bench" / "quality" / "gptq_official.py")
    official = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(official)
    tool = baq_opt()
    for seed in (0, 1):
        ck = random_checkpoint(CFG, seed=seed)
        stream = np.random.default_rng(seed).integers(0, CFG.vocab_size, size=600)
        windows = gptq_windows(stream, 64, 12, seed)
        out = tmp_path / f"q{seed}.mlir"
        quantize.quantize_model(ck, windows, "sequential", tool,
                                "target-bits=2 budget=payload quantizer=gptq uniform=true "
                                "mse-grid=false scale-type=f16 zero-type=auto act-order=false "
                                "refine=0", out,
                                tmp_path)
        got = {n: w.weight for n, w in read_module(out).items()}
        f16 = official.official_sequential(ck, windows, 2, f16_grid=True)
        f32 = official.official_sequential(ck, windows, 2, f16_grid=False)
        assert sorted(got) == sorted(f16) == sorted(CFG.linear_names())
        for n in CFG.linear_names():
            np.testing.assert_array_equal(got[n], f16[n], err_msg=n)
        assert sum(int((got[n] != f32[n]).sum()) for n in got) > 1000


# ----------------------------------------------------------------------------------------
# Bad arguments
# ----------------------------------------------------------------------------------------


def cli(argv, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["baq-quantize", *argv])
    try:
        rc = quantize.cli()
    except SystemExit as e:  # argparse
        rc = e.code
    return rc, capsys.readouterr().err


def test_bad_arguments(files, tmp_path, monkeypatch, capsys) -> None:
    out = str(tmp_path / "q.mlir")
    tool = str(BAQ_OPT)
    rc, err = cli(args(files, "--calibration", "half", "-o", out), monkeypatch, capsys)
    assert rc == 2 and "invalid choice: 'half'" in err
    rc, err = cli(args(files, "--windows", "-1", "-o", out), monkeypatch, capsys)
    assert rc == 2 and "--windows must be >= 0" in err
    rc, err = cli(args(files, "--batch", "0", "-o", out), monkeypatch, capsys)
    assert rc == 2 and "--batch must be >= 1" in err
    rc, err = cli(args(files, "-o", str(tmp_path / "nodir" / "q.mlir")), monkeypatch, capsys)
    assert rc == 2 and "does not exist" in err
    rc, err = cli(args(files, "--windows", "500", "-o", out), monkeypatch, capsys)
    assert rc == 2 and "baq-quantize: error: --windows 500" in err and "only" in err
    rc, err = cli(args(files, "--window-sampling", "gptq", "--windows", "0", "-o", out),
                  monkeypatch, capsys)
    assert rc == 2 and "error: --window-sampling gptq:" in err and "got 0" in err
    (tmp_path / "short.txt").write_text("The cat sat.\n")
    rc, err = cli(args(files, "--window-sampling", "gptq", "--calib", str(tmp_path / "short.txt"),
                       "-o", out), monkeypatch, capsys)
    assert rc == 2 and "short.txt: GPTQ window sampling needs more than 64 tokens" in err
    rc, err = cli(args(files, "--window-sampling", "strided", "-o", out), monkeypatch, capsys)
    assert rc == 2 and "invalid choice: 'strided'" in err
    bad = args(files, "-o", out)
    bad[1] = str(files / "missing.bin")
    rc, err = cli(bad, monkeypatch, capsys)
    assert rc == 2 and "baq-quantize: error:" in err and "missing.bin" in err
    rc, err = cli(args(files, "--baq-opt", str(tmp_path / "no-baq-opt"), "-o", out),
                  monkeypatch, capsys)
    assert rc == 2 and "baq-opt not found" in err
    assert not (tmp_path / "q.mlir").exists()


def test_bad_allocate_options(files, tmp_path, monkeypatch, capsys) -> None:
    tool = baq_opt()
    rc, err = cli(args(files, "--baq-opt", str(tool), "--allocate", "target-bitz=2",
                       "-o", str(tmp_path / "q.mlir")), monkeypatch, capsys)
    assert rc == 2 and "rejected by baq-opt" in err and "target-bitz" in err
    rc, err = cli(args(files, "--baq-opt", str(tool), "--allocate", "allocator=greedy",
                       "-o", str(tmp_path / "q.mlir")), monkeypatch, capsys)
    assert rc == 2 and "rejected by baq-opt" in err


def test_final_run_must_reproduce_fed_weights(files, tmp_path, monkeypatch, capsys) -> None:
    """If the whole-module run quantizes differently from the block-wise runs (here: a
    wrapper changes its target), the driver fails and leaves no output behind."""
    tool = baq_opt()
    wrapper = tmp_path / "baq-opt-wrapper"
    wrapper.write_text(f"""#!/bin/sh
case "$2" in *calibrated.mlir)
  exec {tool} "$(echo "$1" | sed s/target-bits=2/target-bits=3/)" "$2" "$3" "$4";;
esac
exec {tool} "$@"
""")
    wrapper.chmod(0o755)
    out = tmp_path / "q.mlir"
    rc, err = cli(args(files, "--baq-opt", str(wrapper), "--calibration", "sequential",
                       "--allocate", "target-bits=2", "-o", str(out)), monkeypatch, capsys)
    assert rc == 2 and "differently from the block-wise runs" in err, err
    assert not out.exists()
    # the fp32 mode has nothing fed forward to compare: the wrapper's output stands
    rc, err = cli(args(files, "--baq-opt", str(wrapper), "--calibration", "fp32",
                       "--allocate", "target-bits=2", "-o", str(out)), monkeypatch, capsys)
    assert rc == 0 and read_module(out)["blk0_wq"].layout.bits.mean() == 3


# ----------------------------------------------------------------------------------------
# The real model, short calibration
# ----------------------------------------------------------------------------------------


def test_stories260k_true_sequential(tmp_path) -> None:
    """4 calibration windows, 2 bits: the module evaluates (first 8 dev windows) and its
    perplexity is finite and far below a random model's (vocab 512)."""
    tool = baq_opt()
    D = [data_file(n) for n in ("stories260K.bin", "tok512.bin", "tinystories-calib.txt",
                                "tinystories-dev.txt")]
    out = tmp_path / "q.mlir"
    assert quantize.main(["--checkpoint", str(D[0]), "--tokenizer", str(D[1]), "--calib",
                          str(D[2]), "--baq-opt", str(tool), "--windows", "4",
                          "--calibration", "true-sequential", "--allocate", "target-bits=3",
                          "-q", "-o", str(out)]) == 0
    text = D[3].read_text()
    short = tmp_path / "dev.txt"
    short.write_text(text[: len(text) // 20])
    res = tmp_path / "r.json"
    assert baq_eval.main(["--checkpoint", str(D[0]), "--tokenizer", str(D[1]), "--text",
                          str(short), "--json", str(res), str(out)]) == 0
    r = json.loads(res.read_text())
    assert r["quantized_layers"] == 35 and r["payload_bits"] == pytest.approx(3.0)
    assert 1.0 < r["perplexity"] < 100.0


# ----------------------------------------------------------------------------------------
# baq.results on the synthetic model
# ----------------------------------------------------------------------------------------


def results_args(files, tmp_path, *extra):
    return ["--checkpoint", str(files / "model.bin"), "--tokenizer", str(files / "tok.bin"),
            "--calib", str(files / "calib.txt"), "--text", str(files / "dev.txt"),
            "--windows", "3", "--work-dir", str(tmp_path / "wd"), "--doc",
            str(tmp_path / "R.md"), "--plot", str(tmp_path / "plots" / "p.png"), *extra]


def test_results_matrix(files, tmp_path, capsys) -> None:
    from baq import results
    tool = baq_opt()
    doc = tmp_path / "R.md"
    doc.write_text("# Results\n\nhand-written intro\n\n" + results.BEGIN + "\nold\n" +
                   results.END + "\n\n## Discussion\n\nkept\n")
    argv = results_args(files, tmp_path, "--baq-opt", str(tool), "--methods", "gptq",
                        "baq-exact", "--calibrations", "fp32", "sequential", "--targets",
                        "payload:2", "uniform:2", "--seeds", "0", "1", "--jobs", "2",
                        "--extra", "group-size=-5")
    rc = results.main(argv)
    assert rc == 1  # the deliberately invalid extra configuration fails, the rest succeed
    text = doc.read_text()
    assert text.startswith("# Results\n\nhand-written intro\n\n" + results.BEGIN)
    assert text.endswith(results.END + "\n\n## Discussion\n\nkept\n") and "\nold\n" not in text
    assert "| method | fp32 | sequential |" in text and "Machine: " in text
    assert "baq-exact+group-size=-5 | failed (2) | failed (2) |" in text
    assert "group-size must be >= 0" in text
    png = (tmp_path / "plots" / "p.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    doc_json = json.loads((tmp_path / "wd" / "results.json").read_text())
    runs = doc_json["runs"]
    # gptq's payload:2 run serves both columns; BAQ's uniform:2 column is budget=total at
    # uniform GPTQ's measured total, rounded down
    tot = doc_json["uniform_totals"]["2.0"]
    ex = [r for r in runs if r["run"]["method"] == "baq-exact" and r["run"]["column"] == "uniform:2"]
    assert len(ex) == 4 and all(r["run"]["budget"] == "total" for r in ex)
    assert all(tot - 1e-4 < r["run"]["target"] <= tot for r in ex)
    g = {(r["run"]["calibration"], r["run"]["seed"], r["run"]["column"]): r for r in runs
         if r["run"]["method"] == "gptq"}
    assert g[("fp32", 0, "payload:2")]["perplexity"] == g[("fp32", 0, "uniform:2")]["perplexity"]
    # budget=total at the tiny synthetic shapes may be infeasible per layer; all else runs
    plain = [r for r in runs if r["run"]["budget"] == "payload" and not r["run"]["extra"]]
    assert len(plain) == 12 and not [r["error"] for r in plain if "error" in r]
    assert all(r["payload_bits"] <= 2 + 1e-9 for r in plain)
    assert all("error" in r for r in runs if r["run"]["extra"])
    # mean and min-max over the seeds, as printed
    p = [g[("sequential", s, "payload:2")]["perplexity"] for s in (0, 1)]
    f = results.fmt_ppl
    assert f"**{f(np.mean(p))}** ({f(min(p))}–{f(max(p))})" in text
    assert [f(x) for x in (4.4544, 12.345, 473.66, 37587.3)] == ["4.454", "12.35", "473.7",
                                                                  "37,587"]
    # cached: a second invocation runs nothing and renders the same tables
    runs_dir = tmp_path / "wd" / "runs" / doc_json["fingerprint"]
    kept = {p.name for p in (runs_dir / runs[0]["slug"]).iterdir()}
    assert kept == {"q.mlir", "quantize.log", "eval.log", "eval.json", "result.json"}
    mtime = {r["slug"]: (runs_dir / r["slug"] / "result.json").stat().st_mtime_ns for r in runs}
    capsys.readouterr()
    assert results.main(argv + ["--render-only"]) == 1
    assert "FAILED" not in capsys.readouterr().err
    for slug, m in mtime.items():
        assert (runs_dir / slug / "result.json").stat().st_mtime_ns == m
    tables = [ln for ln in text.splitlines() if ln.startswith("|")]
    assert tables == [ln for ln in doc.read_text().splitlines() if ln.startswith("|")]


def test_results_lock_and_errors(files, tmp_path, capsys) -> None:
    import os
    import socket

    from baq import results
    tool = baq_opt()
    # a run claimed by a live process is skipped, one whose owner is gone is taken over
    run = results.Run("gptq", "fp32", "payload:2", "payload", 2.0, 0)
    argv = results_args(files, tmp_path, "--baq-opt", str(tool), "--methods", "gptq",
                        "--calibrations", "fp32", "--targets", "payload:2", "--seeds", "0")
    assert results.main(argv + ["--render-only"]) == 1  # nothing cached yet
    key = json.loads((tmp_path / "wd" / "results.json").read_text())["fingerprint"]
    d = tmp_path / "wd" / "runs" / key / run.slug
    d.mkdir(parents=True)
    (d / "run.lock").write_text(f"{socket.gethostname()} {os.getpid()}")
    assert results.main(argv) == 1
    assert "held by another process" in capsys.readouterr().err
    assert "Incomplete: 0 of 1 runs finished" in (tmp_path / "R.md").read_text()
    (d / "run.lock").write_text(f"{socket.gethostname()} 999999999")
    assert results.main(argv) == 0 and (d / "result.json").is_file()
    assert not (d / "run.lock").exists()
    with pytest.raises(SystemExit):
        results.main(results_args(files, tmp_path, "--targets", "totl:2"))
    assert "expected total:B, payload:B or uniform:B" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        results.main(results_args(files, tmp_path, "--baq-opt", str(tmp_path / "none")))
    assert "baq-opt not found" in capsys.readouterr().err


def test_results_cache_key(files, tmp_path) -> None:
    """A rebuilt baq-opt (or other data) gets a fresh cache: old numbers are never reused."""
    from argparse import Namespace

    from baq import results
    tool = tmp_path / "baq-opt"
    tool.write_bytes(b"binary v1")
    ns = Namespace(baq_opt=tool, checkpoint=files / "model.bin", tokenizer=files / "tok.bin",
                   calib=files / "calib.txt", text=files / "dev.txt", windows=3)
    k1 = results.fingerprint(ns)
    assert results.fingerprint(ns) == k1
    tool.write_bytes(b"binary v2")
    k2 = results.fingerprint(ns)
    ns.windows = 4
    assert len({k1, k2, results.fingerprint(ns)}) == 3


def test_results_cell_flags_budget_overrun() -> None:
    from baq import results
    s = {"n": 3, "failed": 0, "budget": "total", "target": 2.47, "ppl_mean": 290.1,
         "ppl_min": 227.2, "ppl_max": 377.2, "total_mean": 2.818, "total_min": 2.800,
         "total_max": 2.831, "payload_max": 2.0}
    cell = results._cell(s)
    assert cell.startswith("**290.1** (227.2–377.2) @ 2.818 (2.800–2.831)")
    assert "⚠ over the total budget (2.8310 > 2.47)" in cell
    assert "⚠" not in results._cell({**s, "target": 2.9})
    assert "⚠ over the payload budget" in results._cell({**s, "budget": "payload",
                                                          "target": 2, "payload_max": 2.001})
    assert results._cell(None) == "–" and results._cell({**s, "n": 0, "failed": 3}) == \
        "failed (3)"


def test_results_method_variants_and_partial_cells() -> None:
    """--extra METHOD:OPTIONS makes a variant of that method (uniform GPTQ keeps its payload
    budget in a uniform column); bare options stay baq-exact variants; a cell computed from
    fewer seeds than asked names them."""
    import argparse
    from baq import results
    assert results.method_names(["gptq"], ["zero-type=auto", "gptq:mse-grid=false"]) == [
        ("gptq", ""), ("baq-exact+zero-type=auto", "zero-type=auto"),
        ("gptq+mse-grid=false", "mse-grid=false")]
    a = argparse.Namespace(methods=["gptq"], extra=["gptq:mse-grid=false",
                                                    "gptq:zero-type=auto"],
                           calibrations=["sequential"], targets=["uniform:2"], seeds=[0])
    ready, waiting = results.plan(a, {})
    # every run names its zero storage: a label means the same whatever baq-opt's default
    assert not waiting and [(r.method, r.budget, r.options) for r in ready] == [
        ("gptq", "payload", "target-bits=2 budget=payload quantizer=gptq uniform=true "
                            "zero-type=u8"),
        ("gptq+mse-grid=false", "payload", "target-bits=2 budget=payload quantizer=gptq "
                                           "uniform=true mse-grid=false zero-type=u8"),
        ("gptq+zero-type=auto", "payload", "target-bits=2 budget=payload quantizer=gptq "
                                           "uniform=true zero-type=auto")]
    # the label of 8-bit zeros before they were the default still works
    old = results.Run("baq-exact+zero-type=u8", "fp32", "total:2.47", "total", 2.47, 0,
                      "zero-type=u8")
    new = results.Run("baq-exact", "fp32", "total:2.47", "total", 2.47, 0)
    assert old.options == new.options == ("target-bits=2.47 budget=total quantizer=gptq "
                                          "allocator=exact zero-type=u8")
    cell = {"n": 1, "failed": 0, "seeds": [2], "budget": "total", "target": 2.47,
            "ppl_mean": 40.0, "ppl_min": 40.0, "ppl_max": 40.0, "total_mean": 2.466,
            "total_min": 2.466, "total_max": 2.466, "payload_mean": 2.0, "payload_max": 2.0}
    assert results._cell(cell, 3).endswith("[seeds 2 only]")
    assert "only" not in results._cell(dict(cell, n=3, seeds=[0, 1, 2]), 3)


def test_driver_pooled_module_budget(files, tmp_path) -> None:
    """budget=total pools metadata over the whole model (budget-scope=module, the default):
    without layer importance the block-wise runs get the model's payload rate, the final run
    reproduces them, and the result is what baq-opt makes of the calibrated module with the
    same pooled options."""
    tool = baq_opt()
    out, cal = tmp_path / "q.mlir", tmp_path / "cal.mlir"
    rc = quantize.main(args(files, "--baq-opt", str(tool), "--allocate",
                            "target-bits=3.2 budget=total", "--save-calibrated", str(cal),
                            "--importance-windows", "0", "-o", str(out)))
    assert rc == 0
    q = read_module(out)
    rates = {round(w.layout.bits.mean() * w.shape[1]) / w.shape[1] for w in q.values()}
    assert len(rates) <= 2  # floor(r N) per row: one rate, two input widths
    again = tmp_path / "again.mlir"
    subprocess.run([str(tool), "--baq-allocate=target-bits=3.2 budget=total", str(cal),
                    "-o", str(again)], check=True, capture_output=True)
    assert again.read_text() == out.read_text()
    bits = sum(w.bit_accounting()["total"] for w in q.values())
    assert 3.0 < bits / sum(w.weight.size for w in q.values()) <= 3.2


def test_driver_layer_mix(files, tmp_path) -> None:
    """--layer-mix: every layer uniform, bitwidths per layer within the total, written as
    baq.target_bits so that the final whole-module run reproduces the block-wise runs."""
    tool = baq_opt()
    out, cal = tmp_path / "q.mlir", tmp_path / "cal.mlir"
    rc = quantize.main(args(files, "--baq-opt", str(tool), "--allocate",
                            "target-bits=2.8 budget=total", "--layer-mix",
                            "--save-calibrated", str(cal), "-o", str(out)))
    assert rc == 0
    q = read_module(out)
    per_layer = {n: np.unique(w.layout.bits) for n, w in q.items()}
    assert all(len(b) == 1 for b in per_layer.values())  # each layer uniform
    assert len({int(b[0]) for b in per_layer.values()}) > 1  # a mix, not one width
    total = sum(w.bit_accounting()["total"] for w in q.values())
    assert 2.5 < total / sum(w.weight.size for w in q.values()) <= 2.8
    assert "baq.target_bits" in cal.read_text()


def test_driver_layer_importance(files, tmp_path) -> None:
    """The default: the pooled total is spent at per-layer rates set by each layer's
    measured output importance (baq.importance), written as baq.target_bits so that the
    final run reproduces the block-wise runs, within the same stored total."""
    tool = baq_opt()
    out, cal, work = tmp_path / "q.mlir", tmp_path / "cal.mlir", tmp_path / "w"
    rc = quantize.main(args(files, "--baq-opt", str(tool), "--allocate",
                            "target-bits=3.2 budget=total", "--save-calibrated", str(cal),
                            "--work-dir", str(work), "-o", str(out)))
    assert rc == 0
    q = read_module(out)
    probes = json.loads((work / "importance.json").read_text())
    assert set(probes) == set(q)
    assert all(p["kl"][0] > p["kl"][1] > 0 for p in probes.values())  # a bit more helps
    rates = {n: w.layout.bits.sum() / w.weight.size for n, w in q.items()}
    assert max(rates.values()) - min(rates.values()) > 0.1  # not one pooled rate
    # More important layers (higher output KL per weight at the probe rate) get more bits.
    by_kl = sorted(q, key=lambda n: probes[n]["kl"][0] / q[n].weight.size)
    assert rates[by_kl[-1]] >= rates[by_kl[0]]
    total = sum(w.bit_accounting()["total"] for w in q.values())
    assert 3.0 < total / sum(w.weight.size for w in q.values()) <= 3.2
    assert "baq.target_bits" in cal.read_text()
