// Nests that baq-kernels-to-parallel cannot flatten get the same located
// errors as baq-kernels-to-gpu (one matcher, KernelNest.h); every diagnostic
// of the pass is here.
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-kernels-to-parallel="min-work=0"
// RUN: not baq-opt %s -split-input-file --baq-kernels-to-parallel="min-work=-1" 2>&1 | FileCheck %s --check-prefix=OPTION

// OPTION: error: baq-kernels-to-parallel: min-work must be >= 0, got -1

func.func @thread_y(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  scf.forall (%b) in (2) {
    // expected-error @below {{thread nest needs a constant maximum extent mapped to #gpu.thread<x>}}
    scf.forall (%t) in (4) {
      memref.store %c0, %m[%t] : memref<8xf32>
    } {mapping = [#gpu.thread<y>]}
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

func.func @unbufferized(%m: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @below {{kernel nest must be bufferized before baq-kernels-to-parallel}}
  %r = scf.forall (%b) in (2) shared_outs(%o = %m) -> tensor<8xf32> {
    scf.forall (%t) in (4) {
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return %r : tensor<8xf32>
}

// -----

func.func @two_thread_nests(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  // expected-error @below {{expected one nested scf.forall mapped to #gpu.thread<x>}}
  scf.forall (%b) in (2) {
    scf.forall (%t) in (4) {
      memref.store %c0, %m[%t] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
    scf.forall (%t) in (4) {
      memref.store %c0, %m[%t] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

func.func @no_thread_nest(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  // expected-error @below {{block-mapped scf.forall without a thread nest}}
  scf.forall (%b) in (2) {
    memref.store %c0, %m[%b] : memref<8xf32>
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

func.func @thread_nest_not_last(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  // expected-error @below {{the thread nest must end the block body}}
  scf.forall (%b) in (2) {
    scf.forall (%t) in (4) {
      memref.store %c0, %m[%t] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
    memref.store %c0, %m[%b] : memref<8xf32>
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

func.func @dynamic_grid(%m: memref<8xf32>, %n: index) {
  %c0 = arith.constant 0.0 : f32
  // expected-error @below {{block grid extents must be constant}}
  scf.forall (%b) in (%n) {
    scf.forall (%t) in (4) {
      memref.store %c0, %m[%t] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

func.func @not_normalized(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  // expected-error @below {{kernel nests must have zero lower bounds and unit steps}}
  scf.forall (%b) = (1) to (3) step (1) {
    scf.forall (%t) in (4) {
      memref.store %c0, %m[%t] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}
