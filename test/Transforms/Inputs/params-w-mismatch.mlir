// Modules that read weight "w" or "other" with layouts make_params.py does
// not write (params-errors.mlir), one per split.
// "w" with another layout (channel_dim 1).
#other = #baq.layout<outputs = 4, inputs = 6, channel_dim = 1,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>
func.func @f() -> tensor<2xi32> {
  %p, %s, %z = baq.packed_parameter #other key("w")
  return %p : tensor<2xi32>
}

// -----

// "w" read with two layouts: the second differs from the first.
#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>
#other = #baq.layout<outputs = 4, inputs = 6, channel_dim = 1,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>
func.func @f() -> (tensor<2xi32>, tensor<2xi32>) {
  %p, %s, %z = baq.packed_parameter #layout key("w")
  %p2, %s2, %z2 = baq.packed_parameter #other key("w")
  return %p, %p2 : tensor<2xi32>, tensor<2xi32>
}

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>
func.func @f() -> tensor<2xi32> {
  %p, %s, %z = baq.packed_parameter #layout key("other")
  return %p : tensor<2xi32>
}
