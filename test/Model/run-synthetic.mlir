// baq-run on the synthetic whole-model export (no data files needed): the compiled FP32
// and quantized modules against the numpy forward pass with the reader's weights.
// Logits of a 27-token prompt through @prefill (24 tokens: the tiled kernel once quantized)
// + @forward (3: the fused decode kernel) and through @forward alone, greedy generation,
// and perplexity with baq.eval's windows (windows of 26 tokens: one prefill and one
// decode step each, several windows). Each quantized run lowers the
// kernels of 14 layers x 2 kinds (~10-30 s on a loaded 2-core machine), so each baq-run
// call does as much as it can.
//
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 24 -q -o %t.mlir --synthetic-checkpoint %t.bin --synthetic-tokenizer %t.tok
// RUN: baq-run %t.mlir --tokenizer %t.tok --prompt "the cat sat on the mat and the dog" --dump-logits %t.fp32 --steps 48 > %t.fp32.gen
// RUN: %pybaq %S/Inputs/check_model.py logits %t.bin %t.tok %t.mlir "the cat sat on the mat and the dog" %t.fp32 | FileCheck %s --check-prefix=FP32
// RUN: %pybaq %S/Inputs/check_model.py generate %t.bin %t.tok %t.mlir "the cat sat on the mat and the dog" 48 %t.fp32.gen | FileCheck %s --check-prefix=GEN-FP32
// RUN: baq-run %t.mlir --tokenizer %t.tok --prompt "the cat sat on the mat and the dog" --no-prefill --dump-logits %t.fp32d --steps 1
// RUN: %pybaq %S/Inputs/check_model.py logits %t.bin %t.tok %t.mlir "the cat sat on the mat and the dog" %t.fp32d | FileCheck %s --check-prefix=FP32
// FP32: tokens 27 substituted layers 0 max relative error
// FP32-NEXT: PASS
// GEN-FP32: substituted layers 0, equal True
// GEN-FP32-NEXT: PASS

// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 progress=false" -o %t.q.mlir
// RUN: baq-run %t.q.mlir --tokenizer %t.tok --prompt "the cat sat on the mat and the dog" --dump-logits %t.q --steps 48 > %t.q.gen
// RUN: %pybaq %S/Inputs/check_model.py logits %t.bin %t.tok %t.q.mlir "the cat sat on the mat and the dog" %t.q | FileCheck %s --check-prefix=QUANT
// RUN: %pybaq %S/Inputs/check_model.py generate %t.bin %t.tok %t.q.mlir "the cat sat on the mat and the dog" 48 %t.q.gen | FileCheck %s --check-prefix=GEN
// Every kernel on OpenMP threads (parallel-min-work=0; baq-run loads libomp):
// the same logits.
// RUN: env OMP_NUM_THREADS=2 baq-run %t.q.mlir --tokenizer %t.tok --prompt "the cat sat on the mat and the dog" --lower-options "parallel-min-work=0" --dump-logits %t.qomp --steps 2
// RUN: %pybaq %S/Inputs/check_model.py logits %t.bin %t.tok %t.q.mlir "the cat sat on the mat and the dog" %t.qomp | FileCheck %s --check-prefix=QUANT
// Shared kernels (kernels=shared): the two blocks of each entry point are calls of one
// function (baq-share-blocks); the same logits.
// RUN: baq-opt %t.q.mlir --baq-build-kernels="kernels=shared" --baq-constants-to-globals --baq-share-blocks | FileCheck %s --check-prefix=SHARE
// RUN: baq-run %t.q.mlir --tokenizer %t.tok --prompt "the cat sat on the mat and the dog" --lower-options "kernels=shared" --dump-logits %t.qs --steps 2
// RUN: %pybaq %S/Inputs/check_model.py logits %t.bin %t.tok %t.q.mlir "the cat sat on the mat and the dog" %t.qs | FileCheck %s --check-prefix=QUANT
// SHARE-LABEL: func.func private @forward_block(
// SHARE-LABEL: func.func @forward(
// SHARE-COUNT-2: call @forward_block(
// SHARE-NOT: call @forward_block(
// SHARE-LABEL: func.func private @prefill_block(
// SHARE-LABEL: func.func @prefill(
// SHARE-COUNT-2: call @prefill_block(
// SHARE-NOT: call @prefill_block(
// QUANT: tokens 27 substituted layers 15 max relative error
// QUANT-NEXT: PASS
// GEN: substituted layers 15, equal True
// GEN-NEXT: PASS

// RUN: baq-run %t.q.mlir --tokenizer %t.tok --perplexity %S/Inputs/stories.txt --window-len 26 > %t.ppl
// RUN: FileCheck %s --check-prefix=PPL --input-file=%t.ppl
// RUN: %pybaq %S/Inputs/check_model.py perplexity %t.bin %t.tok %t.q.mlir %S/Inputs/stories.txt 26 %t.ppl | FileCheck %s --check-prefix=EVAL
// PPL: perplexity {{[0-9.]+}} mean_nll {{[0-9.]+}} tokens {{[0-9]+}} windows {{[2-9]}} window_len 26

// --omp-threads: one compilation, the runs repeated per thread count (every
// kernel threaded), the same perplexity at each; the timing lines name the count.
// RUN: baq-run %t.q.mlir --tokenizer %t.tok --perplexity %S/Inputs/stories.txt --window-len 26 --lower-options "parallel-min-work=0" --omp-threads 1,2 --timing > %t.sweep 2> %t.sweep.err
// RUN: FileCheck %s --check-prefix=SWEEP --input-file=%t.sweep
// RUN: FileCheck %s --check-prefix=SWEEP-TIME --input-file=%t.sweep.err
// SWEEP: perplexity [[VALUE:[0-9.]+]] mean_nll
// SWEEP-NEXT: perplexity [[VALUE]] mean_nll
// SWEEP-TIME: baq-run: lower {{[0-9.]+}} s, jit {{[0-9.]+}} s; threads 1; perplexity [[N:[0-9]+]] tokens in
// SWEEP-TIME-NEXT: baq-run: lower {{[0-9.]+}} s, jit {{[0-9.]+}} s; threads 2; perplexity [[N]] tokens in
// The FP32 module has no threaded kernels: a note, and the runs still repeat.
// RUN: baq-run %t.mlir --tokenizer %t.tok --no-prefill --steps 3 --omp-threads 1,2 --timing 2>&1 | FileCheck %s --check-prefix=SWEEP-FP32
// SWEEP-FP32: baq-run: note: the lowered module has no threaded kernels; --omp-threads only repeats the runs
// SWEEP-FP32: threads 1 (module not threaded); prefill
// SWEEP-FP32: threads 2 (module not threaded); prefill
// EVAL: relative difference
// EVAL-NEXT: PASS
