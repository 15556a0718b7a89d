func.func @f(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x2xf16>
  %r = linalg.matmul {baq.hessian = dense_resource<h> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf16>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x02000000003C007E003C",
      h: "0x040000000000803F000000000000000000008040"
    }
  }
#-}
