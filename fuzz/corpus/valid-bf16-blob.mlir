func.func @bf16(%a: tensor<1x3xbf16>, %c: tensor<1x2xbf16>) -> tensor<1x2xbf16> {
  %w = arith.constant dense_resource<w> : tensor<2x3xbf16>
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] {baq.hessian = dense_resource<h> : tensor<3x3xf32>} ins(%a, %w : tensor<1x3xbf16>, tensor<2x3xbf16>) outs(%c : tensor<1x2xbf16>) -> tensor<1x2xbf16>
  return %r : tensor<1x2xbf16>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x02000000803F00BF003E8040CDBD9A3E",
      h: "0x040000000000004000000000CDCCCC3D000000000000803F00000000CDCCCC3D000000000000003F"
    }
  }
#-}
