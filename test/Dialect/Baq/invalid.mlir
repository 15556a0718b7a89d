// RUN: baq-opt %s -split-input-file -verify-diagnostics

// expected-error@+1 {{expected at least one bitwidth}}
func.func @bits_empty() attributes {test = #baq.bits<[]>} { return }

// -----

// expected-error@+1 {{bitwidth 9 of input channel 1 is outside [0, 8]}}
func.func @bits_range() attributes {test = #baq.bits<[2, 9]>} { return }

// -----

// expected-error@+1 {{expected positive outputs and inputs, got 0 and 1}}
func.func @layout_empty() attributes {test = #baq.layout<outputs = 0, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 0, scale_bytes = 0, zero_bytes = 0>} { return }

// -----

// expected-error@+1 {{channel_dim must be 0 or 1, got 2}}
func.func @layout_channel_dim() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 2, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{expected 2 bitwidths, got 1}}
func.func @layout_bits_count() attributes {test = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2], perm = [0, 1], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{bitwidth 12 of input channel 0 is outside [0, 8]}}
func.func @layout_bits_range() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [12], perm = [0], segments = [12, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{group_size must be non-negative, got -4}}
func.func @layout_group() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = -4, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// Scale codes are signless i8 (read as unsigned); ui8 and wider integers are not.
// expected-error@+1 {{scale_type must be f16, bf16, f32 or i8 (8-bit scale codes)}}
func.func @layout_scale_type() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = ui8, zero_type = f16, payload_bytes = 4, scale_bytes = 1, zero_bytes = 2>} { return }

// -----

// Zero codes are signless i8 (read as unsigned); ui8 and wider integers are not.
// expected-error@+1 {{zero_type must be f16, bf16, f32 or i8 (8-bit zero codes)}}
func.func @layout_zero_type_ui8() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = ui8, payload_bytes = 4, scale_bytes = 2, zero_bytes = 1>} { return }

// -----

// expected-error@+1 {{zero_type must be f16, bf16, f32 or i8 (8-bit zero codes)}}
func.func @layout_zero_type_i16() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = i16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// The byte count of i8 zeros is one per (row, group).
// expected-error@+1 {{scale_bytes/zero_bytes are 2/2, expected 2/1}}
func.func @layout_zero_type_i8_bytes() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = i8, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{expected a permutation of 2 channels, got 1 entries}}
func.func @layout_perm_size() attributes {test = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 2], perm = [0], segments = [2, 0, 2, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{perm is not a permutation of [0, 2): entry 0 is out of range or repeated}}
func.func @layout_perm_repeat() attributes {test = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 2], perm = [0, 0], segments = [2, 0, 2, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{perm is not the canonical order (descending bitwidth, ascending channel)}}
func.func @layout_perm_order() attributes {test = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [0, 1], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{segments do not match the bitwidths: expected 2 [bits, start, count, bit_offset] quadruples derived from 'bits'}}
func.func @layout_segments() attributes {test = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 2, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 8, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{packed sizes of a 4611686018427387904 x 1 weight overflow 64-bit byte counts}}
func.func @layout_size_overflow() attributes {test = #baq.layout<outputs = 4611686018427387904, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f32, zero_type = f32, payload_bytes = 0, scale_bytes = 0, zero_bytes = 0>} { return }

// -----

// The 2-bit segment starts at bit 3 of the row's stream, not at a word (the
// word-aligned format before issue 10).
// expected-error@+1 {{segments do not match the bitwidths: expected 2 [bits, start, count, bit_offset] quadruples derived from 'bits'}}
func.func @layout_segment_bit_offset() attributes {test = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 32], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 8, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// 3 rows of 5 bits: no full word, 15 tail bits in one word.
// expected-error@+1 {{payload_bytes is 12, expected 4}}
func.func @layout_payload_bytes() attributes {test = #baq.layout<outputs = 3, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 12, scale_bytes = 6, zero_bytes = 6>} { return }

// -----

// 3 rows of 37 bits: one full word per row, then 3 x 5 tail bits in one word.
// expected-error@+1 {{payload_bytes is 24, expected 16}}
func.func @layout_payload_bytes_tail() attributes {test = #baq.layout<outputs = 3, inputs = 5, channel_dim = 0, bits = [8, 8, 8, 8, 5], perm = [0, 1, 2, 3, 4], segments = [8, 0, 4, 0, 5, 4, 1, 32], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 24, scale_bytes = 6, zero_bytes = 6>} { return }

// -----

// expected-error@+1 {{scale_bytes/zero_bytes are 2/2, expected 4/2 for 1 (row, group) pairs}}
func.func @layout_scale_bytes() attributes {test = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f32, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// Only the zero count is wrong. (The byte-count cases use 32 payload bits per
// row, one word in any packing.)
// expected-error@+1 {{scale_bytes/zero_bytes are 2/999, expected 2/2 for 1 (row, group) pairs}}
func.func @layout_zero_bytes() attributes {test = #baq.layout<outputs = 1, inputs = 4, channel_dim = 0, bits = [8, 8, 8, 8], perm = [0, 1, 2, 3], segments = [8, 0, 4, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 999>} { return }

// -----

// The zero count follows zero_type (f32), not scale_type (f16).
// expected-error@+1 {{scale_bytes/zero_bytes are 2/2, expected 2/4 for 1 (row, group) pairs}}
func.func @layout_zero_type_bytes() attributes {test = #baq.layout<outputs = 1, inputs = 4, channel_dim = 0, bits = [8, 8, 8, 8], perm = [0, 1, 2, 3], segments = [8, 0, 4, 0], group_size = 0, scale_type = f16, zero_type = f32, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// Scale and zero counts scale with rows x groups: 3 rows, 4 live channels in
// groups of 2.
// expected-error@+1 {{scale_bytes/zero_bytes are 6/6, expected 12/12 for 6 (row, group) pairs}}
func.func @layout_group_bytes() attributes {test = #baq.layout<outputs = 3, inputs = 5, channel_dim = 0, bits = [8, 0, 8, 8, 8], perm = [0, 2, 3, 4, 1], segments = [8, 0, 4, 0], group_size = 2, scale_type = f16, zero_type = f16, payload_bytes = 12, scale_bytes = 6, zero_bytes = 6>} { return }

// -----

// The payload count scales with the rows (3 rows of one word).
// expected-error@+1 {{payload_bytes is 4, expected 12}}
func.func @layout_payload_rows() attributes {test = #baq.layout<outputs = 3, inputs = 4, channel_dim = 0, bits = [8, 8, 8, 8], perm = [0, 1, 2, 3], segments = [8, 0, 4, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 6, zero_bytes = 6>} { return }

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @constant_payload_type() {
  // expected-error@+1 {{'baq.packed_constant' op payload has type 'tensor<1x1xi32>', but the layout requires 'tensor<1xi32>'}}
  %p, %s, %z = baq.packed_constant #l payload(dense<0> : tensor<1x1xi32>) scales(dense<1.0> : tensor<1x1xf16>) zeros(dense<0.0> : tensor<1x1xf16>)
  return
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @constant_scales_type() {
  // expected-error@+1 {{'baq.packed_constant' op scales has type 'tensor<1x1xf32>', but the layout requires 'tensor<1x1xf16>'}}
  %p, %s, %z = baq.packed_constant #l payload(dense<0> : tensor<1xi32>) scales(dense<1.0> : tensor<1x1xf32>) zeros(dense<0.0> : tensor<1x1xf16>)
  return
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @constant_zeros_type() {
  // expected-error@+1 {{'baq.packed_constant' op zeros has type 'tensor<1x2xf16>', but the layout requires 'tensor<1x1xf16>'}}
  %p, %s, %z = baq.packed_constant #l payload(dense<0> : tensor<1xi32>) scales(dense<1.0> : tensor<1x1xf16>) zeros(dense<0.0> : tensor<1x2xf16>)
  return
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @constant_missing_blob() {
  // expected-error@+1 {{'baq.packed_constant' op payload refers to resource 'nowhere' that has no data}}
  %p, %s, %z = baq.packed_constant #l payload(dense_resource<nowhere> : tensor<1xi32>) scales(dense<1.0> : tensor<1x1xf16>) zeros(dense<0.0> : tensor<1x1xf16>)
  return
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @constant_truncated_blob() {
  // expected-error@+1 {{'baq.packed_constant' op payload resource 'short' holds 2 bytes, expected 4}}
  %p, %s, %z = baq.packed_constant #l payload(dense_resource<short> : tensor<1xi32>) scales(dense<1.0> : tensor<1x1xf16>) zeros(dense<0.0> : tensor<1x1xf16>)
  return
}
{-#
  dialect_resources: {
    builtin: {
      short: "0x040000000100"
    }
  }
#-}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @dequantize_payload(%p: tensor<3x1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>) -> tensor<2x1xf32> {
  // expected-error@+1 {{'baq.dequantize' op payload has type 'tensor<3x1xi32>', but the layout requires 'tensor<1xi32>'}}
  %w = baq.dequantize %p, %s, %z layout(#l) : tensor<3x1xi32>, tensor<1x1xf16>, tensor<1x1xf16> -> tensor<2x1xf32>
  return %w : tensor<2x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @dequantize_scales(%p: tensor<1xi32>, %s: tensor<1x1xbf16>, %z: tensor<1x1xf16>) -> tensor<2x1xf32> {
  // expected-error@+1 {{'baq.dequantize' op scales has type 'tensor<1x1xbf16>', but the layout requires 'tensor<1x1xf16>'}}
  %w = baq.dequantize %p, %s, %z layout(#l) : tensor<1xi32>, tensor<1x1xbf16>, tensor<1x1xf16> -> tensor<2x1xf32>
  return %w : tensor<2x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @dequantize_zeros(%p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<2x1xf16>) -> tensor<2x1xf32> {
  // expected-error@+1 {{'baq.dequantize' op zeros has type 'tensor<2x1xf16>', but the layout requires 'tensor<1x1xf16>'}}
  %w = baq.dequantize %p, %s, %z layout(#l) : tensor<1xi32>, tensor<1x1xf16>, tensor<2x1xf16> -> tensor<2x1xf32>
  return %w : tensor<2x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 1, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @dequantize_shape(%p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>) -> tensor<2x1xf32> {
  // expected-error@+1 {{'baq.dequantize' op result shape must be [1, 2] for channel_dim = 1}}
  %w = baq.dequantize %p, %s, %z layout(#l) : tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16> -> tensor<2x1xf32>
  return %w : tensor<2x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @dequantize_element(%p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>) -> tensor<2x1xi8> {
  // expected-error@+1 {{'baq.dequantize' op result #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values}}
  %w = baq.dequantize %p, %s, %z layout(#l) : tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16> -> tensor<2x1xi8>
  return %w : tensor<2x1xi8>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_payload(%a: tensor<3x2xf32>, %p: tensor<2xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf32>) -> tensor<3x1xf32> {
  // expected-error@+1 {{'baq.packed_matmul' op payload has type 'tensor<2xi32>', but the layout requires 'tensor<1xi32>'}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf32>, tensor<2xi32>, tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf32>) layout(#l) -> tensor<3x1xf32>
  return %r : tensor<3x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_scales_type(%a: tensor<3x2xf32>, %p: tensor<1xi32>, %s: tensor<1x1xbf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf32>) -> tensor<3x1xf32> {
  // expected-error@+1 {{'baq.packed_matmul' op scales has type 'tensor<1x1xbf16>', but the layout requires 'tensor<1x1xf16>'}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf32>, tensor<1xi32>, tensor<1x1xbf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf32>) layout(#l) -> tensor<3x1xf32>
  return %r : tensor<3x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_zeros(%a: tensor<3x2xf32>, %p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<2x1xf16>, %c: tensor<3x1xf32>) -> tensor<3x1xf32> {
  // expected-error@+1 {{'baq.packed_matmul' op zeros has type 'tensor<2x1xf16>', but the layout requires 'tensor<1x1xf16>'}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf32>, tensor<1xi32>, tensor<1x1xf16>, tensor<2x1xf16>) outs(%c : tensor<3x1xf32>) layout(#l) -> tensor<3x1xf32>
  return %r : tensor<3x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_input_shape(%a: tensor<2x3xf32>, %p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf32>) -> tensor<3x1xf32> {
  // expected-error@+1 {{'baq.packed_matmul' op input must be [rows, 2] (the layout's inputs) without encoding, got 'tensor<2x3xf32>'}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<2x3xf32>, tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf32>) layout(#l) -> tensor<3x1xf32>
  return %r : tensor<3x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_input_rank(%a: tensor<2xf32>, %p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf32>) -> tensor<3x1xf32> {
  // expected-error@+1 {{'baq.packed_matmul' op input must be [rows, 2] (the layout's inputs) without encoding, got 'tensor<2xf32>'}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<2xf32>, tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf32>) layout(#l) -> tensor<3x1xf32>
  return %r : tensor<3x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_init_shape(%a: tensor<3x2xf32>, %p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x2xf32>) -> tensor<3x2xf32> {
  // expected-error@+1 {{'baq.packed_matmul' op init must be [rows, 1] (the layout's outputs) without encoding, got 'tensor<3x2xf32>'}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf32>, tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x2xf32>) layout(#l) -> tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

// Tensor encodings (data tiling, sparsity) change what the elements mean;
// the kernels read plain row-major activations and results. Shapes and
// element types are valid here: only the encoding is wrong.
#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_input_encoding(%a: tensor<3x2xf32, "tiled">, %p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf32>) -> tensor<3x1xf32> {
  // expected-error@+1 {{'baq.packed_matmul' op input must be [rows, 2] (the layout's inputs) without encoding, got 'tensor<3x2xf32, "tiled">'}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf32, "tiled">, tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf32>) layout(#l) -> tensor<3x1xf32>
  return %r : tensor<3x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_init_encoding(%a: tensor<3x2xf32>, %p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf32, "tiled">) -> tensor<3x1xf32, "tiled"> {
  // expected-error@+1 {{'baq.packed_matmul' op init must be [rows, 1] (the layout's outputs) without encoding, got 'tensor<3x1xf32, "tiled">'}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf32>, tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf32, "tiled">) layout(#l) -> tensor<3x1xf32, "tiled">
  return %r : tensor<3x1xf32, "tiled">
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_scales_encoding(%a: tensor<3x2xf32>, %p: tensor<1xi32>, %s: tensor<1x1xf16, "tiled">, %z: tensor<1x1xf16>, %c: tensor<3x1xf32>) -> tensor<3x1xf32> {
  // expected-error@+1 {{'baq.packed_matmul' op scales has type 'tensor<1x1xf16, "tiled">', but the layout requires 'tensor<1x1xf16>'}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf32>, tensor<1xi32>, tensor<1x1xf16, "tiled">, tensor<1x1xf16>) outs(%c : tensor<3x1xf32>) layout(#l) -> tensor<3x1xf32>
  return %r : tensor<3x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_rows(%a: tensor<4x2xf32>, %p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf32>) -> tensor<3x1xf32> {
  // expected-error@+1 {{'baq.packed_matmul' op input has 4 rows but init has 3}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<4x2xf32>, tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf32>) layout(#l) -> tensor<3x1xf32>
  return %r : tensor<3x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_result(%a: tensor<3x2xf32>, %p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf32>) -> tensor<3x1xf16> {
  // expected-error@+1 {{'baq.packed_matmul' op result type 'tensor<3x1xf16>' must be the init's type 'tensor<3x1xf32>'}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf32>, tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf32>) layout(#l) -> tensor<3x1xf16>
  return %r : tensor<3x1xf16>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_input_element(%a: tensor<3x2xi8>, %p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf32>) -> tensor<3x1xf32> {
  // expected-error@+1 {{'baq.packed_matmul' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xi8>, tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf32>) layout(#l) -> tensor<3x1xf32>
  return %r : tensor<3x1xf32>
}

// -----

#l = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3], perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>
func.func @packed_matmul_init_element(%a: tensor<3x2xf32>, %p: tensor<1xi32>, %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf64>) -> tensor<3x1xf64> {
  // expected-error@+1 {{'baq.packed_matmul' op operand #4 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values}}
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf32>, tensor<1xi32>, tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf64>) layout(#l) -> tensor<3x1xf64>
  return %r : tensor<3x1xf64>
}

// -----

func.func @hessian_not_square(%a: tensor<1x3xf32>, %b: tensor<3x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-error@+1 {{'baq.hessian' must be a square 2-D f32 tensor constant}}
  %r = linalg.matmul {baq.hessian = dense<1.0> : tensor<3x2xf32>} ins(%a, %b : tensor<1x3xf32>, tensor<3x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @hessian_f16(%a: tensor<1x3xf32>, %b: tensor<3x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-error@+1 {{'baq.hessian' must be a square 2-D f32 tensor constant}}
  %r = linalg.matmul {baq.hessian = dense<1.0> : tensor<3x3xf16>} ins(%a, %b : tensor<1x3xf32>, tensor<3x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @hessian_size(%a: tensor<1x3xf32>, %b: tensor<3x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-error@+1 {{'baq.hessian' is 2x2 but the matmul has 3 input features}}
  %r = linalg.matmul {baq.hessian = dense<1.0> : tensor<2x2xf32>} ins(%a, %b : tensor<1x3xf32>, tensor<3x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// expected-error@+1 {{'baq.hessian' is only valid on a linalg contraction}}
func.func @hessian_on_func() attributes {baq.hessian = dense<1.0> : tensor<2x2xf32>} { return }

// -----

// A linalg op that is not a mul-add contraction cannot carry a Hessian.
func.func @hessian_on_elementwise(%a: tensor<2x2xf32>, %b: tensor<2x2xf32>, %c: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error@+1 {{'baq.hessian' is only valid on a linalg contraction}}
  %r = linalg.add {baq.hessian = dense<1.0> : tensor<2x2xf32>} ins(%a, %b : tensor<2x2xf32>, tensor<2x2xf32>) outs(%c : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

// -----

func.func @target_bits_type(%a: tensor<1x3xf32>, %b: tensor<3x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-error@+1 {{'baq.target_bits' must be a float attribute}}
  %r = linalg.matmul {baq.target_bits = 3 : i32} ins(%a, %b : tensor<1x3xf32>, tensor<3x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @target_bits_zero(%a: tensor<1x3xf32>, %b: tensor<3x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-error@+1 {{'baq.target_bits' must be in (0, 8], got 0}}
  %r = linalg.matmul {baq.target_bits = 0.0 : f64} ins(%a, %b : tensor<1x3xf32>, tensor<3x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @target_bits_above(%a: tensor<1x3xf32>, %b: tensor<3x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-error@+1 {{'baq.target_bits' must be in (0, 8], got 8.5}}
  %r = linalg.matmul {baq.target_bits = 8.5 : f64} ins(%a, %b : tensor<1x3xf32>, tensor<3x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @target_bits_on_elementwise(%a: tensor<2x2xf32>, %b: tensor<2x2xf32>, %c: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error@+1 {{'baq.target_bits' is only valid on a linalg contraction}}
  %r = linalg.add {baq.target_bits = 2.0 : f64} ins(%a, %b : tensor<2x2xf32>, tensor<2x2xf32>) outs(%c : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

// -----

func.func @bits_type(%a: tensor<1x3xf32>, %b: tensor<3x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-error@+1 {{'baq.bits' must be a #baq.bits attribute}}
  %r = linalg.matmul {baq.bits = [2, 2, 2]} ins(%a, %b : tensor<1x3xf32>, tensor<3x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @bits_size(%a: tensor<1x3xf32>, %b: tensor<3x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-error@+1 {{'baq.bits' has 2 bitwidths but the matmul has 3 input features}}
  %r = linalg.matmul {baq.bits = #baq.bits<[2, 2]>} ins(%a, %b : tensor<1x3xf32>, tensor<3x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// expected-error@+1 {{'baq.bits' is only valid on a linalg contraction}}
func.func @bits_on_func() attributes {baq.bits = #baq.bits<[2]>} { return }

// -----

// expected-error@+1 {{unknown baq attribute 'baq.typo'}}
func.func @unknown_attr() attributes {baq.typo = 1 : i64} { return }

// -----

#layout = #baq.layout<outputs = 2, inputs = 2, channel_dim = 0,
  bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 4, scale_bytes = 4, zero_bytes = 4>
func.func @dequantize_encoding(%p: tensor<1xi32>, %s: tensor<2x1xf16>, %z: tensor<2x1xf16>) -> tensor<2x2xf32, "tiled"> {
  // expected-error@+1 {{'baq.dequantize' op result type 'tensor<2x2xf32, "tiled">' must not carry a tensor encoding}}
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<1xi32>, tensor<2x1xf16>, tensor<2x1xf16> -> tensor<2x2xf32, "tiled">
  return %w : tensor<2x2xf32, "tiled">
}

// -----

// Grid values outside FORMAT.md §4's domain, dense and dense_resource, each
// grid type.
#layout = #baq.layout<outputs = 2, inputs = 2, channel_dim = 0,
  bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 4, scale_bytes = 4, zero_bytes = 4>
func.func @negative_scale() {
  // expected-error@+1 {{'baq.packed_constant' op scales[1, 0] is negative: scales must be finite and non-negative}}
  %p, %s, %z = baq.packed_constant #layout payload(dense<119> : tensor<1xi32>)
      scales(dense<[[1.0], [-1.0]]> : tensor<2x1xf16>) zeros(dense<-0.5> : tensor<2x1xf16>)
  return
}

// -----

#layout = #baq.layout<outputs = 2, inputs = 2, channel_dim = 0,
  bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 4, scale_bytes = 4, zero_bytes = 4>
func.func @nan_zero_resource() {
  // expected-error@+1 {{'baq.packed_constant' op zeros[1, 0] is not finite: zeros must be finite}}
  %p, %s, %z = baq.packed_constant #layout payload(dense<119> : tensor<1xi32>)
      scales(dense<1.0> : tensor<2x1xf16>) zeros(dense_resource<z> : tensor<2x1xf16>)
  return
}
{-#
  dialect_resources: { builtin: { z: "0x0400000000B8007E" } }
#-}

// -----

#layout = #baq.layout<outputs = 2, inputs = 4, channel_dim = 1,
  bits = [2, 2, 2, 2], perm = [0, 1, 2, 3], segments = [2, 0, 4, 0],
  group_size = 2, scale_type = bf16, zero_type = f32,
  payload_bytes = 4, scale_bytes = 8, zero_bytes = 16>
func.func @inf_scale_bf16() {
  // expected-error@+1 {{'baq.packed_constant' op scales[0, 1] is not finite: scales must be finite and non-negative}}
  %p, %s, %z = baq.packed_constant #layout payload(dense<119> : tensor<1xi32>)
      scales(dense_resource<s> : tensor<2x2xbf16>) zeros(dense<-0.5> : tensor<2x2xf32>)
  return
}
{-#
  dialect_resources: { builtin: { s: "0x04000000803F807F803F803F" } }
#-}

// -----

#layout = #baq.layout<outputs = 2, inputs = 2, channel_dim = 0,
  bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0],
  group_size = 0, scale_type = f32, zero_type = f32,
  payload_bytes = 4, scale_bytes = 8, zero_bytes = 8>
func.func @nan_splat_scale() {
  // expected-error@+1 {{'baq.packed_constant' op scales[0, 0] is not finite: scales must be finite and non-negative}}
  %p, %s, %z = baq.packed_constant #layout payload(dense<119> : tensor<1xi32>)
      scales(dense<0x7FC00000> : tensor<2x1xf32>) zeros(dense<-0.5> : tensor<2x1xf32>)
  return
}

// -----

// The kernels read the bitwidths from the weight's layout; the annotation on
// the matmul cannot say otherwise.
#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>
func.func @bits_vs_layout(%a: tensor<1x6xf32>, %c: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  // expected-error@+1 {{'baq.bits' #baq.bits<[2, 3, 0, 2, 8, 2]> disagrees with the bits of its weight's layout #baq.bits<[2, 3, 0, 2, 8, 1]>}}
  %y = linalg.matmul {baq.bits = #baq.bits<[2, 3, 0, 2, 8, 2]>} ins(%a, %w : tensor<1x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
