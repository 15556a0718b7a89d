// baq-share-blocks: each `baq.block` op range becomes a call; ranges that are
// the same code up to scalar constants share one function.
// RUN: baq-opt %s --split-input-file --baq-share-blocks | FileCheck %s
// RUN: baq-opt %s --split-input-file --baq-share-blocks=min-blocks=1 | FileCheck %s --check-prefix=ONE

memref.global "private" constant @w0 : memref<4x4xf32> = dense<1.0>
memref.global "private" constant @w1 : memref<4x4xf32> = dense<2.0>

// Two blocks that differ in their weight global and their cache layer: one
// function; the weights stay in the caller and are passed in, the layer
// becomes a trailing index argument, the outside constant is copied in.
// CHECK-LABEL: func.func private @model_block
// CHECK-SAME:    (%[[X:.*]]: tensor<1x4xf32>, %[[W:.*]]: tensor<4x4xf32>, %[[CACHE:.*]]: tensor<2x4xf32>, %[[LAYER:.*]]: index) -> (tensor<1x4xf32>, tensor<2x4xf32>)
// CHECK-SAME:    attributes {no_inline, passthrough = ["noinline"]}
// CHECK-NOT:     memref.get_global
// CHECK:         %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         linalg.fill ins(%[[ZERO]] : f32)
// CHECK:         linalg.matmul ins(%[[X]], %[[W]] :
// CHECK:         tensor.insert_slice %{{.*}} into %[[CACHE]][%[[LAYER]], 0]
// CHECK-NOT:     baq.block
// CHECK:         return
// CHECK-LABEL: func.func @model
// CHECK-SAME:    (%[[X0:.*]]: tensor<1x4xf32>, %[[C0:.*]]: tensor<2x4xf32>)
// CHECK:         %[[G0:.*]] = memref.get_global @w0
// CHECK:         %[[T0:.*]] = bufferization.to_tensor %[[G0]]
// CHECK:         %[[L0:.*]] = arith.constant 0 : index
// CHECK:         %[[R0:.*]]:2 = call @model_block(%[[X0]], %[[T0]], %[[C0]], %[[L0]])
// CHECK:         %[[G1:.*]] = memref.get_global @w1
// CHECK:         %[[T1:.*]] = bufferization.to_tensor %[[G1]]
// CHECK:         %[[L1:.*]] = arith.constant 1 : index
// CHECK:         %[[R1:.*]]:2 = call @model_block(%[[R0]]#0, %[[T1]], %[[R0]]#1, %[[L1]])
// CHECK-NOT:     linalg.matmul
// CHECK:         return %[[R1]]#0, %[[R1]]#1
func.func @model(%x: tensor<1x4xf32>, %cache: tensor<2x4xf32>) -> (tensor<1x4xf32>, tensor<2x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %l0 = arith.constant {baq.block = 0} 0 : index
  %m0 = memref.get_global @w0 : memref<4x4xf32> {baq.block = 0}
  %w0 = bufferization.to_tensor %m0 restrict {baq.block = 0} : memref<4x4xf32> to tensor<4x4xf32>
  %e0 = tensor.empty() {baq.block = 0} : tensor<1x4xf32>
  %z0 = linalg.fill {baq.block = 0} ins(%zero : f32) outs(%e0 : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y0 = linalg.matmul {baq.block = 0} ins(%x, %w0 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z0 : tensor<1x4xf32>) -> tensor<1x4xf32>
  %c0 = tensor.insert_slice %y0 into %cache[%l0, 0] [1, 4] [1, 1] {baq.block = 0} : tensor<1x4xf32> into tensor<2x4xf32>
  %l1 = arith.constant {baq.block = 1} 1 : index
  %m1 = memref.get_global @w1 : memref<4x4xf32> {baq.block = 1}
  %w1 = bufferization.to_tensor %m1 restrict {baq.block = 1} : memref<4x4xf32> to tensor<4x4xf32>
  %e1 = tensor.empty() {baq.block = 1} : tensor<1x4xf32>
  %z1 = linalg.fill {baq.block = 1} ins(%zero : f32) outs(%e1 : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y1 = linalg.matmul {baq.block = 1} ins(%y0, %w1 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z1 : tensor<1x4xf32>) -> tensor<1x4xf32>
  %c1 = tensor.insert_slice %y1 into %c0[%l1, 0] [1, 4] [1, 1] {baq.block = 1} : tensor<1x4xf32> into tensor<2x4xf32>
  return %y1, %c1 : tensor<1x4xf32>, tensor<2x4xf32>
}

// -----

// Three blocks: the first two call the same kernel, the third another one.
// The pair shares a function; the third stays inline (with min-blocks=1 it
// gets its own function too). An unmarked op between blocks stays put.
// CHECK-LABEL: func.func private @three_block
// CHECK:         call @kernel_a
// CHECK-LABEL: func.func @three
// CHECK:         call @three_block
// CHECK:         arith.negf
// CHECK:         call @three_block
// CHECK:         %[[Y:.*]] = call @kernel_b
// CHECK-SAME:      {baq.block = 2 : i64}
// CHECK:         return %[[Y]]
// ONE-LABEL: func.func private @three_block(
// ONE:         call @kernel_a
// ONE-LABEL: func.func private @three_block_0(
// ONE:         call @kernel_b
// ONE-LABEL: func.func @three
// ONE-COUNT-2: call @three_block(
// ONE:         call @three_block_0(
func.func private @kernel_a(%x: f32) -> f32
func.func private @kernel_b(%x: f32) -> f32
func.func @three(%x: f32) -> f32 {
  %a = call @kernel_a(%x) {baq.block = 0} : (f32) -> f32
  %n = arith.negf %a : f32
  %b = call @kernel_a(%n) {baq.block = 1} : (f32) -> f32
  %c = call @kernel_b(%b) {baq.block = 2} : (f32) -> f32
  return %c : f32
}

// -----

// Same ops but different shapes: nothing is shared.
// CHECK-LABEL: func.func @shapes
// CHECK-NOT:     call
// CHECK:         linalg.fill {baq.block = 0
// CHECK:         linalg.fill {baq.block = 1
// ONE-LABEL: func.func private @shapes_block(
// ONE-SAME:    -> tensor<4xf32>
// ONE-LABEL: func.func private @shapes_block_0(
// ONE-SAME:    -> tensor<8xf32>
func.func @shapes(%v: f32) -> (tensor<4xf32>, tensor<8xf32>) {
  %e0 = tensor.empty() {baq.block = 0} : tensor<4xf32>
  %f0 = linalg.fill {baq.block = 0} ins(%v : f32) outs(%e0 : tensor<4xf32>) -> tensor<4xf32>
  %e1 = tensor.empty() {baq.block = 1} : tensor<8xf32>
  %f1 = linalg.fill {baq.block = 1} ins(%v : f32) outs(%e1 : tensor<8xf32>) -> tensor<8xf32>
  return %f0, %f1 : tensor<4xf32>, tensor<8xf32>
}

// -----

// Blocks that differ in a constant inside a region (not a top-level scalar
// constant) are different code.
// CHECK-LABEL: func.func @nested_constant
// CHECK-NOT:     call
// CHECK:         return
func.func @nested_constant(%t: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = linalg.generic {baq.block = 0, indexing_maps = [affine_map<(i) -> (i)>], iterator_types = ["parallel"]} outs(%t : tensor<4xf32>) {
  ^bb0(%in: f32):
    %c = arith.constant 1.0 : f32
    %r = arith.addf %in, %c : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %b = linalg.generic {baq.block = 1, indexing_maps = [affine_map<(i) -> (i)>], iterator_types = ["parallel"]} outs(%t : tensor<4xf32>) {
  ^bb0(%in: f32):
    %c = arith.constant 2.0 : f32
    %r = arith.addf %in, %c : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// Interleaved blocks are not ranges: the function is left alone.
// CHECK-LABEL: func.func @interleaved
// CHECK-NOT:     call
// ONE-LABEL: func.func @interleaved
// ONE-NOT:     call
func.func @interleaved(%x: f32) -> f32 {
  %a = arith.negf %x {baq.block = 0} : f32
  %b = arith.negf %a {baq.block = 1} : f32
  %c = arith.negf %b {baq.block = 0} : f32
  %d = arith.negf %c {baq.block = 1} : f32
  return %d : f32
}
