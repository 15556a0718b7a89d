// baq-run's input errors: one clear message each and a non-zero exit, before any
// compilation. The modules are in Inputs/; the tokenizer is the synthetic export's.
//
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 1 --no-hessian -q -o %t.mlir --synthetic-tokenizer %t.tok
// RUN: head -c 100 %t.tok > %t.short.tok

// RUN: not baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.missing 2>&1 | FileCheck %s --check-prefix=NOTOK
// NOTOK: baq-run: error: cannot read tokenizer '{{.*}}.missing': no such file

// RUN: not baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.short.tok 2>&1 | FileCheck %s --check-prefix=SHORTTOK
// SHORTTOK: baq-run: error: tokenizer '{{.*}}' is not a llama2.c tokenizer.bin: truncated at token {{[0-9]+}} of the model's 320

// RUN: not baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.tok --prompt "the cat sat" 2>&1 | FileCheck %s --check-prefix=LONG
// LONG: baq-run: error: the prompt is 10 tokens, longer than the model's context of 4

// RUN: not baq-run %S/Inputs/bad-forward.mlir --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=SIG
// SIG: bad-forward.mlir:2:1: error: @forward must be (tensor<Txi32>, index, tensor<LxSxKxf32>, tensor<LxSxKxf32>) -> (tensor<TxVxf32>, tensor<LxSxKxf32>, tensor<LxSxKxf32>) as baq.export_model writes it: it is (tensor<1xf32>, index,

// RUN: not baq-run %S/Inputs/two-token-forward.mlir --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=TWO
// TWO: two-token-forward.mlir:2:1: error: @forward must take one token, it takes 2

// RUN: not baq-run %S/Inputs/bad-prefill.mlir --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=PREFILL
// PREFILL: bad-prefill.mlir:6:1: error: @prefill must be {{.*}}: its cache or vocabulary differs from @forward's

// RUN: not baq-run %S/Inputs/no-forward.mlir --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=NOFWD
// NOFWD: error: no func.func @forward: baq-run takes the tensor-level module that baq.export_model writes (FP32 or after --baq-allocate)

// RUN: not baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.tok --omp-threads 2,0 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: baq-run: error: --omp-threads takes thread counts of at least 1

// RUN: not baq-run %t.missing.mlir --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=NOMOD
// NOMOD: baq-run: error: cannot open input file '{{.*}}missing.mlir'

// RUN: not baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.tok --perplexity %t.missing.txt 2>&1 | FileCheck %s --check-prefix=NOTEXT
// NOTEXT: baq-run: error: cannot read '{{.*}}missing.txt'

// A tiny module that predicts nothing still runs (token 0 is <unk>, printed as is).
// RUN: baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.tok --steps 3 | FileCheck %s --check-prefix=TINY
// TINY: <unk><unk><unk>
