"""packed.parse_module on modules that are not llama2.c exports: several quantized weights in
one function, quoted resource keys, shared weights counted once; baq.eval --bits-only."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import baq_opt

from baq.eval import module_bits
from baq.packed import parse_module, total_bits

ROOT = Path(__file__).resolve().parents[2]


def quantized_mlp(tmp_path: Path, bits: float) -> tuple[Path, dict]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    subprocess.run([sys.executable, str(ROOT / "examples/mlp/mlp.py")], cwd=tmp_path, env=env,
                   check=True)
    out, report = tmp_path / f"q{bits}.mlir", tmp_path / f"r{bits}.json"
    subprocess.run([str(baq_opt()), "mlp.mlir", "--baq-attach-hessians=file=hessians.safetensors",
                    f"--baq-allocate=target-bits={bits} progress=false report={report}",
                    "-o", str(out)], cwd=tmp_path, check=True, capture_output=True)
    return out, json.loads(report.read_text())


def test_every_weight_of_a_function(tmp_path):
    out, report = quantized_mlp(tmp_path, 8)
    weights = parse_module(out.read_text())
    assert list(weights) == ["forward/fc1", "forward/fc2"]
    # The MLP's float weights (examples/mlp/mlp.py's first two draws): 8 bits is close.
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((32, 16)).astype(np.float32) / 4
    w2 = rng.standard_normal((8, 32)).astype(np.float32) / 6
    for key, w in (("forward/fc1", w1), ("forward/fc2", w2)):
        got = weights[key].weight
        assert got.shape == w.shape
        assert np.abs(got - w).max() < 0.02 * np.abs(w).max()
        assert not np.array_equal(got, w)
    # Honest bits of a non-llama module equal the pass's own accounting.
    bits = total_bits(weights)
    assert bits["total_bits_per_weight"] == pytest.approx(
        report["total"]["total_bits_per_weight"], rel=1e-12)
    res = module_bits(out)
    assert res["total_bits"] == pytest.approx(report["total"]["total_bits_per_weight"], rel=1e-12)
    assert set(res["layers"]) == {"forward/fc1", "forward/fc2"}


def test_quoted_resource_keys(tmp_path):
    out, _ = quantized_mlp(tmp_path, 3)
    text = out.read_text()
    quoted = text.replace("dense_resource<fc2_payload>", 'dense_resource<"fc2 payload">')
    quoted = quoted.replace("fc2_payload:", '"fc2 payload":')
    assert quoted != text
    plain, renamed = parse_module(text), parse_module(quoted)
    assert list(renamed) == ["forward/fc1", "forward/fc2 payload"]
    np.testing.assert_array_equal(renamed["forward/fc2 payload"].weight,
                                  plain["forward/fc2"].weight)


SHARED = """
ml_program.global private @w(dense<[[1.0, -2.0], [3.0, 0.5], [-1.5, 2.5], [0.25, -0.75]]> : tensor<4x2xf32>) : tensor<4x2xf32>
func.func @f(%a: tensor<1x4xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = ml_program.global_load_const @w : tensor<4x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
func.func @g(%a: tensor<1x4xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = ml_program.global_load_const @w : tensor<4x2xf32>
  %r = linalg.matmul ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
"""


def test_shared_weight_counted_once(tmp_path):
    (tmp_path / "s.mlir").write_text(SHARED)
    out = subprocess.run([str(baq_opt()), str(tmp_path / "s.mlir"),
                          "--baq-allocate=target-bits=2 progress=false"],
                         check=True, capture_output=True, text=True).stdout
    assert out.count("baq.packed_constant") == 2  # one per load
    weights = parse_module(out)
    assert list(weights) == ["f"]
    assert total_bits(weights)["weights"] == 8


def test_bits_only_cli(tmp_path):
    out, report = quantized_mlp(tmp_path, 3)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    p = subprocess.run([sys.executable, "-m", "baq.eval", "--bits-only", str(out)], env=env,
                       check=True, capture_output=True, text=True)
    assert "forward/fc1: 32x16" in p.stdout and "forward/fc2: 8x32" in p.stdout
    want = report["total"]["total_bits_per_weight"]
    assert f"total bits/weight: {want:.4f}" in p.stdout
    p = subprocess.run([sys.executable, "-m", "baq.eval", str(out)], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 2 and "--checkpoint, --tokenizer, --text required" in p.stderr
