// RUN: baq-opt %s --baq-build-kernels --split-input-file | FileCheck %s
// RUN: baq-opt %s --baq-build-kernels="decode-max-rows=1" --split-input-file | FileCheck %s --check-prefix=TILED
// RUN: baq-opt %s --baq-build-kernels="decode-max-rows=1 target=gpu" --split-input-file | FileCheck %s --check-prefix=GPUTILED
//
// What each pattern of populateBaqToKernelsPatterns emits, at the level of its
// nests (their arithmetic is executed and compared with numpy by the
// BaqToCPU, GpuOnCpu and Integration suites): DecodePackedMatmulPattern up to
// decode-max-rows activation rows, TiledPackedMatmulPattern above, and
// DequantizePattern for a baq.dequantize that feeds no fused matmul.

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// CHECK-LABEL: func.func @matmul
// CHECK-NOT:     baq.
// CHECK:         scf.forall {{.*}} -> (tensor<2x128xf32>)
// CHECK:         } {baq_kernel = "baq_gather"
// CHECK:         } {baq_kernel = "baq_activation_sums"
// CHECK:         arith.constant dense<-1090011385> : tensor<2xi32>
// CHECK:         } {baq_kernel = "baq_decode"
// CHECK:         %[[Y:[0-9]+]] = scf.forall {{.*}} shared_outs(%{{.*}} = %arg1) -> (tensor<2x4xf32>)
// CHECK:         } {baq_kernel = "baq_finalize"
// CHECK-NOT:     linalg.matmul
// CHECK:         return %[[Y]]

// The CPU's tiled kernel dequantizes a [padded positions x V] panel inside
// each item (here 128 positions x 1 row), then runs the register tile over it:
// no whole-weight dequantize nest is left.
// TILED-LABEL: func.func @matmul
// TILED-NOT:     baq.
// TILED:         } {baq_kernel = "baq_gather"
// TILED-NOT:     baq_dequantize
// TILED:         %[[Y:[0-9]+]] = scf.forall {{.*}} shared_outs(%{{.*}} = %arg1) -> (tensor<2x4xf32>)
// TILED:           tensor.empty() : tensor<128x1xf32>
// TILED:           scf.for {{.*}} iter_args({{.*}}) -> (f32, f32)
// TILED:         } {baq_kernel = "baq_tiled_matmul"
// TILED-NOT:     linalg.matmul
// TILED:         return %[[Y]]

// The GPU's reads the whole dequantized weight (no allocation in a kernel).
// GPUTILED-LABEL: func.func @matmul
// GPUTILED:         } {baq_kernel = "baq_gather"
// GPUTILED:         } {baq_kernel = "baq_dequantize_tail"
// GPUTILED:         %[[Y:[0-9]+]] = scf.forall {{.*}} shared_outs(%{{.*}} = %arg1) -> (tensor<2x4xf32>)
// GPUTILED-NOT:       tensor.empty
// GPUTILED:         } {baq_kernel = "baq_tiled_matmul"
// GPUTILED:         return %[[Y]]
func.func @matmul(%a: tensor<2x6xf32>, %c: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %y = linalg.matmul ins(%a, %w : tensor<2x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// A dequantized weight that is returned: dequantize nests into packed order
// (all codes of this small layout lie in the rows' tails), then a scatter into the [6, 4] layout of the op. An unused dequantize and
// packed_constant leave nothing behind.
// CHECK-LABEL: func.func @dequantize
// CHECK-NOT:     baq.
// CHECK:         } {baq_kernel = "baq_dequantize_tail"
// CHECK:         %[[W:[0-9]+]] = scf.forall {{.*}} -> (tensor<6x4xf32>)
// CHECK:         } {baq_kernel = "baq_scatter"
// CHECK:         return %[[W]] : tensor<6x4xf32>
// CHECK-NOT:     baq.
func.func @dequantize() -> tensor<6x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %unused = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  return %w : tensor<6x4xf32>
}

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [0, 0, 0, 0, 0, 0], perm = [0, 1, 2, 3, 4, 5],
  segments = [], group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 0, scale_bytes = 8, zero_bytes = 8>

// Every weight 0 bits: the matmul adds nothing and becomes its init.
// CHECK-LABEL: func.func @all_zero_bits
// CHECK-SAME:    (%{{.*}}: tensor<1x6xf32>, %[[C:.*]]: tensor<1x4xf32>)
// CHECK-NOT:     scf.forall
// CHECK:         return %[[C]]
func.func @all_zero_bits(%a: tensor<1x6xf32>, %c: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<0> : tensor<0xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<0xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %y = linalg.matmul ins(%a, %w : tensor<1x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
