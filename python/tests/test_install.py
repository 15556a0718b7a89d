"""python/README.md's install instruction works with Debian's interpreter (PEP 668): a venv
with --system-site-packages and an offline, non-isolated pip install."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(sys.executable != "/usr/bin/python3", reason="tests Debian's interpreter")
def test_venv_install(tmp_path):
    src = tmp_path / "python"
    shutil.copytree(PYTHON_DIR, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    venv = tmp_path / ".venv"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "--no-build-isolation", "--no-deps", str(src)],
                   check=True, capture_output=True, timeout=300)
    out = subprocess.run([str(venv / "bin/python"), "-c",
                          "import baq.calibrate, numpy, matplotlib; print(baq.calibrate.__file__)"],
                         check=True, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert str(venv) in out.stdout  # the installed copy, not the source tree
    subprocess.run([str(venv / "bin/baq-eval"), "--help"], check=True, capture_output=True, env=env)
