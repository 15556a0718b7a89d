// A lazy batch longer than the layer is the whole layer: block sizes far
// beyond N are clamped to N instead of allocating block-size x M buffers
// (once "LLVM ERROR: out of memory"; docs/RELIABILITY.md, bug 3).
// RUN: baq-opt %s --baq-allocate="block-size=1000000000000 progress=false" | FileCheck %s
// RUN: baq-opt %s --baq-allocate="block-size=9223372036854775807 progress=false" | FileCheck %s
// CHECK: baq.packed_constant
func.func @f(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.5], [0.5, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
