// A @forward with the whole-model interface (context 4, vocab 320) that reads
// parameter "w" (the layout of test/Transforms/Inputs/make_params.py).
#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>
func.func @forward(%tokens: tensor<1xi32>, %pos: index, %k: tensor<1x4x2xf32>, %v: tensor<1x4x2xf32>) -> (tensor<1x320xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
  %p, %s, %z = baq.packed_parameter #layout key("w")
  %z0 = arith.constant dense<0.0> : tensor<1x320xf32>
  return %z0, %k, %v : tensor<1x320xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>
}
