"""The README's non-llama example (a hand-made MLP with baq.calibrate Hessians) runs as
written: the shell block after `<!-- example:mlp -->` is executed from the repository root."""
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path("/usr/lib/llvm-22/bin/mlir-runner")


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- example:mlp -->\n```sh\n(.*?)```", text, re.S)
    assert m, "README lost its example block"
    return m.group(1)


def test_block_is_short():
    assert len(readme_block().strip().split("\n")) < 20


@pytest.mark.skipif(not (ROOT / "build/bin/baq-opt").exists() or not RUNNER.exists(),
                    reason="needs build/bin/baq-opt and mlir-runner")
def test_mlp_example_runs(tmp_path):
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_block()], cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    m = re.search(r"relative error vs fp32: ([0-9.e+-]+)", out.stdout)
    assert m, out.stdout
    # The number the README states (to 1%: BLAS rounding may differ between CPUs), and a
    # quantized (not float) result.
    stated = re.search(r"`relative error vs fp32: ([0-9.]+)`", (ROOT / "README.md").read_text())
    assert stated and float(m.group(1)) == pytest.approx(float(stated.group(1)), rel=1e-2)
    assert 0.01 < float(m.group(1)) < 0.5
    (quantized,) = tmp_path.glob("*/mlp.q.mlir")
    assert quantized.read_text().count("{baq.bits = #baq.bits<") == 2
