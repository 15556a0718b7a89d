// The smallest weights are valid input and must quantize: one element (f32
// dense, f16 dense_resource with a resource Hessian), one output row, one
// input channel. One weight per row is a grid endpoint (0 is always inside
// the row's range), exact at 1 bit: the measured loss table spends no second
// bit on it.
// RUN: baq-opt %s -split-input-file --baq-allocate="target-bits=2 progress=false" | FileCheck %s

// CHECK-LABEL: func.func @one_f32
// CHECK:       baq.packed_constant #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [1]
// CHECK:       linalg.matmul {baq.bits = #baq.bits<[1]>}
func.func @one_f32(%a: tensor<1x1xf32>, %c: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<0.5> : tensor<1x1xf32>
  %r = linalg.matmul {baq.hessian = dense<2.0> : tensor<1x1xf32>} ins(%a, %w : tensor<1x1xf32>, tensor<1x1xf32>) outs(%c : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

// -----

// CHECK-LABEL: func.func @one_f16_blob
// CHECK:       baq.packed_constant #baq.layout<outputs = 1, inputs = 1, channel_dim = 1, bits = [1]
// CHECK-SAME:  payload(dense_resource<w_payload> : tensor<1xi32>)
// CHECK:       baq.dequantize {{.*}} -> tensor<1x1xf16>
func.func @one_f16_blob(%a: tensor<1x1xf16>, %c: tensor<1x1xf16>) -> tensor<1x1xf16> {
  %w = arith.constant dense_resource<w> : tensor<1x1xf16>
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] {baq.hessian = dense_resource<h> : tensor<1x1xf32>} ins(%a, %w : tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<1x1xf16>) -> tensor<1x1xf16>
  return %r : tensor<1x1xf16>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x02000000003C",
      h: "0x0400000000000040"
    }
  }
#-}

// -----

// CHECK-LABEL: func.func @one_output
// CHECK:       baq.packed_constant #baq.layout<outputs = 1, inputs = 3, channel_dim = 0
func.func @one_output(%a: tensor<1x3xf32>, %c: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[0.5], [-1.0], [0.25]]> : tensor<3x1xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.1, 0.0], [0.1, 1.0, 0.0], [0.0, 0.0, 0.5]]> : tensor<3x3xf32>} ins(%a, %w : tensor<1x3xf32>, tensor<3x1xf32>) outs(%c : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

// -----

// CHECK-LABEL: func.func @one_input
// CHECK:       baq.packed_constant #baq.layout<outputs = 3, inputs = 1, channel_dim = 0, bits = [1]
func.func @one_input(%a: tensor<1x1xf32>, %c: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<[[0.5, -1.0, 0.25]]> : tensor<1x3xf32>
  %r = linalg.matmul {baq.hessian = dense<1.0> : tensor<1x1xf32>} ins(%a, %w : tensor<1x1xf32>, tensor<1x3xf32>) outs(%c : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %r : tensor<1x3xf32>
}
