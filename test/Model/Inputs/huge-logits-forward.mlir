// Every logit is 3e38 (near FLT_MAX): a uniform distribution over the
// vocabulary of 320, whose perplexity is exactly 320.
func.func @forward(%tokens: tensor<1xi32>, %pos: index, %k: tensor<1x4x2xf32>, %v: tensor<1x4x2xf32>) -> (tensor<1x320xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
  %z = arith.constant dense<3.0e38> : tensor<1x320xf32>
  return %z, %k, %v : tensor<1x320xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>
}
