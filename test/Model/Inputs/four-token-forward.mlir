// A @forward with a 4-token vocabulary: no byte-fallback tokens.
func.func @forward(%tokens: tensor<1xi32>, %pos: index, %k: tensor<1x4x2xf32>, %v: tensor<1x4x2xf32>) -> (tensor<1x4xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
  %z = arith.constant dense<[[0.0, 0.0, 1.0, 0.0]]> : tensor<1x4xf32>
  return %z, %k, %v : tensor<1x4xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>
}
