// baq-kernels-to-parallel: a block/thread nest becomes one scf.parallel over
// (grid..., thread) with the thread bound as a predicate; nests below
// min-work stay scf.forall.
// RUN: baq-opt %s --baq-kernels-to-parallel="min-work=0" | FileCheck %s
// RUN: baq-opt %s --baq-kernels-to-parallel | FileCheck %s --check-prefix=SMALL

// CHECK-LABEL: func.func @partial_last_block
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : index
// CHECK:         scf.parallel (%[[Y:.*]], %[[X:.*]], %[[T:.*]]) = (%[[C0]], %[[C0]], %[[C0]]) to (%[[C2]], %[[C3]], %[[C4]]) step (%[[C1]], %[[C1]], %[[C1]]) {
// CHECK:           %[[N:.*]] = affine.min #{{.*}}(%[[X]])
// CHECK:           %[[ACTIVE:.*]] = arith.cmpi ult, %[[T]], %[[N]] : index
// CHECK:           scf.if %[[ACTIVE]] {
// CHECK:             affine.apply #{{.*}}(%[[Y]], %[[X]], %[[T]])
// CHECK:             memref.store
// CHECK:           }
// CHECK:           scf.reduce
// CHECK:         } {baq_kernel = "baq_test"}
// CHECK-NOT:     scf.forall
// SMALL-LABEL: func.func @partial_last_block
// SMALL:         scf.forall
// SMALL-NOT:     scf.parallel
func.func @partial_last_block(%m: memref<2x10xf32>) {
  %c0 = arith.constant 0.0 : f32
  scf.forall (%y, %x) in (2, 3) {
    %n = affine.min affine_map<(d0) -> (4, 10 - d0 * 4)>(%x)
    scf.forall (%t) in (%n) {
      %i = affine.apply affine_map<(d0, d1, d2) -> (d0 * 0 + d1 * 4 + d2)>(%y, %x, %t)
      memref.store %c0, %m[%y, %i] : memref<2x10xf32>
    } {mapping = [#gpu.thread<x>]}
  } {baq_kernel = "baq_test", mapping = [#gpu.block<y>, #gpu.block<x>]}
  return
}

// Work estimate: 64 x 64 threads x (a 16-trip loop of 3 ops + 2) = 200,704
// ops reaches the default threshold (32,768); 1 x 16 threads of it do not.
// SMALL-LABEL: func.func @counted_loops
// SMALL:         scf.parallel
// SMALL:         scf.forall
// SMALL-NOT:     scf.parallel
func.func @counted_loops(%m: memref<4096xf32>, %s: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %z = arith.constant 0.0 : f32
  scf.forall (%b) in (64) {
    scf.forall (%t) in (64) {
      %i = affine.apply affine_map<(d0, d1) -> (d0 * 64 + d1)>(%b, %t)
      %sum = scf.for %k = %c0 to %c16 step %c1 iter_args(%acc = %z) -> f32 {
        %v = memref.load %m[%i] : memref<4096xf32>
        %a = arith.addf %acc, %v : f32
        scf.yield %a : f32
      }
      memref.store %sum, %m[%i] : memref<4096xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  scf.forall (%b) in (1) {
    scf.forall (%t) in (16) {
      %sum = scf.for %k = %c0 to %c16 step %c1 iter_args(%acc = %z) -> f32 {
        %v = memref.load %m[%t] : memref<4096xf32>
        %a = arith.addf %acc, %v : f32
        scf.yield %a : f32
      }
      memref.store %sum, %s[%t] : memref<16xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}

// Unmapped foralls and nests inside other foralls are not kernels.
// CHECK-LABEL: func.func @not_kernels
// CHECK-NOT:     scf.parallel
// CHECK:         scf.forall
func.func @not_kernels(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  scf.forall (%i) in (8) {
    memref.store %c0, %m[%i] : memref<8xf32>
  }
  return
}

// Block-level code with side effects would run once per thread after
// flattening: such a nest stays a (sequential) scf.forall.
// CHECK-LABEL: func.func @impure_block_code
// CHECK-NOT:     scf.parallel
// CHECK:         scf.forall
func.func @impure_block_code(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  scf.forall (%b) in (2) {
    memref.store %c0, %m[%b] : memref<8xf32>
    scf.forall (%t) in (4) {
      memref.store %c0, %m[%t] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}
