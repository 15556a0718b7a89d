// With a dynamic activation (tensor<1x?xf32>) the loop ranges leave the
// reduction size open; the weight still fixes it, and the verifier checks the
// Hessian and the bitwidths against it (once a heap overflow in
// --baq-allocate; docs/RELIABILITY.md, bug 2).
// RUN: baq-opt %s -split-input-file -verify-diagnostics
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-allocate="progress=false"

func.func @hessian(%a: tensor<1x?xf32>, %c: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.0, 2.0, 3.0]]> : tensor<4x3xf32>
  // expected-error@+1 {{'baq.hessian' is 2x2 but the matmul has 4 input features}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x?xf32>, tensor<4x3xf32>) outs(%c : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %r : tensor<1x3xf32>
}

// -----

func.func @bits(%a: tensor<1x?xf32>, %w: tensor<4x3xf32>, %c: tensor<1x3xf32>) -> tensor<1x3xf32> {
  // expected-error@+1 {{'baq.bits' has 2 bitwidths but the matmul has 4 input features}}
  %r = linalg.matmul {baq.bits = #baq.bits<[2, 2]>} ins(%a, %w : tensor<1x?xf32>, tensor<4x3xf32>) outs(%c : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %r : tensor<1x3xf32>
}

// -----

// Transposed weight [M, N] = [3, 4]: the size comes from its second dimension.
func.func @transposed(%a: tensor<1x?xf32>, %c: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<1.0> : tensor<3x4xf32>
  // expected-error@+1 {{'baq.hessian' is 2x2 but the matmul has 4 input features}}
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x?xf32>, tensor<3x4xf32>) outs(%c : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %r : tensor<1x3xf32>
}
