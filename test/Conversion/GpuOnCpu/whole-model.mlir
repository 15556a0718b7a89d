// The whole quantized model as baq-lower-nvvm builds it for the GPU (every op of @prefill
// and @forward a kernel: the projections' and baq-host-to-gpu's), every launch serialized
// on the CPU (baq-test-lower-gpu-on-cpu, bounds-checked), computes the logits that
// baq-lower-cpu computes with the same kernel arithmetic (kernel-target=gpu): @prefill on 4
// tokens, then @forward on the caches it returned.
//
// RUN: env PYTHONPATH=%baq_python %python -m baq.export_model --emit synthetic --prefill 4 -q -o %t.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 progress=false" -o %t.q.mlir 2> /dev/null
// RUN: %python %S/Inputs/add_main.py %t.q.mlir > %t.main.mlir
// RUN: baq-opt %t.main.mlir --baq-lower-cpu="kernel-target=gpu" | %run_main > %t.cpu.txt
// RUN: baq-opt %t.main.mlir --baq-test-lower-gpu-on-cpu | %run_main > %t.gpu.txt
// RUN: %python %S/Inputs/compare_printed.py %t.cpu.txt %t.gpu.txt 1e-5 | FileCheck %s
// The launches really are the whole model: no linalg op or copy left on the host.
// RUN: baq-opt %t.q.mlir --baq-lower-nvvm | FileCheck %s --check-prefix=HOST

// 4 x 320 prefill logits, then 320 forward logits.
// CHECK: 1600 numbers, relative error
// CHECK-NEXT: PASS

// HOST-LABEL: llvm.func @forward(
// HOST-NOT: llvm.fmul
// HOST-NOT: llvm.call @memrefCopy
// HOST: llvm.return
// HOST-LABEL: llvm.func @prefill(
// HOST-NOT: llvm.fmul
// HOST-NOT: llvm.call @memrefCopy
// HOST: llvm.return
