// A 2^40-row layer (splat payload) needs 2^31 blocks in x, one past CUDA's
// limit: a located error instead of a wrapped (negative) known_grid_size. The
// CPU lowering has no such limit.
// RUN: not baq-opt %s --baq-lower-nvvm="chip=sm_90" 2>&1 | FileCheck %s
// RUN: baq-opt %s --baq-lower-cpu | FileCheck %s --check-prefix=CPU
// CHECK: huge-grid.mlir:[[# @LINE + 15]]:8: error: grid extent 2147483648 in dimension x is outside CUDA's limit [0, 2147483647]
// CHECK-NOT: known_grid_size
// CPU-LABEL: llvm.func @huge

#layout = #baq.layout<outputs = 1099511627776, inputs = 2, channel_dim = 1,
  bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 549755813888, scale_bytes = 2199023255552, zero_bytes = 2199023255552>
func.func @huge(%a: tensor<1x2xf32>, %c: tensor<1x1099511627776xf32>) -> tensor<1x1099511627776xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<7> : tensor<137438953472xi32>)
      scales(dense<1.0> : tensor<1099511627776x1xf16>)
      zeros(dense<-0.5> : tensor<1099511627776x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<137438953472xi32>, tensor<1099511627776x1xf16>, tensor<1099511627776x1xf16> -> tensor<1099511627776x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %w : tensor<1x2xf32>, tensor<1099511627776x2xf32>)
      outs(%c : tensor<1x1099511627776xf32>) -> tensor<1x1099511627776xf32>
  return %y : tensor<1x1099511627776xf32>
}
