#!/usr/bin/env python3
"""A quantized synthetic decoder for scripts/gpu-check.sh (as bench/model/run.py's).

Random weights (dim D, L layers, 512-token vocabulary, context 256), Hessians from random
token windows, quantized by baq-opt --baq-allocate="target-bits=2.47 budget=total".
Writes OUT/model.q.mlir and OUT/tok.bin.
"""
import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

from baq.export import collect_hessians, synthetic_tokenizer  # noqa: E402
from baq.export_model import build_model_module  # noqa: E402
from baq.llama2c import Config, random_checkpoint  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--baq-opt", type=Path, default=REPO / "build" / "bin" / "baq-opt")
    a = ap.parse_args()
    d = a.dim
    cfg = Config(dim=d, hidden_dim=int(8 * d / 3 / 256 + 1) * 256, n_layers=a.layers,
                 n_heads=max(1, d // 64), n_kv_heads=max(1, d // 64), vocab_size=512,
                 seq_len=256)
    ckpt = random_checkpoint(cfg, seed=0)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "tok.bin").write_bytes(synthetic_tokenizer(512).to_bytes())
    calib = list(np.random.default_rng(1).integers(0, 512, size=(8, 64)))
    hess = a.out / "model.h.mlir"
    hess.write_text(build_model_module(ckpt, collect_hessians(ckpt, calib), 32))
    subprocess.run([str(a.baq_opt), str(hess),
                    "--baq-allocate=target-bits=2.47 budget=total progress=false",
                    "-o", str(a.out / "model.q.mlir")], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
