// The whole-model export (baq.export_model, synthetic llama2.c model: dim 16, 2 layers, 4
// heads over 2 KV heads, vocab 320, context 64) verifies, round-trips through baq-opt, and
// has the documented interface: @forward for one token, @prefill for 8, KV caches in and
// out, 7 linear layers per block and the classifier with their Hessians, weights in
// constant memref.globals.
//
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 8 -q -o %t.mlir
// RUN: baq-opt %t.mlir -o %t.rt.mlir
// RUN: baq-opt %t.rt.mlir -o %t.rt2.mlir
// RUN: diff %t.rt.mlir %t.rt2.mlir
// RUN: FileCheck %s --input-file=%t.rt.mlir
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 1 --no-hessian -q -o %t.nh.mlir
// RUN: FileCheck %s --input-file=%t.nh.mlir --check-prefix=NOHESS
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 1 --fp32-head -q -o %t.fp.mlir
// RUN: FileCheck %s --input-file=%t.fp.mlir --check-prefix=FP32HEAD

// CHECK-DAG: memref.global "private" constant @token_embedding : memref<320x16xf32> = dense_resource<token_embedding>
// CHECK-DAG: memref.global "private" constant @blk1_w2 : memref<16x40xf32> = dense_resource<blk1_w2>
// CHECK-DAG: memref.global "private" constant @rope_cos : memref<64x8xf32>
// CHECK-DAG: memref.global "private" constant @classifier : memref<320x16xf32> = dense_resource<classifier>

// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %{{.*}}: tensor<1xi32>, %{{.*}}: index, %{{.*}}: tensor<2x64x8xf32>, %{{.*}}: tensor<2x64x8xf32>) -> (tensor<1x320xf32>, tensor<2x64x8xf32>, tensor<2x64x8xf32>)
// Each block's ops carry its index (baq.block, for --baq-share-blocks) and its cache
// layer is an SSA index.
// CHECK: %[[LAYER:.*]] = arith.constant {baq.block = 0 : i64} 0 : index
// CHECK: memref.get_global @blk0_wq
// CHECK: linalg.matmul {{.*}}baq.hessian = dense_resource<blk0_attn_hessian> : tensor<16x16xf32>}
// CHECK: tensor.insert_slice {{.*}} into %{{.*}}[%[[LAYER]], %{{.*}}, 0] [1, 1, 8] [1, 1, 1] {baq.block = 0 : i64} : tensor<1x8xf32> into tensor<2x64x8xf32>
// CHECK: linalg.matmul {{.*}}baq.hessian = dense_resource<blk1_w2_hessian> : tensor<40x40xf32>}
// The classifier is a calibrated projection on its own copy of the embedding matrix.
// CHECK: memref.get_global @classifier
// CHECK: linalg.matmul {{.*}}baq.hessian = dense_resource<classifier_hessian> : tensor<16x16xf32>}
// CHECK: return

// CHECK-LABEL: func.func @prefill(
// CHECK-SAME: tensor<8xi32>, %{{.*}}: index, %{{.*}}: tensor<2x64x8xf32>, %{{.*}}: tensor<2x64x8xf32>) -> (tensor<8x320xf32>, tensor<2x64x8xf32>, tensor<2x64x8xf32>)

// NOHESS-LABEL: func.func @forward(
// NOHESS-NOT: baq.hessian
// NOHESS: memref.get_global @token_embedding
// NOHESS-NOT: baq.hessian
// NOHESS-NOT: func.func @prefill
// NOHESS-NOT: @classifier

// --fp32-head: the tied classifier reads the embedding and has no Hessian.
// FP32HEAD-NOT: @classifier
// FP32HEAD-LABEL: func.func @forward(
// FP32HEAD: baq.hessian = dense_resource<blk1_w2_hessian>
// FP32HEAD: memref.get_global @token_embedding
// FP32HEAD-NOT: baq.hessian
// FP32HEAD: return
