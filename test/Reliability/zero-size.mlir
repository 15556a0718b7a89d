// Products with an empty dimension: zero activation rows must lower (the
// result is the accumulator) on both kernel paths, directly and after
// --baq-allocate, instead of dividing by the row count.
// RUN: baq-opt %s -split-input-file --baq-lower-cpu | FileCheck %s --check-prefix=CPU
// RUN: baq-opt %s -split-input-file --baq-lower-cpu="kernel-target=gpu" | FileCheck %s --check-prefix=CPU
// RUN: baq-opt %s -split-input-file --baq-lower-nvvm="chip=sm_90" | FileCheck %s --check-prefix=NVVM
// RUN: baq-opt %s -split-input-file --baq-build-kernels | FileCheck %s --check-prefix=KERNELS
// RUN: baq-opt %s -split-input-file --baq-allocate="progress=false" --baq-lower-cpu | FileCheck %s --check-prefix=CPU
// RUN: baq-opt %s -split-input-file --baq-allocate="progress=false" --baq-build-kernels | FileCheck %s --check-prefix=ALLOC
// RUN: baq-opt %s -split-input-file --baq-expand | FileCheck %s --check-prefix=EXPAND

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// No kernel is built for an empty product: the accumulator is returned.
// KERNELS-LABEL: func.func @no_rows_packed
// KERNELS-NOT:   scf.forall
// KERNELS:       return %arg1 : tensor<0x4xf32>
// ALLOC-LABEL:   func.func @no_rows_packed
// ALLOC:         return %arg1 : tensor<0x4xf32>
// CPU-LABEL:     llvm.func @no_rows_packed
// NVVM-LABEL:    llvm.func @no_rows_packed
// NVVM-NOT:      gpu.launch_func
// EXPAND-LABEL:  func.func @no_rows_packed
// EXPAND:        linalg.matmul
func.func @no_rows_packed(%a: tensor<0x6xf32>, %c: tensor<0x4xf32>) -> tensor<0x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %y = linalg.matmul ins(%a, %w : tensor<0x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<0x4xf32>) -> tensor<0x4xf32>
  return %y : tensor<0x4xf32>
}

// -----

// ALLOC-LABEL:   func.func @no_rows_transposed
// ALLOC-NOT:     scf.forall
// ALLOC:         return %arg1 : tensor<0x2xf32>
// CPU-LABEL:     llvm.func @no_rows_transposed
// NVVM-LABEL:    llvm.func @no_rows_transposed
// EXPAND-LABEL:  func.func @no_rows_transposed
func.func @no_rows_transposed(%a: tensor<0x2xf32>, %c: tensor<0x2xf32>) -> tensor<0x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [0.5, 4.0]]> : tensor<2x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<0x2xf32>, tensor<2x2xf32>) outs(%c : tensor<0x2xf32>) -> tensor<0x2xf32>
  return %y : tensor<0x2xf32>
}
