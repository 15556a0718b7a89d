#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [0, 1], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @f(%p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>) -> tensor<2x1xf32> {
  %w = baq.dequantize %p, %s, %z layout(#l) : tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16> -> tensor<2x1xf32>
  return %w : tensor<2x1xf32>
}
