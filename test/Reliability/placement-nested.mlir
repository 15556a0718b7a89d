// A nested module is lowered by nesting the pipeline on it.
// RUN: baq-opt %s --pass-pipeline="builtin.module(builtin.module(baq-lower-cpu))" | FileCheck %s

// CHECK-LABEL: module @inner
// CHECK:       llvm.func @nested
// CHECK-NOT:   baq.
#layout = #baq.layout<outputs = 2, inputs = 2, channel_dim = 0,
  bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 4, scale_bytes = 4, zero_bytes = 4>
module {
  module @inner {
    func.func @nested(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
      %p, %s, %z = baq.packed_constant #layout payload(dense<119> : tensor<1xi32>)
          scales(dense<1.0> : tensor<2x1xf16>) zeros(dense<-0.5> : tensor<2x1xf16>)
      %w = baq.dequantize %p, %s, %z layout(#layout)
          : tensor<1xi32>, tensor<2x1xf16>, tensor<2x1xf16> -> tensor<2x2xf32>
      %y = linalg.matmul ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>)
          outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
      return %y : tensor<1x2xf32>
    }
  }
}
