// A @forward whose vocabulary (1 token) does not hold BOS (token 1).
func.func @forward(%tokens: tensor<1xi32>, %pos: index, %k: tensor<1x4x2xf32>, %v: tensor<1x4x2xf32>) -> (tensor<1x1xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
  %z = arith.constant dense<0.0> : tensor<1x1xf32>
  return %z, %k, %v : tensor<1x1xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>
}
