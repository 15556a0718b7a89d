#map = affine_map<(d0, d1, d2) -> (d0, d2)>
#map1 = affine_map<(d0, d1, d2) -> (d1, d2)>
#map2 = affine_map<(d0, d1, d2) -> (d0, d1)>
module {
  func.func @q(%arg0: tensor<1x12xf16>) -> tensor<1x8xf16> {
    %payload, %scales, %zeros = baq.packed_constant #baq.layout<outputs = 8, inputs = 12, channel_dim = 1, bits = [2, 2, 4, 2, 2, 2, 2, 6, 2, 2, 2, 2], perm = [7, 2, 0, 1, 3, 4, 5, 6, 8, 9, 10, 11], segments = [6, 0, 1, 0, 4, 1, 1, 6, 2, 2, 10, 10], group_size = 4, scale_type = f16, zero_type = f16, payload_bytes = 32, scale_bytes = 48, zero_bytes = 48> payload(dense_resource<q_payload> : tensor<8xi32>) scales(dense_resource<q_scales> : tensor<8x3xf16>) zeros(dense_resource<q_zeros> : tensor<8x3xf16>)
    %0 = baq.dequantize %payload, %scales, %zeros layout(#baq.layout<outputs = 8, inputs = 12, channel_dim = 1, bits = [2, 2, 4, 2, 2, 2, 2, 6, 2, 2, 2, 2], perm = [7, 2, 0, 1, 3, 4, 5, 6, 8, 9, 10, 11], segments = [6, 0, 1, 0, 4, 1, 1, 6, 2, 2, 10, 10], group_size = 4, scale_type = f16, zero_type = f16, payload_bytes = 32, scale_bytes = 48, zero_bytes = 48>) : tensor<8xi32>, tensor<8x3xf16>, tensor<8x3xf16> -> tensor<8x12xf16>
    %cst = arith.constant 0.000000e+00 : f16
    %1 = tensor.empty() : tensor<1x8xf16>
    %2 = linalg.fill ins(%cst : f16) outs(%1 : tensor<1x8xf16>) -> tensor<1x8xf16>
    %3 = linalg.matmul indexing_maps = [#map, #map1, #map2] {baq.bits = #baq.bits<[2, 2, 4, 2, 2, 2, 2, 6, 2, 2, 2, 2]>} ins(%arg0, %0 : tensor<1x12xf16>, tensor<8x12xf16>) outs(%2 : tensor<1x8xf16>) -> tensor<1x8xf16>
    return %3 : tensor<1x8xf16>
  }
  func.func @k(%arg0: tensor<1x12xf16>) -> tensor<1x4xf16> {
    %payload, %scales, %zeros = baq.packed_constant #baq.layout<outputs = 4, inputs = 12, channel_dim = 1, bits = [2, 2, 4, 2, 2, 2, 2, 6, 2, 2, 2, 2], perm = [7, 2, 0, 1, 3, 4, 5, 6, 8, 9, 10, 11], segments = [6, 0, 1, 0, 4, 1, 1, 6, 2, 2, 10, 10], group_size = 4, scale_type = f16, zero_type = f16, payload_bytes = 16, scale_bytes = 24, zero_bytes = 24> payload(dense_resource<k_payload> : tensor<4xi32>) scales(dense_resource<k_scales> : tensor<4x3xf16>) zeros(dense_resource<k_zeros> : tensor<4x3xf16>)
    %0 = baq.dequantize %payload, %scales, %zeros layout(#baq.layout<outputs = 4, inputs = 12, channel_dim = 1, bits = [2, 2, 4, 2, 2, 2, 2, 6, 2, 2, 2, 2], perm = [7, 2, 0, 1, 3, 4, 5, 6, 8, 9, 10, 11], segments = [6, 0, 1, 0, 4, 1, 1, 6, 2, 2, 10, 10], group_size = 4, scale_type = f16, zero_type = f16, payload_bytes = 16, scale_bytes = 24, zero_bytes = 24>) : tensor<4xi32>, tensor<4x3xf16>, tensor<4x3xf16> -> tensor<4x12xf16>
    %cst = arith.constant 0.000000e+00 : f16
    %1 = tensor.empty() : tensor<1x4xf16>
    %2 = linalg.fill ins(%cst : f16) outs(%1 : tensor<1x4xf16>) -> tensor<1x4xf16>
    %3 = linalg.matmul indexing_maps = [#map, #map1, #map2] {baq.bits = #baq.bits<[2, 2, 4, 2, 2, 2, 2, 6, 2, 2, 2, 2]>} ins(%arg0, %0 : tensor<1x12xf16>, tensor<4x12xf16>) outs(%2 : tensor<1x4xf16>) -> tensor<1x4xf16>
    return %3 : tensor<1x4xf16>
  }
}

{-#
  dialect_resources: {
    builtin: {
      q_payload: "0x040000002C00000033000000000000000B000000000000003F000000000000001F000000",
      q_scales: "0x040000006936742DAA32BC2D0A2CCC2F1732542E462A2A347B30592C6132BC2D8831E6310430EE2C6833822F542DE62DA0301031",
      q_zeros: "0x04000000C8B474AD9AA6BCADD1A5BBA89EA6C9A8000083B036AEEF9970ACE4AA62B03EAD37ADEBABDFB0CEAB0000C9ACBDAD0DB0",
      k_payload: "0x04000000230000003F0000002400000017000000",
      k_scales: "0x04000000582CAE2DFE33E435E2287432DE33AA2CE7308C327B2D5931",
      k_zeros: "0x0400000097A8BFA994AB1EB59CA100001BB25BA8F1AB56A99DA459B1"
    }
  }
#-}

