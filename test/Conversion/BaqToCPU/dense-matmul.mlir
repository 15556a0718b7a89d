// baq-dense-matmul: an unquantized transposed-B f32 matmul on a constant
// global becomes a kernel nest over blocks of 16 output rows reading a
// K-interleaved copy of the weight, plus one-row items for the last M mod 16
// rows; the result is the scalar loops' (exact here: every product and sum
// is a small multiple of 1/4). W[i, k] = i + k / 4 (20 x 5), A[t, k] = t + 1,
// C = 1: y[t, i] = 1 + (t + 1) (5 i + 2.5). T = 1 (one activation row per
// item), T = 4 (four share each weight load) and T = 3 (three tiles of one).
// A weight that is not a constant global stays a linalg.matmul.

// RUN: baq-opt %s --baq-dense-matmul | FileCheck %s
// RUN: baq-opt %s --baq-lower-cpu | %run_main | FileCheck %s --check-prefix=EXEC
// RUN: baq-opt %s --baq-lower-cpu="parallel-min-work=0" | env OMP_NUM_THREADS=2 %run_main | FileCheck %s --check-prefix=EXEC

memref.global "private" constant @w : memref<20x5xf32> = dense<[[0.0, 0.25, 0.5, 0.75, 1.0], [1.0, 1.25, 1.5, 1.75, 2.0], [2.0, 2.25, 2.5, 2.75, 3.0], [3.0, 3.25, 3.5, 3.75, 4.0], [4.0, 4.25, 4.5, 4.75, 5.0], [5.0, 5.25, 5.5, 5.75, 6.0], [6.0, 6.25, 6.5, 6.75, 7.0], [7.0, 7.25, 7.5, 7.75, 8.0], [8.0, 8.25, 8.5, 8.75, 9.0], [9.0, 9.25, 9.5, 9.75, 10.0], [10.0, 10.25, 10.5, 10.75, 11.0], [11.0, 11.25, 11.5, 11.75, 12.0], [12.0, 12.25, 12.5, 12.75, 13.0], [13.0, 13.25, 13.5, 13.75, 14.0], [14.0, 14.25, 14.5, 14.75, 15.0], [15.0, 15.25, 15.5, 15.75, 16.0], [16.0, 16.25, 16.5, 16.75, 17.0], [17.0, 17.25, 17.5, 17.75, 18.0], [18.0, 18.25, 18.5, 18.75, 19.0], [19.0, 19.25, 19.5, 19.75, 20.0]]>

// A weight whose rows all move to the copy (M = 16) is no longer read: its
// global goes.
memref.global "private" constant @v : memref<16x5xf32> = dense<1.0>

// CHECK: memref.global "private" constant @w_rows16 : memref<1x5x16xf32> = dense_resource<w_rows16> {alignment = 64 : i64}
// CHECK-NOT: constant @v :
// CHECK: memref.global "private" constant @v_rows16 : memref<1x5x16xf32> = dense_resource<v_rows16>
func.func private @printMemrefF32(tensor<*xf32>)

// CHECK-LABEL: func.func @dense1
// CHECK: memref.get_global @w_rows16
// CHECK: scf.forall
// CHECK: vector.transfer_read
// CHECK: arith.mulf {{.*}} : vector<16xf32>
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK: baq_kernel = "baq_dense_matmul"
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @dense1(%a: tensor<1x5xf32>, %c: tensor<1x20xf32>) -> tensor<1x20xf32> {
  %m = memref.get_global @w : memref<20x5xf32>
  %w = bufferization.to_tensor %m restrict : memref<20x5xf32> to tensor<20x5xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %w : tensor<1x5xf32>, tensor<20x5xf32>) outs(%c : tensor<1x20xf32>) -> tensor<1x20xf32>
  return %y : tensor<1x20xf32>
}

// CHECK-LABEL: func.func @dense4
// CHECK: memref.get_global @w_rows16
// CHECK: scf.forall
// CHECK: vector.transfer_read
// CHECK: arith.mulf {{.*}} : vector<16xf32>
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK: baq_kernel = "baq_dense_matmul"
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @dense4(%a: tensor<4x5xf32>, %c: tensor<4x20xf32>) -> tensor<4x20xf32> {
  %m = memref.get_global @w : memref<20x5xf32>
  %w = bufferization.to_tensor %m restrict : memref<20x5xf32> to tensor<20x5xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %w : tensor<4x5xf32>, tensor<20x5xf32>) outs(%c : tensor<4x20xf32>) -> tensor<4x20xf32>
  return %y : tensor<4x20xf32>
}

// CHECK-LABEL: func.func @dense3
// CHECK: memref.get_global @w_rows16
// CHECK: scf.forall
// CHECK: vector.transfer_read
// CHECK: arith.mulf {{.*}} : vector<16xf32>
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK: baq_kernel = "baq_dense_matmul"
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @dense3(%a: tensor<3x5xf32>, %c: tensor<3x20xf32>) -> tensor<3x20xf32> {
  %m = memref.get_global @w : memref<20x5xf32>
  %w = bufferization.to_tensor %m restrict : memref<20x5xf32> to tensor<20x5xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %w : tensor<3x5xf32>, tensor<20x5xf32>) outs(%c : tensor<3x20xf32>) -> tensor<3x20xf32>
  return %y : tensor<3x20xf32>
}

// CHECK-LABEL: func.func @dense_v
// CHECK-NOT: get_global @v :
// CHECK: memref.get_global @v_rows16
// CHECK-NOT: get_global @v :
// CHECK: return
func.func @dense_v(%a: tensor<1x5xf32>, %c: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %m = memref.get_global @v : memref<16x5xf32>
  %w = bufferization.to_tensor %m restrict : memref<16x5xf32> to tensor<16x5xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %w : tensor<1x5xf32>, tensor<16x5xf32>) outs(%c : tensor<1x16xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// CHECK-LABEL: func.func @not_constant
// CHECK: linalg.matmul
func.func @not_constant(%a: tensor<1x5xf32>, %w: tensor<20x5xf32>, %c: tensor<1x20xf32>) -> tensor<1x20xf32> {
  %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %w : tensor<1x5xf32>, tensor<20x5xf32>) outs(%c : tensor<1x20xf32>) -> tensor<1x20xf32>
  return %y : tensor<1x20xf32>
}

func.func @main() {
  %a1 = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0]]> : tensor<1x5xf32>
  %c1 = arith.constant dense<1.0> : tensor<1x20xf32>
  %cv = arith.constant dense<1.0> : tensor<1x16xf32>
  %y1 = call @dense1(%a1, %c1) : (tensor<1x5xf32>, tensor<1x20xf32>) -> tensor<1x20xf32>
  %u1 = tensor.cast %y1 : tensor<1x20xf32> to tensor<*xf32>
  call @printMemrefF32(%u1) : (tensor<*xf32>) -> ()
  %a4 = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0, 3.0], [4.0, 4.0, 4.0, 4.0, 4.0]]> : tensor<4x5xf32>
  %c4 = arith.constant dense<1.0> : tensor<4x20xf32>
  %y4 = call @dense4(%a4, %c4) : (tensor<4x5xf32>, tensor<4x20xf32>) -> tensor<4x20xf32>
  %u4 = tensor.cast %y4 : tensor<4x20xf32> to tensor<*xf32>
  call @printMemrefF32(%u4) : (tensor<*xf32>) -> ()
  %a3 = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0, 3.0]]> : tensor<3x5xf32>
  %c3 = arith.constant dense<1.0> : tensor<3x20xf32>
  %y3 = call @dense3(%a3, %c3) : (tensor<3x5xf32>, tensor<3x20xf32>) -> tensor<3x20xf32>
  %u3 = tensor.cast %y3 : tensor<3x20xf32> to tensor<*xf32>
  call @printMemrefF32(%u3) : (tensor<*xf32>) -> ()
  %yv = call @dense_v(%a1, %cv) : (tensor<1x5xf32>, tensor<1x16xf32>) -> tensor<1x16xf32>
  %uv = tensor.cast %yv : tensor<1x16xf32> to tensor<*xf32>
  call @printMemrefF32(%uv) : (tensor<*xf32>) -> ()
  return
}

// EXEC: rank = 2 offset = 0 sizes = [1, 20]
// EXEC-NEXT: [3.5,   8.5,   13.5,   18.5,   23.5,   28.5,   33.5,   38.5,   43.5,   48.5,   53.5,   58.5,   63.5,   68.5,   73.5,   78.5,   83.5,   88.5,   93.5,   98.5]
// EXEC: rank = 2 offset = 0 sizes = [4, 20]
// EXEC-NEXT: [3.5,   8.5,   13.5,   18.5,   23.5,   28.5,   33.5,   38.5,   43.5,   48.5,   53.5,   58.5,   63.5,   68.5,   73.5,   78.5,   83.5,   88.5,   93.5,   98.5]
// EXEC-NEXT: [6,   16,   26,   36,   46,   56,   66,   76,   86,   96,   106,   116,   126,   136,   146,   156,   166,   176,   186,   196]
// EXEC-NEXT: [8.5,   23.5,   38.5,   53.5,   68.5,   83.5,   98.5,   113.5,   128.5,   143.5,   158.5,   173.5,   188.5,   203.5,   218.5,   233.5,   248.5,   263.5,   278.5,   293.5]
// EXEC-NEXT: [11,   31,   51,   71,   91,   111,   131,   151,   171,   191,   211,   231,   251,   271,   291,   311,   331,   351,   371,   391]
// EXEC: rank = 2 offset = 0 sizes = [3, 20]
// EXEC-NEXT: [3.5,   8.5,   13.5,   18.5,   23.5,   28.5,   33.5,   38.5,   43.5,   48.5,   53.5,   58.5,   63.5,   68.5,   73.5,   78.5,   83.5,   88.5,   93.5,   98.5]
// EXEC-NEXT: [6,   16,   26,   36,   46,   56,   66,   76,   86,   96,   106,   116,   126,   136,   146,   156,   166,   176,   186,   196]
// EXEC-NEXT: [8.5,   23.5,   38.5,   53.5,   68.5,   83.5,   98.5,   113.5,   128.5,   143.5,   158.5,   173.5,   188.5,   203.5,   218.5,   233.5,   248.5,   263.5,   278.5,   293.5]
// EXEC: rank = 2 offset = 0 sizes = [1, 16]
// EXEC-NEXT: [6,   6,   6,   6,   6,   6,   6,   6,   6,   6,   6,   6,   6,   6,   6,   6]
