// Byte counts of absurd layouts are computed in checked arithmetic: 2^62
// outputs overflow, and the layout is rejected instead of wrapping to 0 bytes
// (once a division by zero while parsing; docs/RELIABILITY.md, bug 1).
// RUN: not baq-opt %s 2>&1 | FileCheck %s
// CHECK: layout-overflow.mlir:[[@LINE+1]]:{{[0-9]+}}: error: packed sizes of a 4611686018427387904 x 1 weight overflow 64-bit byte counts
#l = #baq.layout<outputs = 4611686018427387904, inputs = 1, channel_dim = 0, bits = [2], perm = [0], segments = [2, 0, 1, 0], group_size = 0, scale_type = f32, zero_type = f32, payload_bytes = 0, scale_bytes = 0, zero_bytes = 0>
func.func @f() {
  %p, %s, %z = baq.packed_constant #l payload(dense<0> : tensor<1x1xi32>) scales(dense<1.0> : tensor<1x1xf32>) zeros(dense<0.0> : tensor<1x1xf32>)
  return
}
