func.func @f(%a: tensor<1x?xf32>, %c: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.0, 2.0, 3.0]]> : tensor<4x3xf32>
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x?xf32>, tensor<4x3xf32>) outs(%c : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %r : tensor<1x3xf32>
}
