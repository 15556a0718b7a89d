// The work estimate of baq-kernels-to-parallel (issue 22, class 7): a
// constant-trip scf.for counts its body ceil((ub - lb) / step) times. Every
// nest below is 2 blocks x 4 threads running a 3-trip loop of 2 ops (store,
// yield) plus the loop and the terminator: 8 x (1 + 3 x 2 + 1) = 64 ops. So
// each goes parallel at min-work = 63 and 64 and stays a forall at 65; a trip
// count rounded down (2 trips: 48 ops), up once too often (4: 80) or taken
// from 0 instead of the lower bound moves one of them across the edge.
// RUN: baq-opt %s --baq-kernels-to-parallel="min-work=63" | FileCheck %s --check-prefix=PAR
// RUN: baq-opt %s --baq-kernels-to-parallel="min-work=64" | FileCheck %s --check-prefix=PAR
// RUN: baq-opt %s --baq-kernels-to-parallel="min-work=65" | FileCheck %s --check-prefix=SEQ

// Trips 0, 4, 8: 10 / 4 rounded up.
// PAR-LABEL: func.func @ceil
// PAR:         scf.parallel
// PAR-NOT:     scf.forall
// PAR:         return
// SEQ-LABEL: func.func @ceil
// SEQ-NOT:     scf.parallel
// SEQ:         scf.forall
// SEQ-NOT:     scf.parallel
// SEQ:         return
func.func @ceil(%m: memref<32xf32>) {
  %lb = arith.constant 0 : index
  %ub = arith.constant 10 : index
  %step = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  scf.forall (%b) in (2) {
    scf.forall (%t) in (4) {
      scf.for %k = %lb to %ub step %step {
        memref.store %z, %m[%k] : memref<32xf32>
      }
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}

// Trips 0, 4, 8: not 12 / 4 + 1.
// PAR-LABEL: func.func @exact
// PAR:         scf.parallel
// PAR-NOT:     scf.forall
// PAR:         return
// SEQ-LABEL: func.func @exact
// SEQ-NOT:     scf.parallel
// SEQ:         scf.forall
// SEQ-NOT:     scf.parallel
// SEQ:         return
func.func @exact(%m: memref<32xf32>) {
  %lb = arith.constant 0 : index
  %ub = arith.constant 12 : index
  %step = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  scf.forall (%b) in (2) {
    scf.forall (%t) in (4) {
      scf.for %k = %lb to %ub step %step {
        memref.store %z, %m[%k] : memref<32xf32>
      }
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}

// Trips 4, 8, 12: from the lower bound.
// PAR-LABEL: func.func @lower_bound
// PAR:         scf.parallel
// PAR-NOT:     scf.forall
// PAR:         return
// SEQ-LABEL: func.func @lower_bound
// SEQ-NOT:     scf.parallel
// SEQ:         scf.forall
// SEQ-NOT:     scf.parallel
// SEQ:         return
func.func @lower_bound(%m: memref<32xf32>) {
  %lb = arith.constant 4 : index
  %ub = arith.constant 16 : index
  %step = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  scf.forall (%b) in (2) {
    scf.forall (%t) in (4) {
      scf.for %k = %lb to %ub step %step {
        memref.store %z, %m[%k] : memref<32xf32>
      }
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}

// Trips 5, 6, 7.
// PAR-LABEL: func.func @unit
// PAR:         scf.parallel
// PAR-NOT:     scf.forall
// PAR:         return
// SEQ-LABEL: func.func @unit
// SEQ-NOT:     scf.parallel
// SEQ:         scf.forall
// SEQ-NOT:     scf.parallel
// SEQ:         return
func.func @unit(%m: memref<32xf32>) {
  %lb = arith.constant 5 : index
  %ub = arith.constant 8 : index
  %step = arith.constant 1 : index
  %z = arith.constant 0.0 : f32
  scf.forall (%b) in (2) {
    scf.forall (%t) in (4) {
      scf.for %k = %lb to %ub step %step {
        memref.store %z, %m[%k] : memref<32xf32>
      }
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}
