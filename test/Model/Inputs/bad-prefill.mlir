// @prefill's cache differs from @forward's.
func.func @forward(%tokens: tensor<1xi32>, %pos: index, %k: tensor<1x4x2xf32>, %v: tensor<1x4x2xf32>) -> (tensor<1x320xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
  %z = arith.constant dense<0.0> : tensor<1x320xf32>
  return %z, %k, %v : tensor<1x320xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>
}
func.func @prefill(%tokens: tensor<2xi32>, %pos: index, %k: tensor<1x8x2xf32>, %v: tensor<1x8x2xf32>) -> (tensor<2x320xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>) {
  %z = arith.constant dense<0.0> : tensor<2x320xf32>
  return %z, %k, %v : tensor<2x320xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>
}
