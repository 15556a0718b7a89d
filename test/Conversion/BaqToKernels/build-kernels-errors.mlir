// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-build-kernels="unroll=8"
//
// Every diagnostic of baq-build-kernels (lib/Conversion/BaqToKernels) and the
// test that covers it:
// - option bounds ("<option> must be in [0, max]", on the anchor op):
//   test/Reliability/lowering-options.mlir;
// - placement ("cannot lower a baq op inside 'gpu.func' / 'llvm.func' / in a
//   nested module"): test/Reliability/placement.mlir; "outside a function":
//   here;
// - decode unroll bound: here;
// - the fusion's reasons for not fusing a matmul (a remark: the weight is
//   dequantized instead): here, one case per reason of fusePackedMatmul
//   (f16/bf16/f32 only: test/Conversion/BaqToKernels/fuse-packed-matmul.mlir);
// - a baq.packed_matmul no pattern lowers (an error with the reason): here,
//   one case per reason of matchPackedMatmul;
// - a baq.dequantize no pattern lowers (an error with the reason): here.
// The patterns' routing reasons ("at most / more than decode-max-rows") always
// come with the other pattern applying, and buildDecodeMatmul's own unroll
// bound is checked by the pass first, so neither reaches a user.

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// expected-error @below {{cannot lower a baq op outside a function}}
%p, %s, %z = baq.packed_constant #layout
    payload(dense<-1090011385> : tensor<2xi32>)
    scales(dense<1.0> : tensor<4x1xf16>)
    zeros(dense<-0.5> : tensor<4x1xf16>)

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// 4 rows x unroll=8 chunk bodies: over the bound, an error at the matmul.
func.func @unroll(%a: tensor<4x6xf32>, %c: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  // expected-error @below {{decode kernel for 4 activation rows with unroll=8 would unroll 32 row-chunks per loop body (at most 16); lower unroll or decode-max-rows}}
  %y = linalg.matmul ins(%a, %w : tensor<4x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %y : tensor<4x4xf32>
}

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// Dynamic activation rows: no kernel, the weight is dequantized.
func.func @dynamic(%a: tensor<?x6xf32>, %c: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  // expected-remark @below {{quantized matmul not fused (needs static tensor shapes); its weight is dequantized instead}}
  %y = linalg.matmul ins(%a, %w : tensor<?x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// Integer activations.
func.func @integer(%a: tensor<1x6xi32>, %c: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  // expected-remark @below {{quantized matmul not fused (needs float operands); its weight is dequantized instead}}
  %y = linalg.matmul ins(%a, %w : tensor<1x6xi32>, tensor<6x4xf32>)
      outs(%c : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// The [6, 4] weight read as a transposed B ([outputs, inputs] = [6, 4]): the
// matmul reduces over its dimension 1, the layout's channels are dimension 0.
func.func @orientation(%a: tensor<1x4xf32>, %c: tensor<1x6xf32>) -> tensor<1x6xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  // expected-remark @below {{quantized matmul not fused (matmul maps do not match the layout's channel_dim); its weight is dequantized instead}}
  %y = linalg.matmul
      indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>,
                       affine_map<(d0, d1, d2) -> (d1, d2)>,
                       affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %w : tensor<1x4xf32>, tensor<6x4xf32>)
      outs(%c : tensor<1x6xf32>) -> tensor<1x6xf32>
  return %y : tensor<1x6xf32>
}

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// Packed parts passed in as arguments: neither the matmul nor the
// dequantize can be lowered (the kernels embed the packed constants).
func.func @arguments(%p: tensor<2xi32>, %s: tensor<4x1xf16>, %z: tensor<4x1xf16>,
                     %a: tensor<1x6xf32>, %c: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @below {{cannot lower baq.dequantize: its operands must be the results of one baq.packed_constant or baq.packed_parameter with the same layout}}
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  // expected-remark @below {{quantized matmul not fused (weight is not a baq.dequantize of one baq.packed_constant or baq.packed_parameter with the same layout); its weight is dequantized instead}}
  %y = linalg.matmul ins(%a, %w : tensor<1x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// A hand-written baq.packed_matmul on arguments: no kernel reads them.
func.func @packed_matmul_arguments(%p: tensor<2xi32>, %s: tensor<4x1xf16>,
    %z: tensor<4x1xf16>, %a: tensor<1x6xf32>, %c: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @below {{cannot lower baq.packed_matmul: packed operands are not the results of one baq.packed_constant or baq.packed_parameter with the same layout}}
  %y = baq.packed_matmul ins(%a, %p, %s, %z : tensor<1x6xf32>, tensor<2xi32>,
      tensor<4x1xf16>, tensor<4x1xf16>) outs(%c : tensor<1x4xf32>)
      layout(#layout) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// Dynamic activation rows on a hand-written baq.packed_matmul.
func.func @packed_matmul_dynamic(%a: tensor<?x6xf32>, %c: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  // expected-error @below {{cannot lower baq.packed_matmul: needs static tensor shapes}}
  %y = baq.packed_matmul ins(%a, %p, %s, %z : tensor<?x6xf32>, tensor<2xi32>,
      tensor<4x1xf16>, tensor<4x1xf16>) outs(%c : tensor<?x4xf32>)
      layout(#layout) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
