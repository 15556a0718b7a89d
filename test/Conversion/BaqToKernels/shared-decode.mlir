// RUN: baq-opt %s --baq-build-kernels="kernels=shared" | FileCheck %s
// RUN: baq-opt %s --baq-build-kernels | FileCheck %s --check-prefix=SPEC
// RUN: baq-opt %s --baq-build-kernels="target=gpu kernels=shared" | FileCheck %s --check-prefix=SPEC
// RUN: baq-opt %s --baq-build-kernels="kernels=shared k-split=2" | FileCheck %s --check-prefix=SPEC
// RUN: not baq-opt %s --baq-lower-cpu="kernels=bogus" 2>&1 | FileCheck %s --check-prefix=BAD
//
// Shared decode kernels (kernels=shared): two matmuls with the same shape
// and different layouts call one kernel function, which reads the layout
// from tables passed by each call; the default (specialized), the GPU
// configuration (K split, unroll 2) or an explicit K split keep one kernel
// per matrix.

#a = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>
#b = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [1, 2, 2, 1, 0, 4], perm = [5, 1, 2, 0, 3, 4],
  segments = [4, 0, 1, 0, 2, 1, 2, 4, 1, 3, 2, 8],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

// CHECK-LABEL: func.func private @baq_decode_4x6_r2_g0_f32_f32_f16_f16_v16a4t64c(
// CHECK-SAME:      %{{.*}}: tensor<2x6xf32>, %{{.*}}: tensor<?xi32>, %{{.*}}: tensor<4xf16>, %{{.*}}: tensor<4xf16>, %{{.*}}: tensor<68xi32>, %{{.*}}: tensor<254xi32>, %{{.*}}: tensor<254xf32>, %{{.*}}: tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK:         } {baq_kernel = "baq_gather"
// CHECK:         } {baq_kernel = "baq_activation_sums"
// CHECK:         scf.index_switch
// CHECK:         case 8 {
// CHECK:         } {baq_kernel = "baq_decode", baq_work = 96 : i64
// CHECK-NOT:   func.func private
// CHECK-LABEL: func.func @two(
// CHECK-NOT:     baq.
// CHECK:         %[[T1:.*]] = arith.constant dense<[4, 0, 16, 128, 8, 0, 1, 0, 0, 0, 0, 0, 3, 8, 1, 32, 0, 0, 0, 0, 2, 11, 2, 64, 0, 0, 0, 0, 1, 15, 1, 96, 0,
// CHECK:         %[[Y1:.*]] = call @baq_decode_4x6_r2_g0_f32_f32_f16_f16_v16a4t64c(%arg0, %{{.*}}, %{{.*}}, %{{.*}}, %[[T1]], %{{.*}}, %{{.*}}, %arg1)
// CHECK:         %[[T2:.*]] = arith.constant dense<[3, 0, 10, 96, 4, 0, 1, 0, 0, 0, 0, 0, 2, 4, 2, 32, 0, 0, 0, 0, 1, 8, 2, 64, 0,
// CHECK:         %[[Y2:.*]] = call @baq_decode_4x6_r2_g0_f32_f32_f16_f16_v16a4t64c(%arg0, %{{.*}}, %{{.*}}, %{{.*}}, %[[T2]], %{{.*}}, %{{.*}}, %[[Y1]])
// CHECK-NOT:     baq_kernel
// CHECK:         return %[[Y2]]

// BAD: baq-lower-cpu: kernels must be default, specialized or shared, got 'bogus'

// SPEC-LABEL: func.func @two(
// SPEC-NOT:     call
// SPEC:         } {baq_kernel = "baq_decode"
// SPEC:         } {baq_kernel = "baq_decode"
// SPEC-NOT:     call
func.func @two(%x: tensor<2x6xf32>, %c: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %p, %s, %z = baq.packed_constant #a
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#a)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  %p2, %s2, %z2 = baq.packed_constant #b
      payload(dense<[12345, 678]> : tensor<2xi32>)
      scales(dense<2.0> : tensor<4x1xf16>)
      zeros(dense<-1.0> : tensor<4x1xf16>)
  %w2 = baq.dequantize %p2, %s2, %z2 layout(#b)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %y2 = linalg.matmul ins(%x, %w2 : tensor<2x6xf32>, tensor<6x4xf32>)
      outs(%y : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y2 : tensor<2x4xf32>
}
