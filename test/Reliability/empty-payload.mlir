// A vanishing budget gives every column 0 bits: the payload is empty and its
// resource blob must be made without memcpy from a null pointer (once a UBSan
// report under scripts/sanitize.sh; docs/RELIABILITY.md, bug 4).
// RUN: baq-opt %s --baq-allocate="target-bits=1e-300 progress=false" | FileCheck %s
// CHECK: bits = [0, 0], perm = [0, 1], segments = [], group_size = 0
// CHECK-SAME: payload_bytes = 0
// CHECK: payload(dense_resource<f_payload> : tensor<0xi32>)
func.func @f(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.5], [0.5, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
