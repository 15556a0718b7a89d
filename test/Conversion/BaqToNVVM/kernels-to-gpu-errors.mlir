// Block/thread nests that baq-kernels-to-gpu cannot map to a CUDA launch get
// a located error (never an out-of-bounds mapping id or a wrapped grid).
// This file covers all ten diagnostics of baq-kernels-to-gpu (KernelsToGpu.cpp):
// block mapping ids, grid extent (y/z and x limits), thread nest extent,
// constant thread extent, bufferized nest, one nested thread forall, missing
// thread nest, thread nest ending the body, constant grid extents, zero lower
// bounds and unit steps.
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-kernels-to-gpu

func.func @linear_block(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  // expected-error @below {{block mapping must use each of #gpu.block<x>, <y>, <z> at most once, got [#gpu.block<linear_dim_9>]}}
  scf.forall (%b) in (2) {
    scf.forall (%t) in (4) {
      %i = affine.apply affine_map<(d0, d1) -> (d0 * 4 + d1)>(%b, %t)
      memref.store %c0, %m[%i] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<linear_dim_9>]}
  return
}

// -----

func.func @repeated_block_dim(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  // expected-error @below {{block mapping must use each of #gpu.block<x>, <y>, <z> at most once, got [#gpu.block<x>, #gpu.block<x>]}}
  scf.forall (%b0, %b1) in (2, 2) {
    scf.forall (%t) in (2) {
      %i = affine.apply affine_map<(d0, d1, d2) -> (d0 * 4 + d1 * 2 + d2)>(%b0, %b1, %t)
      memref.store %c0, %m[%i] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>, #gpu.block<x>]}
  return
}

// -----

func.func @grid_y_too_large(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  // expected-error @below {{grid extent 65536 in dimension y is outside CUDA's limit [0, 65535]}}
  scf.forall (%b) in (65536) {
    scf.forall (%t) in (4) {
      memref.store %c0, %m[%t] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<y>]}
  return
}

// -----

func.func @grid_x_too_large(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  // expected-error @below {{grid extent 2147483648 in dimension x is outside CUDA's limit [0, 2147483647]}}
  scf.forall (%b) in (2147483648) {
    scf.forall (%t) in (4) {
      memref.store %c0, %m[%t] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

func.func @too_many_threads(%m: memref<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  scf.forall (%b) in (2) {
    // expected-error @below {{thread nest extent 2048 is outside CUDA's block limit [1, 1024]}}
    scf.forall (%t) in (2048) {
      memref.store %c0, %m[%b] : memref<8xf32>
    } {mapping = [#gpu.thread<x>]}
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

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
  // expected-error @below {{kernel nest must be bufferized before baq-kernels-to-gpu}}
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
