// Group sizes near INT64_MAX, from the option or from a #baq.layout, count one
// group per row without signed overflow (once a UBSan report;
// docs/RELIABILITY.md, bug 5).
// RUN: baq-opt %s --baq-allocate="group-size=9223372036854775807 progress=false" | FileCheck %s
// CHECK: group_size = 9223372036854775807, scale_type = i8, zero_type = i8, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2
// CHECK: test = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0], group_size = 9223372036854775807
func.func @f(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.5], [0.5, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
func.func @g() attributes {test = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0], group_size = 9223372036854775807, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }
