// Tokens as f32 instead of i32.
func.func @forward(%tokens: tensor<1xf32>, %pos: index, %k: tensor<1x4x2xf32>, %v: tensor<1x4x2xf32>) -> (tensor<1x320xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
  %z = arith.constant dense<0.0> : tensor<1x320xf32>
  return %z, %k, %v : tensor<1x320xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>
}
