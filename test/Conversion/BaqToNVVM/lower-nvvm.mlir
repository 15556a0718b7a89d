// RUN: baq-opt %s --baq-lower-nvvm="chip=sm_90" | FileCheck %s
// RUN: baq-opt %s --baq-lower-nvvm="chip=sm_80 features=+ptx80" | FileCheck %s --check-prefix=SM80
// RUN: baq-opt %s --baq-lower-nvvm | FileCheck %s --check-prefix=NOBAQ
// RUN: baq-opt %s --baq-build-kernels=target=gpu | FileCheck %s --check-prefix=NEST

// A decode-sized matmul (2 rows, nn.Linear weight) and a prefill-sized one
// (20 rows, plain [N, M] weight) on the same packed weight: bits
// [3, 3, 0, 8, 1, 2, 2, 5, 3, 7], six segments, one 0-bit channel.

#nk = #baq.layout<outputs = 6, inputs = 10, channel_dim = 1,
  bits = [3, 3, 0, 8, 1, 2, 2, 5, 3, 7], perm = [3, 9, 7, 0, 1, 8, 5, 6, 4, 2],
  segments = [8, 0, 1, 0, 7, 1, 1, 8, 5, 2, 1, 15, 3, 3, 3, 20, 2, 6, 2, 29, 1, 8, 1, 33],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 28, scale_bytes = 12, zero_bytes = 12>
#kn = #baq.layout<outputs = 6, inputs = 10, channel_dim = 0,
  bits = [3, 3, 0, 8, 1, 2, 2, 5, 3, 7], perm = [3, 9, 7, 0, 1, 8, 5, 6, 4, 2],
  segments = [8, 0, 1, 0, 7, 1, 1, 8, 5, 2, 1, 15, 3, 3, 3, 20, 2, 6, 2, 29, 1, 8, 1, 33],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 28, scale_bytes = 12, zero_bytes = 12>

func.func @layer(%x: tensor<2x10xf32>, %c: tensor<2x6xf32>,
                 %xl: tensor<20x10xf16>, %cl: tensor<20x6xf16>)
    -> (tensor<2x6xf32>, tensor<20x6xf16>) {
  %p, %s, %z = baq.packed_constant #nk
      payload(dense_resource<w_payload> : tensor<7xi32>)
      scales(dense<1.0> : tensor<6x1xf16>) zeros(dense<-0.5> : tensor<6x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#nk)
      : tensor<7xi32>, tensor<6x1xf16>, tensor<6x1xf16> -> tensor<6x10xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>,
                                      affine_map<(d0, d1, d2) -> (d1, d2)>,
                                      affine_map<(d0, d1, d2) -> (d0, d1)>]
      {baq.bits = #baq.bits<[3, 3, 0, 8, 1, 2, 2, 5, 3, 7]>}
      ins(%x, %w : tensor<2x10xf32>, tensor<6x10xf32>)
      outs(%c : tensor<2x6xf32>) -> tensor<2x6xf32>
  %p2, %s2, %z2 = baq.packed_constant #kn
      payload(dense_resource<w_payload> : tensor<7xi32>)
      scales(dense<1.0> : tensor<6x1xf16>) zeros(dense<-0.5> : tensor<6x1xf16>)
  %w2 = baq.dequantize %p2, %s2, %z2 layout(#kn)
      : tensor<7xi32>, tensor<6x1xf16>, tensor<6x1xf16> -> tensor<10x6xf16>
  %y2 = linalg.matmul {baq.bits = #baq.bits<[3, 3, 0, 8, 1, 2, 2, 5, 3, 7]>}
      ins(%xl, %w2 : tensor<20x10xf16>, tensor<10x6xf16>)
      outs(%cl : tensor<20x6xf16>) -> tensor<20x6xf16>
  return %y, %y2 : tensor<2x6xf32>, tensor<20x6xf16>
}

// Host: one launch per nest, kernels named after their kind.
// CHECK: module attributes {gpu.container_module}
// CHECK: llvm.func @layer(
// CHECK: gpu.launch_func @layer_baq_gather::@baq_gather
// CHECK: gpu.launch_func @layer_baq_activation_sums::@baq_activation_sums
// CHECK: gpu.launch_func @layer_baq_decode::@baq_decode
// CHECK: gpu.launch_func @layer_baq_finalize::@baq_finalize
// CHECK: gpu.launch_func @layer_baq_gather{{.*}}::@baq_gather
// CHECK: gpu.launch_func @layer_baq_dequantize{{.*}}::@baq_dequantize
// CHECK: gpu.launch_func @layer_baq_tiled_matmul::@baq_tiled_matmul
// Temporaries live in managed memory.
// CHECK: llvm.call @mgpuMemAlloc
// Device: kernels read the packed words from a global of their own module.
// CHECK: gpu.module @layer_baq_decode [#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">]
// CHECK: llvm.func @baq_decode({{.*}}) attributes {gpu.kernel, {{.*}}nvvm.kernel
// CHECK: llvm.mlir.addressof @__constant_7xi32
// CHECK: nvvm.read.ptx.sreg.tid.x
// Codes are unpacked in place and turned into floats with the 2^23 trick.
// CHECK: llvm.and
// CHECK: llvm.or {{.*}} : vector<2xi32>
// CHECK: llvm.fsub
// CHECK: llvm.intr.fma
// CHECK: llvm.mlir.global private constant @__constant_7xi32(dense_resource<w_payload> : tensor<7xi32>)

// SM80: gpu.module @layer_baq_decode [#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">]

// NOBAQ-NOT: baq.
// NOBAQ-NOT: linalg.matmul

// The shared kernel IR: block/thread nests on tensors.
// NEST-LABEL: func.func @layer
// NEST: scf.forall ({{.*}}) in (1, 1) shared_outs({{.*}}) -> (tensor<1x2x6xf32>)
// NEST: scf.forall ({{.*}}) in (3) shared_outs({{.*}}) -> (tensor<1x2x6xf32>)
// NEST: vector.transfer_read %{{.*}} : tensor<7xi32>, vector<2xi32>
// NEST: } {mapping = [#gpu.thread<x>]}
// NEST: } {baq_kernel = "baq_decode", mapping = [#gpu.block<y>, #gpu.block<x>]}
// NEST-NOT: linalg.matmul
// NEST: baq_kernel = "baq_tiled_matmul"

{-#
  dialect_resources: {
    builtin: {
      w_payload: "0x040000009200000068000000210000000B000000000000000C0000002F000000"
    }
  }
#-}
