// baq.packed_parameter through the kernel lowering: the kernels read the
// parameter's results as SSA values (no constants), baq-constants-to-globals
// makes one external memref.global per used part (no initializer: the lowered
// module holds no weight bytes), and the whole CPU lowering leaves external
// LLVM globals for baq-run to bind.
//
// RUN: baq-opt %s --baq-build-kernels | FileCheck %s --check-prefix=KERNELS
// RUN: baq-opt %s --baq-build-kernels --baq-constants-to-globals | FileCheck %s --check-prefix=GLOBALS
// RUN: baq-opt %s --baq-lower-cpu | FileCheck %s --check-prefix=LLVM
// RUN: baq-opt %s --baq-build-kernels="decode-max-rows=0" --baq-constants-to-globals | FileCheck %s --check-prefix=TILED
// RUN: baq-opt %s --baq-lower-cpu="kernel-target=gpu" | FileCheck %s --check-prefix=LLVM
// The NVVM lowering embeds weights in device code: a parameter is an error
// there, with the way out.
// RUN: not baq-opt %s --baq-build-kernels --baq-constants-to-globals="parameters=false" 2>&1 | FileCheck %s --check-prefix=NVVM
// RUN: not baq-opt %s --baq-lower-nvvm 2>&1 | FileCheck %s --check-prefix=NVVM
// NVVM: error: parameter 'blk0.wq': this lowering embeds the weights in the kernels; inline the parameters first (--baq-inline-params=file=...)

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// KERNELS-LABEL: func.func @matmul
// KERNELS:         %[[P:.*]], %[[S:.*]], %[[Z:.*]] = baq.packed_parameter {{.*}} key("blk0.wq")
// KERNELS-NOT:     arith.constant dense<{{.*}}> : tensor<2xi32>
// KERNELS:         tensor.extract %[[P]]
// KERNELS:         } {baq_kernel = "baq_decode"
// KERNELS-NOT:     baq.dequantize
// KERNELS-NOT:     baq.packed_matmul
// KERNELS-LABEL: func.func @twice

// GLOBALS-LABEL: module
// GLOBALS-DAG:   memref.global @__baq_param_blk0.wq.payload : memref<2xi32> {alignment = 64 : i64}
// GLOBALS-DAG:   memref.global @__baq_param_blk0.wq.scales : memref<4x1xf16> {alignment = 64 : i64}
// GLOBALS-DAG:   memref.global @__baq_param_blk0.wq.zeros : memref<4x1xf16> {alignment = 64 : i64}
// GLOBALS-LABEL: func.func @matmul
// GLOBALS:         %[[G:.*]] = memref.get_global @__baq_param_blk0.wq.payload : memref<2xi32>
// GLOBALS:         bufferization.to_tensor %[[G]] restrict : memref<2xi32> to tensor<2xi32>
// GLOBALS-NOT:     baq.
// GLOBALS-LABEL: func.func @twice
// GLOBALS:         memref.get_global @__baq_param_blk0.wq.payload
// GLOBALS-NOT:     memref.global

// TILED-LABEL: func.func @matmul
// TILED:         memref.get_global @__baq_param_blk0.wq.payload
// TILED:         } {baq_kernel = "baq_tiled_matmul"

// LLVM-DAG:  llvm.mlir.global external @__baq_param_blk0.wq.payload() {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<2 x i32>
// LLVM-DAG:  llvm.mlir.global external @__baq_param_blk0.wq.scales() {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<4 x array<1 x f16>>
// LLVM-NOT:  dense_resource
// LLVM-NOT:  dialect_resources
// LLVM-LABEL: llvm.func @matmul
// LLVM:       llvm.mlir.addressof @__baq_param_blk0.wq.payload
func.func @matmul(%a: tensor<2x6xf32>, %c: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %p, %s, %z = baq.packed_parameter #layout key("blk0.wq")
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %y = linalg.matmul ins(%a, %w : tensor<2x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// The same key read again shares the globals.
func.func @twice(%a: tensor<1x6xf32>, %c: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %p, %s, %z = baq.packed_parameter #layout key("blk0.wq")
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %y = linalg.matmul ins(%a, %w : tensor<1x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
