// RUN: baq-opt %s --baq-fuse-packed-matmul -verify-diagnostics | FileCheck %s
//
// FusePackedMatmulPattern: a linalg.matmul whose weight is a baq.dequantize
// of a baq.packed_constant becomes one baq.packed_matmul (a [R, inputs],
// c [R, outputs] in both weight orientations); the others keep a remark
// with the reason.

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// Plain maps, weight [inputs, outputs]: the dequantize is dropped.
// CHECK-LABEL: func.func @plain
// CHECK-SAME:    (%[[A:.*]]: tensor<2x6xf32>, %[[C:.*]]: tensor<2x4xf32>)
// CHECK:         %[[P:.*]], %[[S:.*]], %[[Z:.*]] = baq.packed_constant
// CHECK-NOT:     baq.dequantize
// CHECK:         %[[R:.*]] = baq.packed_matmul ins(%[[A]], %[[P]], %[[S]], %[[Z]] : tensor<2x6xf32>, tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16>) outs(%[[C]] : tensor<2x4xf32>) layout(#baq.layout<outputs = 4, inputs = 6, channel_dim = 0, {{.*}}>) -> tensor<2x4xf32>
// CHECK-NOT:     linalg.matmul
// CHECK:         return %[[R]]
func.func @plain(%a: tensor<2x6xf32>, %c: tensor<2x4xf32>) -> tensor<2x4xf32> {
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

#layout_t = #baq.layout<outputs = 4, inputs = 6, channel_dim = 1,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// Transposed-B maps, weight [outputs, inputs], f16 activations and init: the
// same op, and a dequantize with another user stays.
// CHECK-LABEL: func.func @transposed
// CHECK-SAME:    (%[[A:.*]]: tensor<3x6xf16>, %[[C:.*]]: tensor<3x4xf16>)
// CHECK:         %[[P:.*]], %[[S:.*]], %[[Z:.*]] = baq.packed_constant
// CHECK:         %[[W:.*]] = baq.dequantize %[[P]], %[[S]], %[[Z]]
// CHECK:         %[[R:.*]] = baq.packed_matmul ins(%[[A]], %[[P]], %[[S]], %[[Z]] : tensor<3x6xf16>, {{.*}}) outs(%[[C]] : tensor<3x4xf16>) layout(#baq.layout<outputs = 4, inputs = 6, channel_dim = 1, {{.*}}>) -> tensor<3x4xf16>
// CHECK-NOT:     linalg.matmul
// CHECK:         return %[[R]], %[[W]]
func.func @transposed(%a: tensor<3x6xf16>, %c: tensor<3x4xf16>)
    -> (tensor<3x4xf16>, tensor<4x6xf32>) {
  %p, %s, %z = baq.packed_constant #layout_t
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout_t)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<4x6xf32>
  %y = linalg.matmul
      indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>,
                       affine_map<(d0, d1, d2) -> (d1, d2)>,
                       affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %w : tensor<3x6xf16>, tensor<4x6xf32>)
      outs(%c : tensor<3x4xf16>) -> tensor<3x4xf16>
  return %y, %w : tensor<3x4xf16>, tensor<4x6xf32>
}

// Not fused, each with its reason: dynamic rows, f64 activations, packed
// parts that are arguments (the kernels embed the constants).
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT:     baq.packed_matmul
// CHECK-COUNT-3: linalg.matmul
// CHECK-NOT:     baq.packed_matmul
// CHECK:         return
func.func @not_fused(%a: tensor<?x6xf32>, %c: tensor<?x4xf32>,
                     %a64: tensor<1x6xf64>, %c64: tensor<1x4xf64>,
                     %p2: tensor<2xi32>, %s2: tensor<4x1xf16>, %z2: tensor<4x1xf16>,
                     %a1: tensor<1x6xf32>, %c1: tensor<1x4xf32>)
    -> (tensor<?x4xf32>, tensor<1x4xf64>, tensor<1x4xf32>) {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  // expected-remark @below {{quantized matmul not fused (needs static tensor shapes); its weight is dequantized instead}}
  %y = linalg.matmul ins(%a, %w : tensor<?x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<?x4xf32>) -> tensor<?x4xf32>
  // expected-remark @below {{quantized matmul not fused (needs f16, bf16 or f32 operands); its weight is dequantized instead}}
  %y64 = linalg.matmul ins(%a64, %w : tensor<1x6xf64>, tensor<6x4xf32>)
      outs(%c64 : tensor<1x4xf64>) -> tensor<1x4xf64>
  %w2 = baq.dequantize %p2, %s2, %z2 layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  // expected-remark @below {{quantized matmul not fused (weight is not a baq.dequantize of one baq.packed_constant or baq.packed_parameter with the same layout); its weight is dequantized instead}}
  %y2 = linalg.matmul ins(%a1, %w2 : tensor<1x6xf32>, tensor<6x4xf32>)
      outs(%c1 : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y, %y64, %y2 : tensor<?x4xf32>, tensor<1x4xf64>, tensor<1x4xf32>
}
