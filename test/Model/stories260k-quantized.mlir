// REQUIRES: stories260k
// stories260K quantized to 2.47 total bits per weight (the 2-bit class of docs/RESULTS.md),
// lowered with --baq-lower-cpu and run by baq-run: the logits of a fixed prompt (45 tokens)
// match the numpy forward pass with the Python reader's dequantized weights to 1e-4
// relative, and baq-run's perplexity of a dev-text slice (64-token windows) equals
// baq.eval's. Calibration uses 8 windows to stay fast. --no-prefill drops @prefill before
// lowering: every step is a @forward through the fused decode kernels (the tiled kernel is
// covered by run-synthetic.mlir), which halves the compile time of the kernels of the 36
// projections (35 linear layers and the classifier; still 1-5 minutes on a 2-core machine
// depending on load): this is the only end-to-end test of the real quantized model through
// the generated kernels.
//
// RUN: %pybaq -m baq.export_model --checkpoint %data/stories260K.bin --tokenizer %data/tok512.bin --calib %data/tinystories-calib.txt --windows 8 -q -o %t.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=2.47 budget=total progress=false" -o %t.q.mlir
// RUN: head -n 24 %data/tinystories-dev.txt > %t.dev.txt
// RUN: baq-run %t.q.mlir --tokenizer %data/tok512.bin --prompt "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball." --no-prefill --dump-logits %t.logits --perplexity %t.dev.txt --window-len 64 > %t.ppl
// RUN: %pybaq %S/Inputs/check_model.py logits %data/stories260K.bin %data/tok512.bin %t.q.mlir "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball." %t.logits | FileCheck %s --check-prefix=LOGITS
// RUN: %pybaq %S/Inputs/check_model.py perplexity %data/stories260K.bin %data/tok512.bin %t.q.mlir %t.dev.txt 64 %t.ppl | FileCheck %s --check-prefix=PPL
// LOGITS: tokens {{[0-9]+}} substituted layers 36 max relative error
// LOGITS-NEXT: PASS
// PPL: relative difference
// PPL-NEXT: PASS
