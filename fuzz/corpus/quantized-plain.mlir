module {
  func.func @plain(%arg0: tensor<2x4xf32>, %arg1: tensor<2x3xf32>) -> tensor<2x3xf32> {
    %payload, %scales, %zeros = baq.packed_constant #baq.layout<outputs = 3, inputs = 4, channel_dim = 0, bits = [4, 3, 3, 2], perm = [0, 1, 2, 3], segments = [4, 0, 1, 0, 3, 1, 2, 4, 2, 3, 1, 10], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 8, scale_bytes = 6, zero_bytes = 6> payload(dense_resource<plain_payload> : tensor<2xi32>) scales(dense_resource<plain_scales> : tensor<3x1xf16>) zeros(dense_resource<plain_zeros> : tensor<3x1xf16>)
    %0 = baq.dequantize %payload, %scales, %zeros layout(#baq.layout<outputs = 3, inputs = 4, channel_dim = 0, bits = [4, 3, 3, 2], perm = [0, 1, 2, 3], segments = [4, 0, 1, 0, 3, 1, 2, 4, 2, 3, 1, 10], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 8, scale_bytes = 6, zero_bytes = 6>) : tensor<2xi32>, tensor<3x1xf16>, tensor<3x1xf16> -> tensor<4x3xf32>
    %1 = linalg.matmul {baq.bits = #baq.bits<[4, 3, 3, 2]>} ins(%arg0, %0 : tensor<2x4xf32>, tensor<4x3xf32>) outs(%arg1 : tensor<2x3xf32>) -> tensor<2x3xf32>
    return %1 : tensor<2x3xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      plain_payload: "0x040000000900000000000000",
      plain_scales: "0x0400000000449A3F333F",
      plain_zeros: "0x0400000000C000BCCDB4"
    }
  }
#-}

