// Plain maps ([in, out] weight), dense f32 constants.
func.func @plain(%a: tensor<2x4xf32>, %c: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<[[0.5, -1.0, 0.25], [2.0, 0.1, -0.3], [0.0, 0.7, 1.5], [-2.0, 0.9, 0.05]]> : tensor<4x3xf32>
  %r = linalg.matmul {baq.hessian = dense<[[4.0, 0.5, 0.1, 0.0], [0.5, 2.0, 0.2, 0.1], [0.1, 0.2, 1.0, 0.3], [0.0, 0.1, 0.3, 0.5]]> : tensor<4x4xf32>} ins(%a, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%c : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
