// RUN: baq-opt %s | FileCheck %s
// RUN: baq-opt %s | baq-opt | FileCheck %s
// RUN: baq-opt %s --mlir-print-op-generic | baq-opt | FileCheck %s

// Bits [2, 3, 0, 2, 8, 1]: canonical order 4, 1, 0, 3, 5, 2; four segments at
// bits 0, 8, 11 and 15 of a 16-bit row stream (two rows per tail word); one
// (scale, zero) group per row.
#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// CHECK-LABEL: func.func @packed_dense
// CHECK: %[[P:.*]], %[[S:.*]], %[[Z:.*]] = baq.packed_constant #baq.layout<outputs = 4, inputs = 6, channel_dim = 0, bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2], segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 8, scale_bytes = 8, zero_bytes = 8> payload(dense<7> : tensor<2xi32>) scales(dense<1.000000e+00> : tensor<4x1xf16>) zeros(dense<-5.000000e-01> : tensor<4x1xf16>)
// CHECK: %[[W:.*]] = baq.dequantize %[[P]], %[[S]], %[[Z]] layout(#baq.layout<{{.*}}>) : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
// CHECK: linalg.matmul {baq.bits = #baq.bits<[2, 3, 0, 2, 8, 1]>} ins(%{{.*}}, %[[W]] : tensor<2x6xf32>, tensor<6x4xf32>)
func.func @packed_dense(%a: tensor<2x6xf32>, %c: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<7> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %r = linalg.matmul {baq.bits = #baq.bits<[2, 3, 0, 2, 8, 1]>}
      ins(%a, %w : tensor<2x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// 8-bit scale and zero codes (i8, read as unsigned; FORMAT.md §4): one byte
// each per (row, group).
#layout_codes = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = i8, zero_type = i8,
  payload_bytes = 8, scale_bytes = 4, zero_bytes = 4>

// CHECK-LABEL: func.func @packed_codes
// CHECK: baq.packed_constant #baq.layout<{{.*}}group_size = 0, scale_type = i8, zero_type = i8, payload_bytes = 8, scale_bytes = 4, zero_bytes = 4> payload(dense<7> : tensor<2xi32>) scales(dense<-56> : tensor<4x1xi8>) zeros(dense<64> : tensor<4x1xi8>)
// CHECK: baq.dequantize {{.*}} : tensor<2xi32>, tensor<4x1xi8>, tensor<4x1xi8> -> tensor<6x4xf32>
func.func @packed_codes() -> tensor<6x4xf32> {
  %p, %s, %z = baq.packed_constant #layout_codes
      payload(dense<7> : tensor<2xi32>)
      scales(dense<200> : tensor<4x1xi8>)
      zeros(dense<64> : tensor<4x1xi8>)
  %w = baq.dequantize %p, %s, %z layout(#layout_codes)
      : tensor<2xi32>, tensor<4x1xi8>, tensor<4x1xi8> -> tensor<6x4xf32>
  return %w : tensor<6x4xf32>
}

// Transposed weight ([M, N], channel_dim = 1), grouped bf16/f32 grid, blobs.
#layout_t = #baq.layout<outputs = 2, inputs = 3, channel_dim = 1,
  bits = [4, 4, 4], perm = [0, 1, 2], segments = [4, 0, 3, 0],
  group_size = 2, scale_type = bf16, zero_type = f32,
  payload_bytes = 4, scale_bytes = 8, zero_bytes = 16>

// CHECK-LABEL: func.func @packed_resource
// CHECK: baq.packed_constant #baq.layout<outputs = 2, inputs = 3, channel_dim = 1, {{.*}}group_size = 2, scale_type = bf16, zero_type = f32{{.*}}> payload(dense_resource<w_payload> : tensor<1xi32>) scales(dense_resource<w_scales> : tensor<2x2xbf16>) zeros(dense_resource<w_zeros> : tensor<2x2xf32>)
// CHECK: baq.dequantize {{.*}} -> tensor<2x3xf16>
func.func @packed_resource() -> tensor<2x3xf16> {
  %p, %s, %z = baq.packed_constant #layout_t
      payload(dense_resource<w_payload> : tensor<1xi32>)
      scales(dense_resource<w_scales> : tensor<2x2xbf16>)
      zeros(dense_resource<w_zeros> : tensor<2x2xf32>)
  %w = baq.dequantize %p, %s, %z layout(#layout_t)
      : tensor<1xi32>, tensor<2x2xbf16>, tensor<2x2xf32> -> tensor<2x3xf16>
  return %w : tensor<2x3xf16>
}

// The fused form: activations [R, K = inputs], init and result [R, M =
// outputs], whatever the layout's channel_dim.
// CHECK-LABEL: func.func @packed_matmul
// CHECK: %[[P:.*]], %[[S:.*]], %[[Z:.*]] = baq.packed_constant
// CHECK: %[[R:.*]] = baq.packed_matmul ins(%{{.*}}, %[[P]], %[[S]], %[[Z]] : tensor<2x6xf32>, tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16>) outs(%{{.*}} : tensor<2x4xf32>) layout(#baq.layout<outputs = 4, inputs = 6, channel_dim = 0, {{.*}}>) -> tensor<2x4xf32>
// CHECK: return %[[R]]
func.func @packed_matmul(%a: tensor<2x6xf32>, %c: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<7> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<2x6xf32>, tensor<2xi32>,
      tensor<4x1xf16>, tensor<4x1xf16>) outs(%c : tensor<2x4xf32>)
      layout(#layout) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// Packed parts as arguments, dynamic rows, bf16 activations, f16 init, and a
// transposed stored weight (channel_dim = 1): a is still [R, inputs].
// CHECK-LABEL: func.func @packed_matmul_dynamic
// CHECK: baq.packed_matmul ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x3xbf16>, tensor<1xi32>, tensor<2x2xbf16>, tensor<2x2xf32>) outs(%{{.*}} : tensor<?x2xf16>) layout(#baq.layout<outputs = 2, inputs = 3, channel_dim = 1, {{.*}}>) -> tensor<?x2xf16>
func.func @packed_matmul_dynamic(%a: tensor<?x3xbf16>, %p: tensor<1xi32>,
    %s: tensor<2x2xbf16>, %z: tensor<2x2xf32>, %c: tensor<?x2xf16>) -> tensor<?x2xf16> {
  %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<?x3xbf16>, tensor<1xi32>,
      tensor<2x2xbf16>, tensor<2x2xf32>) outs(%c : tensor<?x2xf16>)
      layout(#layout_t) -> tensor<?x2xf16>
  return %r : tensor<?x2xf16>
}

// CHECK-LABEL: func.func @target_bits_attr
// CHECK: linalg.matmul {baq.target_bits = 2.470000e+00 : f64}
func.func @target_bits_attr(%a: tensor<1x3xf32>, %b: tensor<3x5xf32>, %c: tensor<1x5xf32>) -> tensor<1x5xf32> {
  %r = linalg.matmul {baq.target_bits = 2.47 : f64}
      ins(%a, %b : tensor<1x3xf32>, tensor<3x5xf32>)
      outs(%c : tensor<1x5xf32>) -> tensor<1x5xf32>
  return %r : tensor<1x5xf32>
}

// CHECK-LABEL: func.func @hessian_attr
// CHECK: linalg.matmul {baq.hessian = dense_resource<h> : tensor<3x3xf32>}
func.func @hessian_attr(%a: tensor<1x3xf32>, %b: tensor<3x5xf32>, %c: tensor<1x5xf32>) -> tensor<1x5xf32> {
  %r = linalg.matmul {baq.hessian = dense_resource<h> : tensor<3x3xf32>}
      ins(%a, %b : tensor<1x3xf32>, tensor<3x5xf32>)
      outs(%c : tensor<1x5xf32>) -> tensor<1x5xf32>
  return %r : tensor<1x5xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w_payload: "0x0400000010325476",
      w_scales: "0x040000000040004000400040",
      w_zeros: "0x0400000000000000000000000000000000000000",
      h: "0x040000000000803F000000000000000000000000000080400000000000000000000000000000803F"
    }
  }
#-}
