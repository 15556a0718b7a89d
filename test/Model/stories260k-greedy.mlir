// REQUIRES: stories260k
// The FP32 whole-model export of stories260K, compiled by baq-run, reproduces llama2.c's
// own greedy output (200 steps from BOS, temperature 0) byte for byte.
//
// RUN: %pybaq -m baq.export_model --checkpoint %data/stories260K.bin --no-hessian -q -o %t.mlir
// RUN: baq-run %t.mlir --tokenizer %data/tok512.bin --steps 200 > %t.gen
// RUN: grep -v '^#' %data/stories260K-greedy-reference.txt > %t.ref
// RUN: diff %t.ref %t.gen
// RUN: FileCheck %s --input-file=%t.gen
// CHECK: Once upon a time, there was a little girl named Lily.
