"""Shared paths and skips: data files live in <repo>/../shared/data and are never copied."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

DATA = REPO / ".." / "shared" / "data"
MLIR_OPT = Path("/usr/lib/llvm-22/bin/mlir-opt")
BAQ_OPT = REPO / "build" / "bin" / "baq-opt"


def data_file(name: str) -> Path:
    """Path of a shared data file, or skip the test when it is absent."""
    p = DATA / name
    if not p.is_file():
        pytest.skip(f"{p} not present")
    return p


def mlir_opt() -> Path:
    if not MLIR_OPT.is_file():
        pytest.skip(f"{MLIR_OPT} not present")
    return MLIR_OPT


def baq_opt() -> Path:
    if not BAQ_OPT.is_file():
        pytest.skip(f"{BAQ_OPT} not built")
    return BAQ_OPT


@pytest.fixture(scope="session")
def stories260k():
    """(checkpoint, tokenizer) of the real model, loaded once."""
    from baq.llama2c import load_model
    return load_model(data_file("stories260K.bin"), data_file("tok512.bin"))
