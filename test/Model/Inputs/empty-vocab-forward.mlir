// A @forward whose logits have an empty vocabulary (tensor<1x0xf32>).
func.func @forward(%tokens: tensor<1xi32>, %pos: index, %k: tensor<1x4x2xf32>, %v: tensor<1x4x2xf32>) -> (tensor<1x0xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
  %z = arith.constant dense<0.0> : tensor<1x0xf32>
  return %z, %k, %v : tensor<1x0xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>
}
