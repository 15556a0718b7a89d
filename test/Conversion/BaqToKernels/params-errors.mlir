// RUN: baq-opt %s --baq-constants-to-globals -split-input-file -verify-diagnostics
//
// A parameter key names one weight: read with two layouts (other part types),
// or colliding with another symbol, it is an error on the op.

#a = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>
#b = #baq.layout<outputs = 2, inputs = 4, channel_dim = 1,
  bits = [8, 8, 8, 8], perm = [0, 1, 2, 3], segments = [8, 0, 4, 0],
  group_size = 0, scale_type = f32, zero_type = i8,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 2>

func.func @two_layouts() -> (tensor<4x1xf16>, tensor<2x1xf32>) {
  %p, %s, %z = baq.packed_parameter #a key("w")
  // expected-error@+1 {{parameter 'w' is read as 'memref<2x1xf32>' here and as 'memref<4x1xf16>' elsewhere (one key, two layouts)}}
  %p2, %s2, %z2 = baq.packed_parameter #b key("w")
  return %s, %s2 : tensor<4x1xf16>, tensor<2x1xf32>
}

// -----

#a = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

func.func private @__baq_param_w.payload()

func.func @taken() -> tensor<2xi32> {
  // expected-error@+1 {{symbol '__baq_param_w.payload' of parameter 'w' is already taken}}
  %p, %s, %z = baq.packed_parameter #a key("w")
  return %p : tensor<2xi32>
}
