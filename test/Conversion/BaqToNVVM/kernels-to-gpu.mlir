// RUN: baq-opt %s -split-input-file --baq-kernels-to-gpu | FileCheck %s

// Block ivs follow their mapping ids (not their position); threads past the
// inner bound are predicated off.
// CHECK-LABEL: func.func @yz_mapping
// CHECK-DAG:   %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG:   %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG:   %[[C64:.*]] = arith.constant 64 : index
// CHECK:       gpu.launch blocks(%[[BX:.*]], %[[BY:.*]], %[[BZ:.*]]) in (%{{.*}} = %{{.*}}, %{{.*}} = %[[C5]], %{{.*}} = %[[C3]]) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C64]],
// CHECK:         %[[ACTIVE:.*]] = arith.cmpi ult, %[[TX]], %{{.*}} : index
// CHECK:         scf.if %[[ACTIVE]] {
// CHECK:           memref.store %{{.*}}, %{{.*}}[%[[BZ]], %[[BY]], %[[TX]]]
func.func @yz_mapping(%m: memref<3x5x64xf32>) {
  %c0 = arith.constant 0.0 : f32
  scf.forall (%i, %j) in (3, 5) {
    %n = affine.min affine_map<(d0) -> (64, d0 * 16 + 8)>(%j)
    scf.forall (%t) in (%n) {
      memref.store %c0, %m[%i, %j, %t] : memref<3x5x64xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<z>, #gpu.block<y>]}
  return
}

// -----

// A grid with no block launches nothing: the nest is dropped.
// CHECK-LABEL: func.func @empty_grid
// CHECK-NOT:   gpu.launch
// CHECK-NOT:   scf.forall
// CHECK:       return
func.func @empty_grid(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  scf.forall (%b) in (0) {
    scf.forall (%t) in (4) {
      memref.store %c0, %m[%t] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}
