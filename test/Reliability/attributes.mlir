// Malformed #baq.bits and #baq.layout text: parse and verifier errors, each
// at the offending token. Complements test/Dialect/Baq/invalid.mlir (which
// covers the verifier's semantic checks on well-formed text).
// RUN: baq-opt %s -split-input-file -verify-diagnostics

// expected-error@+2 {{integer 300 does not fit in 8 bits}}
// expected-error@+1 {{failed to parse Baq_BitsAttr parameter 'bits' which is to be a `::llvm::ArrayRef<int8_t>`}}
func.func @bits_not_i8() attributes {test = #baq.bits<[300]>} { return }

// -----

// expected-error@+1 {{bitwidth -1 of input channel 0 is outside [0, 8]}}
func.func @bits_negative() attributes {test = #baq.bits<[-1]>} { return }

// -----

// expected-error@+2 {{expected '['}}
// expected-error@+1 {{failed to parse Baq_BitsAttr parameter 'bits'}}
func.func @bits_scalar() attributes {test = #baq.bits<2>} { return }

// -----

// expected-error@+1 {{expected '<'}}
func.func @bits_no_params() attributes {test = #baq.bits} { return }

// -----

// expected-error@+2 {{expected integer value}}
// expected-error@+1 {{failed to parse Baq_BitsAttr parameter 'bits'}}
func.func @bits_float() attributes {test = #baq.bits<[2.5]>} { return }

// -----

// expected-error@+1 {{unknown attribute `nope` in dialect `baq`}}
func.func @unknown_mnemonic() attributes {test = #baq.nope<1>} { return }

// -----

// The struct is positional: a missing group_size is found where it belongs.
// expected-error@+1 {{expected ','}}
func.func @layout_missing_field() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{duplicate or unknown struct parameter name: outputz}}
func.func @layout_wrong_keyword() attributes {test = #baq.layout<outputz = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{duplicate or unknown struct parameter name: outputs}}
func.func @layout_duplicate_keyword() attributes {test = #baq.layout<outputs = 1, outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+2 {{expected valid keyword}}
// expected-error@+1 {{expected a parameter name in struct}}
func.func @layout_empty() attributes {test = #baq.layout<>} { return }

// -----

// expected-error@+1 {{expected positive outputs and inputs, got -3 and 1}}
func.func @layout_negative_outputs() attributes {test = #baq.layout<outputs = -3, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{expected positive outputs and inputs, got 1 and -1}}
func.func @layout_negative_inputs() attributes {test = #baq.layout<outputs = 1, inputs = -1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+2 {{integer 258 does not fit in 8 bits}}
// expected-error@+1 {{failed to parse Baq_PackedLayoutAttr parameter 'bits'}}
func.func @layout_bits_not_i8() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [258], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+2 {{integer 4294967296 does not fit in 32 bits}}
// expected-error@+1 {{failed to parse Baq_PackedLayoutAttr parameter 'perm' which is to be a `::llvm::ArrayRef<int32_t>`}}
func.func @layout_perm_not_i32() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [4294967296], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{perm is not a permutation of [0, 2): entry -1 is out of range or repeated}}
func.func @layout_perm_negative() attributes {test = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 2], perm = [-1, 0], segments = [2, 0, 2, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+2 {{expected non-function type}}
// expected-error@+1 {{failed to parse Baq_PackedLayoutAttr parameter 'scale_type' which is to be a `::mlir::Type`}}
func.func @layout_scale_type_not_type() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = 3, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{segments do not match the bitwidths}}
func.func @layout_segments_negative() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, -5, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// expected-error@+1 {{payload_bytes is -4, expected 4}}
func.func @layout_payload_negative() attributes {test = #baq.layout<outputs = 1, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = -4, scale_bytes = 2, zero_bytes = 2>} { return }

// -----

// A layout in an op: the dequantize's result type must match it.
#l = #baq.layout<outputs = 2, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 4, zero_bytes = 4>
func.func @dequantize_wrong_channel_dim(%p: tensor<1xi32>, %s: tensor<2x1xf16>, %z: tensor<2x1xf16>) -> tensor<2x1xf32> {
  // expected-error@+1 {{'baq.dequantize' op result shape must be [1, 2] for channel_dim = 0}}
  %w = baq.dequantize %p, %s, %z layout(#l) : tensor<1xi32>, tensor<2x1xf16>, tensor<2x1xf16> -> tensor<2x1xf32>
  return %w : tensor<2x1xf32>
}
