// Kernels lowered from baq.packed_matmul itself: the hand-checked case of
// fixed.mlir written as the fused op (with bf16 activations and an f16 init,
// exact in both), executed with the decode and the tiled kernel; and
// gen_case modules fused by --baq-fuse-packed-matmul (the op checked in the
// IR), then lowered (by the kernels, or by --baq-expand and stock mlir-opt)
// and compared with their float64 reference.

// RUN: baq-opt %s --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %s --baq-lower-cpu="decode-max-rows=0" | %run_main | FileCheck %s
// RUN: baq-opt %s --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --orientation nk | baq-opt --baq-fuse-packed-matmul | FileCheck %s --check-prefix=FUSED
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --orientation kn | baq-opt --baq-fuse-packed-matmul | FileCheck %s --check-prefix=FUSED
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --orientation kn | baq-opt --baq-fuse-packed-matmul | baq-opt --baq-lower-cpu | %run_main | FileCheck %s --check-prefix=REF
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --dtype f16 --group-size 64 | baq-opt --baq-fuse-packed-matmul | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s --check-prefix=REF
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 20 --seed 5 | baq-opt --baq-fuse-packed-matmul | baq-opt --baq-lower-cpu | %run_main | FileCheck %s --check-prefix=REF

// --baq-expand turns the fused op back into dequantize + linalg.matmul, which
// stock mlir-opt lowers: same reference, both orientations.
// DEFINE: %{lower_upstream} = mlir-opt --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// DEFINE:   --convert-linalg-to-loops --convert-scf-to-cf --expand-strided-metadata --finalize-memref-to-llvm \
// DEFINE:   --convert-math-to-llvm --convert-vector-to-llvm --convert-arith-to-llvm --convert-func-to-llvm --convert-cf-to-llvm --reconcile-unrealized-casts
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --orientation nk | baq-opt --baq-fuse-packed-matmul | baq-opt --baq-expand | %{lower_upstream} | %run_main | FileCheck %s --check-prefix=REF
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --orientation kn --group-size 64 | baq-opt --baq-fuse-packed-matmul | baq-opt --baq-expand | %{lower_upstream} | %run_main | FileCheck %s --check-prefix=REF

// FUSED-LABEL: func.func @kernel
// FUSED-NOT:     baq.dequantize
// FUSED:         baq.packed_matmul ins(%{{.*}} : tensor<3x300xf32>, tensor<{{[0-9]+}}xi32>, tensor<45x1xf16>, tensor<45x1xf16>) outs(%{{.*}} : tensor<3x45xf32>) layout(#baq.layout<outputs = 45, inputs = 300, {{.*}}>) -> tensor<3x45xf32>
// FUSED-NOT:     linalg.matmul
// REF: relative error:
// REF-NEXT: PASS

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

func.func private @printMemrefF16(tensor<*xf16>) attributes {llvm.emit_c_interface}

// Weights (fixed.mlir) w = [1/3, 4/7, 0, -1/3, -120/255, 1] for every output;
// y = C + A W^T:
//   row 0: 1/3 + 8/7 - 4/3 - 600/255 + 6 = 3.789916 (f16: 3.789063)
//   row 1: C (= 1) - 1/3 + 1 = 1.666667 (f16: 1.666992)
func.func @kernel(%a: tensor<2x6xbf16>, %c: tensor<2x4xf16>) -> tensor<2x4xf16> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %y = baq.packed_matmul ins(%a, %p, %s, %z : tensor<2x6xbf16>, tensor<2xi32>,
      tensor<4x1xf16>, tensor<4x1xf16>) outs(%c : tensor<2x4xf16>)
      layout(#layout) -> tensor<2x4xf16>
  return %y : tensor<2x4xf16>
}

func.func @main() {
  %a = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                             [-1.0, 0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<2x6xbf16>
  %c = arith.constant dense<[[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<2x4xf16>
  %y = call @kernel(%a, %c) : (tensor<2x6xbf16>, tensor<2x4xf16>) -> tensor<2x4xf16>
  %uy = tensor.cast %y : tensor<2x4xf16> to tensor<*xf16>
  call @printMemrefF16(%uy) : (tensor<*xf16>) -> ()
  return
}

// CHECK: rank = 2 offset = 0 sizes = [2, 4]
// CHECK-NEXT: [3.78906,   3.78906,   3.78906,   3.78906],
// CHECK-NEXT: [1.66699,   1.66699,   1.66699,   1.66699]
