// The dialect verifier can compare the Hessian with the reduction size only
// when the activation operand makes it static; with tensor<1x?xf32> the pass
// itself must compare it with the weight's input channels (once a heap
// overflow; docs/RELIABILITY.md, bug 2).
// RUN: not baq-opt %s --baq-allocate="progress=false" 2>&1 | FileCheck %s
// CHECK: hessian-size-dynamic.mlir:[[@LINE+4]]:{{[0-9]+}}: error: {{.*}} does not match the weight{{.*}} 4 input channels; expected 4x4
// CHECK-NOT: baq.packed_constant
func.func @f(%a: tensor<1x?xf32>, %c: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.0, 2.0, 3.0]]> : tensor<4x3xf32>
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x?xf32>, tensor<4x3xf32>) outs(%c : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %r : tensor<1x3xf32>
}
