// Smoke test of the scale benchmark's path at a tiny size: the generator
// writes bytecode (dense_resource f16 weights, shared f32 Hessians), and
// --baq-allocate reads it, quantizes every matmul and writes bytecode again.
//
// REQUIRES: baq-gen-scale-model
// RUN: %baq_gen_scale_model --blocks=2 --hidden=64 --ffn=128 -o %t.mlirbc 2>&1 | FileCheck %s --check-prefix=GEN
// RUN: baq-opt %t.mlirbc --baq-allocate="target-bits=2" --emit-bytecode -o %t.out.mlirbc 2>&1 | FileCheck %s
// RUN: baq-opt %t.out.mlirbc | FileCheck %s --check-prefix=IR
// The text form of the generator's module is the same module.
// RUN: %baq_gen_scale_model --blocks=2 --hidden=64 --ffn=128 --emit-text -o %t.mlir
// RUN: baq-opt %t.mlir -o %t.from-text.mlir
// RUN: baq-opt %t.mlirbc -o %t.from-bytecode.mlir
// RUN: cmp %t.from-text.mlir %t.from-bytecode.mlir
// RUN: baq-opt %t.mlir | FileCheck %s --check-prefix=INPUT

// GEN: gen-scale-model: block 1/2 done, 40960 weights so far
// GEN: gen-scale-model: 14 matmuls, 81920 weights

// CHECK:      baq-allocate [1/14] blk0_wq 64x64: payload 2.000 total {{[0-9.]+}} bits/weight
// CHECK-NEXT: baq-allocate [2/14] blk0_wk 64x64:
// CHECK-NEXT: baq-allocate [3/14] blk0_wv 64x64:
// CHECK-NEXT: baq-allocate [4/14] blk0_wo 64x64:
// CHECK-NEXT: baq-allocate [5/14] blk0_w1 128x64:
// CHECK-NEXT: baq-allocate [6/14] blk0_w3 128x64:
// CHECK-NEXT: baq-allocate [7/14] blk0_w2 64x128:
// CHECK-NEXT: baq-allocate [8/14] blk1_wq 64x64:
// CHECK:      baq-allocate [14/14] blk1_w2 64x128: payload 2.000 total {{[0-9.]+}} bits/weight, ratio_c {{[0-9.]+}}, elapsed {{[0-9.]+}}s, eta 0.0s

// IR-LABEL: func.func @blk0_wq(
// IR:       baq.packed_constant #baq.layout<outputs = 64, inputs = 64, channel_dim = 1
// IR-SAME:  payload(dense_resource<blk0_wq_payload>
// IR:       linalg.matmul {{.*}}{baq.bits = #baq.bits<
// IR-LABEL: func.func @blk1_w2(
// IR:       baq.packed_constant #baq.layout<outputs = 64, inputs = 128, channel_dim = 1
// IR-NOT:   baq.hessian

// q/k/v share one Hessian blob, w1/w3 another; weights are [out, in] f16.
// INPUT-LABEL: func.func @blk0_wq(%{{.*}}: tensor<1x64xf16>) -> tensor<1x64xf16>
// INPUT:       arith.constant dense_resource<blk0_wq> : tensor<64x64xf16>
// INPUT:       linalg.matmul indexing_maps = [#map, #map1, #map2] {baq.hessian = dense_resource<blk0_wq_hessian> : tensor<64x64xf32>}
// INPUT-LABEL: func.func @blk0_wk(
// INPUT:       baq.hessian = dense_resource<blk0_wq_hessian>
// INPUT-LABEL: func.func @blk0_w3(
// INPUT:       arith.constant dense_resource<blk0_w3> : tensor<128x64xf16>
// INPUT:       baq.hessian = dense_resource<blk0_w1_hessian> : tensor<64x64xf32>
// INPUT-LABEL: func.func @blk0_w2(
// INPUT:       baq.hessian = dense_resource<blk0_w2_hessian> : tensor<128x128xf32>
