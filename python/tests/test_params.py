"""The parameter-file reader (baq.packed.read_parameters, FORMAT.md §8) against the
embedded form: a quantized module and its --baq-externalize-params file dequantize to
the same weights."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, baq_opt

from baq.packed import FormatError, parse_module, read_parameters


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    opt = baq_opt()
    d = tmp_path_factory.mktemp("params")
    subprocess.run([sys.executable, "-m", "baq.export_model", "--emit", "synthetic",
                    "--prefill", "0", "-q", "-o", str(d / "h.mlir")], check=True,
                   env={"PYTHONPATH": str(REPO / "python")})
    subprocess.run([str(opt), str(d / "h.mlir"),
                    "--baq-allocate=target-bits=3 group-size=8 progress=false",
                    "-o", str(d / "q.mlir")], check=True)
    subprocess.run([str(opt), str(d / "q.mlir"),
                    f"--baq-externalize-params=file={d / 'p.safetensors'}",
                    "-o", str(d / "p.mlir")], check=True)
    return d


def test_parameters_match_embedded(quantized) -> None:
    embedded = parse_module((quantized / "q.mlir").read_text())
    params = read_parameters(quantized / "p.safetensors")
    quantized_weights = {w.layout.bits.tobytes() + w.weight.tobytes()
                         for w in embedded.values() if w.layout is not None}
    assert len(params) == len(quantized_weights) > 0
    for key, w in params.items():
        assert w.layout.bits.tobytes() + w.weight.tobytes() in quantized_weights, key
        assert np.all(np.isfinite(w.weight))


def test_parameters_reject_broken_files(tmp_path, quantized) -> None:
    data = (quantized / "p.safetensors").read_bytes()
    (tmp_path / "short").write_bytes(data[:4])
    with pytest.raises(FormatError, match="shorter than"):
        read_parameters(tmp_path / "short")
    no_format = data.replace(b'"baq.format":"1"', b'"baq.format":"9"')
    (tmp_path / "fmt").write_bytes(no_format)
    with pytest.raises(FormatError, match="not a BAQ parameter file"):
        read_parameters(tmp_path / "fmt")
