// --baq-externalize-params moves every packed weight into one safetensors
// parameter file (docs/FORMAT.md "Parameter file") and leaves
// baq.packed_parameter ops that name it by key; --baq-inline-params reads it
// back. The round trip gives the input module back, byte for byte.
//
// RUN: baq-opt %s --baq-externalize-params="file=%t.safetensors" | FileCheck %s
// RUN: %python %S/Inputs/read_params.py %t.safetensors | FileCheck %s --check-prefix=FILE
// RUN: baq-opt %s --baq-externalize-params="file=%t.safetensors" -o %t.ext.mlir
// RUN: baq-opt %t.ext.mlir --baq-inline-params="file=%t.safetensors" -o %t.rt.mlir
// RUN: baq-opt %s -o %t.orig.mlir
// RUN: diff %t.orig.mlir %t.rt.mlir
// Inlining needs no file when there is nothing to inline.
// RUN: baq-opt %s --baq-inline-params="file=%t.missing" | FileCheck %s --check-prefix=NOOP
// min-bytes keeps the 18-byte weight embedded and moves the 24-byte one.
// RUN: baq-opt %s --baq-externalize-params="file=%t.min.safetensors min-bytes=21" | FileCheck %s --check-prefix=MIN
// RUN: %python %S/Inputs/read_params.py %t.min.safetensors | FileCheck %s --check-prefix=MINFILE

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>
#small = #baq.layout<outputs = 2, inputs = 4, channel_dim = 1,
  bits = [8, 8, 8, 8], perm = [0, 1, 2, 3], segments = [8, 0, 4, 0],
  group_size = 0, scale_type = f32, zero_type = i8,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 2>

// The weight read twice (as --baq-allocate writes a weight that @forward and
// @prefill share) has one key; the key is the blobs' common name.
// CHECK-LABEL: func.func @a
// CHECK:         %[[P:.*]], %[[S:.*]], %[[Z:.*]] = baq.packed_parameter #baq.layout<outputs = 4, {{.*}}> key("blk0.wq")
// CHECK:         baq.dequantize %[[P]], %[[S]], %[[Z]]
// CHECK:         baq.packed_parameter #baq.layout<outputs = 2, {{.*}}> key("blk0.w2")
// CHECK-LABEL: func.func @b
// CHECK:         baq.packed_parameter #baq.layout<outputs = 4, {{.*}}> key("blk0.wq")
// CHECK-NOT:     dense_resource
// CHECK-NOT:     dialect_resources

// FILE: data starts at {{[0-9]+}}, aligned True
// FILE: tensor blk0.wq.payload I32 [2] bytes 8 aligned True data 0102030405060708
// FILE: tensor blk0.wq.scales F16 [4, 1] bytes 8 aligned True data 003c003c003c003c
// FILE: tensor blk0.wq.zeros F16 [4, 1] bytes 8 aligned True data 00b800b800b800b8
// FILE: tensor blk0.w2.payload I32 [2] bytes 8 aligned True data 1032547698badcfe
// FILE: tensor blk0.w2.scales F32 [2, 1] bytes 8 aligned True data 0000803f00000040
// FILE: tensor blk0.w2.zeros U8 [2, 1] bytes 2 aligned True data 0710
// FILE-DAG: meta baq.format = 1
// FILE-DAG: layout blk0.wq outputs 4 inputs 6 channel_dim 0 bits [2, 3, 0, 2, 8, 1] group_size 0 scale_type f16 zero_type f16 payload=I32[2] scales=F16[4, 1] zeros=F16[4, 1]
// FILE-DAG: layout blk0.w2 outputs 2 inputs 4 channel_dim 1 bits [8, 8, 8, 8] group_size 0 scale_type f32 zero_type i8 payload=I32[2] scales=F32[2, 1] zeros=U8[2, 1]

// NOOP-LABEL: func.func @a
// NOOP: baq.packed_constant

// MIN-LABEL: func.func @a
// MIN: baq.packed_parameter #baq.layout<outputs = 4, {{.*}}> key("blk0.wq")
// MIN: baq.packed_constant #baq.layout<outputs = 2, {{.*}}> payload(dense_resource<blk0.w2_payload>
// MINFILE-NOT: tensor blk0.w2
// MINFILE: tensor blk0.wq.payload
// MINFILE-NOT: tensor blk0.w2
func.func @a(%a: tensor<2x6xf32>, %c: tensor<2x4xf32>, %x: tensor<1x4xf32>,
             %y: tensor<1x2xf32>) -> (tensor<2x4xf32>, tensor<1x2xf32>) {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense_resource<blk0.wq_payload> : tensor<2xi32>)
      scales(dense_resource<blk0.wq_scales> : tensor<4x1xf16>)
      zeros(dense_resource<blk0.wq_zeros> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %r = linalg.matmul ins(%a, %w : tensor<2x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  %p2, %s2, %z2 = baq.packed_constant #small
      payload(dense_resource<blk0.w2_payload> : tensor<2xi32>)
      scales(dense_resource<blk0.w2_scales> : tensor<2x1xf32>)
      zeros(dense_resource<blk0.w2_zeros> : tensor<2x1xi8>)
  %r2 = baq.packed_matmul ins(%x, %p2, %s2, %z2 : tensor<1x4xf32>,
      tensor<2xi32>, tensor<2x1xf32>, tensor<2x1xi8>)
      outs(%y : tensor<1x2xf32>) layout(#small) -> tensor<1x2xf32>
  return %r, %r2 : tensor<2x4xf32>, tensor<1x2xf32>
}

func.func @b(%a: tensor<2x6xf32>, %c: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense_resource<blk0.wq_payload> : tensor<2xi32>)
      scales(dense_resource<blk0.wq_scales> : tensor<4x1xf16>)
      zeros(dense_resource<blk0.wq_zeros> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %r = linalg.matmul ins(%a, %w : tensor<2x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      blk0.wq_payload: "0x040000000102030405060708",
      blk0.wq_scales: "0x04000000003C003C003C003C",
      blk0.wq_zeros: "0x0400000000B800B800B800B8",
      blk0.w2_payload: "0x040000001032547698BADCFE",
      blk0.w2_scales: "0x040000000000803F00000040",
      blk0.w2_zeros: "0x040000000710"
    }
  }
#-}
