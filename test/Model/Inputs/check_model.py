"""Check what baq-run computed against the numpy forward pass (baq.llama2c/baq.eval).

usage: check_model.py logits     CKPT TOK MODULE PROMPT LOGITS_FILE
       check_model.py generate   CKPT TOK MODULE PROMPT STEPS OUTPUT_FILE
       check_model.py perplexity CKPT TOK MODULE TEXT WINDOW_LEN OUTPUT_FILE

The reference model is baq.llama2c.Transformer on the checkpoint with every linear layer
that MODULE holds replaced by the weight the independent reader (baq.packed) reads back:
the dequantized weights of a quantized module, none for an FP32 one. Prompts are encoded by
the Python tokenizer, so a tokenizer disagreement fails too.

* logits: worst |baq-run - numpy| over the largest |numpy| logit must be <= 1e-4;
* generate: baq-run's text equals the numpy greedy decode (run.c's loop and printing);
* perplexity: baq-run's equals baq.eval.evaluate_module's to 5e-5 relative (4 digits).
Prints the measured numbers and PASS, or FAIL and exits 1.
"""

import re
import sys
from pathlib import Path

import numpy as np

from baq.eval import evaluate_module, linear_weights_by_name
from baq.llama2c import Transformer, load_model, token_stream
from baq.packed import read_module


def verdict(ok: bool) -> int:
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    mode, ckpt_path, tok_path, module = sys.argv[1:5]
    ckpt, tok = load_model(ckpt_path, tok_path)
    names = set(ckpt.config.linear_names()) | {"classifier"}  # the head, if quantized
    weights = {n: w.weight for n, w in
               linear_weights_by_name(read_module(module), names).items() if n in names}
    model = Transformer(ckpt, weights)
    if mode == "logits":
        tokens = tok.encode(sys.argv[5])
        ref = model.forward(np.asarray(tokens)).astype(np.float64)
        got = np.fromfile(sys.argv[6], dtype="<f4").astype(np.float64)
        if got.size != ref.size:
            print(f"{got.size} logits for {len(tokens)} tokens x {ref.shape[1]}")
            return verdict(False)
        err = np.abs(got.reshape(ref.shape) - ref).max() / np.abs(ref).max()
        print(f"tokens {len(tokens)} substituted layers {len(weights)} "
              f"max relative error {err:.2e}")
        return verdict(err <= 1e-4)
    if mode == "generate":
        prompt = tok.encode(sys.argv[5])
        steps = min(int(sys.argv[6]), ckpt.config.seq_len)
        out = model.generate_greedy(max(steps, len(prompt)), prompt)
        want = tok.decode(out, prev_token=prompt[0]) + "\n"
        got = Path(sys.argv[7]).read_text(encoding="utf-8", errors="replace")
        print(f"generated {len(out) - len(prompt) + 1} tokens, substituted layers "
              f"{len(weights)}, equal {got == want}")
        if got != want:
            print(f"want: {want!r}\ngot:  {got!r}")
        return verdict(got == want)
    if mode == "perplexity":
        text = Path(sys.argv[5]).read_text(encoding="utf-8")
        stream = token_stream(text, tok)
        ref = evaluate_module(ckpt, stream, module, int(sys.argv[6]))["perplexity"]
        m = re.search(r"perplexity (\S+)", Path(sys.argv[7]).read_text())
        got = float(m.group(1)) if m else float("nan")
        rel = abs(got - ref) / ref
        print(f"baq-run {got:.6f} baq.eval {ref:.6f} relative difference {rel:.1e}")
        return verdict(rel <= 5e-5)
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main())
