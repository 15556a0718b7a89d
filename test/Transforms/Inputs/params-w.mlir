// A module that reads weight "w" from a parameter file (params-errors.mlir).
#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>
func.func @f() -> (tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16>) {
  %p, %s, %z = baq.packed_parameter #layout key("w")
  return %p, %s, %z : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16>
}
