// The passes run where upstream pipelines nest them: baq-allocate,
// baq-expand and baq-build-kernels have no anchor, so they run on func.func
// (in parallel over functions) as well as on builtin.module. Nested in a
// function, baq-allocate replaces the loads of a module-level global inside
// that function but leaves the global itself (another function may be
// running concurrently); symbol-dce then drops it, and the result is the
// same module as the module-level run but for the blob names, which a nested
// instance qualifies by its function (forward.fc_weight_payload) so that
// concurrent instances never race for a name.
//
// RUN: %python %S/Inputs/forms.py gen ml-program-global > %t.in.mlir
// RUN: baq-opt %t.in.mlir --pass-pipeline='builtin.module(func.func(canonicalize, baq-allocate{target-bits=2.5 progress=false}))' -o %t.mlir
// RUN: FileCheck %s --input-file=%t.mlir --check-prefix=NESTED
// RUN: baq-opt %t.mlir --symbol-dce -o %t.dce.mlir
// RUN: baq-opt %t.in.mlir --canonicalize --baq-allocate="target-bits=2.5 progress=false" -o %t.module.mlir
// RUN: sed 's/forward\.fc_weight_/fc_weight_/g' %t.dce.mlir | cmp - %t.module.mlir
// RUN: %python %S/Inputs/forms.py check < %t.mlir | baq-opt --pass-pipeline='builtin.module(symbol-dce, func.func(baq-build-kernels))' | FileCheck %s --check-prefix=KERNELS
// RUN: %python %S/Inputs/forms.py check < %t.mlir | baq-opt --pass-pipeline='builtin.module(symbol-dce, func.func(baq-build-kernels))' | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %python %S/Inputs/forms.py check < %t.mlir | baq-opt --pass-pipeline='builtin.module(symbol-dce, func.func(baq-expand))' | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
//
// Four functions (q/k/v sharing a Hessian) quantized in parallel, one pass
// instance per function, give the module run's bytes (each instance prepares
// the shared Hessian itself; each weight is named after its own function).
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:16x40 --layer k:8x40 --layer v:8x40 --layer o:40x16 --share-hessian q,k,v -o %t.par.mlir
// RUN: baq-opt %t.par.mlir --pass-pipeline='builtin.module(func.func(baq-allocate{target-bits=3 progress=false}))' -o %t.par.nested.mlir
// RUN: baq-opt %t.par.mlir --baq-allocate="target-bits=3 progress=false" -o %t.par.module.mlir
// RUN: cmp %t.par.nested.mlir %t.par.module.mlir
// RUN: FileCheck %s --input-file=%t.par.nested.mlir --check-prefix=PAR
// PAR-COUNT-4: {baq.bits = #baq.bits<

// NESTED: ml_program.global private @fc_weight(
// NESTED-LABEL: func.func @forward
// NESTED-NOT: ml_program.global_load_const
// NESTED: baq.packed_constant #baq.layout<outputs = 24, inputs = 32, channel_dim = 0,
// NESTED: linalg.matmul {baq.bits

// KERNELS-LABEL: func.func @forward
// KERNELS: scf.forall
// KERNELS-NOT: baq.dequantize
// KERNELS-LABEL: func.func @main

// CHECK: forward relative error:
// CHECK-NEXT: PASS
