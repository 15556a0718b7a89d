// baq-return-arguments-in-place: a clone of a function argument that is only
// returned (or whose address is read) becomes the argument; other clones stay.
// RUN: baq-opt %s --split-input-file --baq-return-arguments-in-place | FileCheck %s
// The whole CPU lowering of a cache update: no malloc, no whole-cache copy,
// the row still copied into the cache; a small intermediate on the stack.
// RUN: baq-opt %s --split-input-file --baq-lower-cpu | FileCheck %s --check-prefix=LOWER

// CHECK-LABEL: func.func @cache_in_place
// CHECK-SAME:    (%[[CACHE:.*]]: memref<4x8xf32>, %[[OTHER:.*]]: memref<4x8xf32>
// CHECK-NOT:     bufferization.clone
// CHECK:         return %[[CACHE]], %[[OTHER]]
func.func @cache_in_place(%cache: memref<4x8xf32>, %other: memref<4x8xf32>, %v: f32) -> (memref<4x8xf32>, memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  memref.store %v, %cache[%c0, %c0] : memref<4x8xf32>
  %0 = bufferization.clone %cache : memref<4x8xf32> to memref<4x8xf32>
  %1 = bufferization.clone %other : memref<4x8xf32> to memref<4x8xf32>
  return %0, %1 : memref<4x8xf32>, memref<4x8xf32>
}

// -----

// The lowered deallocations may read the clone's address (to keep retained
// buffers): they read the argument's instead.
// CHECK-LABEL: func.func @address_read
// CHECK-SAME:    (%[[CACHE:.*]]: memref<4x8xf32>
// CHECK-NOT:     bufferization.clone
// CHECK:         memref.extract_aligned_pointer_as_index %[[CACHE]]
// CHECK:         return %[[CACHE]]
func.func @address_read(%cache: memref<4x8xf32>, %keep: memref<?xindex>) -> memref<4x8xf32> {
  %c0 = arith.constant 0 : index
  %0 = bufferization.clone %cache : memref<4x8xf32> to memref<4x8xf32>
  %p = memref.extract_aligned_pointer_as_index %0 : memref<4x8xf32> -> index
  memref.store %p, %keep[%c0] : memref<?xindex>
  return %0 : memref<4x8xf32>
}

// -----

// A clone with another use, or of a buffer that is not an argument, is kept.
// CHECK-LABEL: func.func @clones_kept
// CHECK:         %[[A:.*]] = bufferization.clone %{{.*}} : memref<4xf32>
// CHECK:         memref.store %{{.*}}, %[[A]]
// CHECK:         %[[B:.*]] = bufferization.clone %{{.*}} : memref<4xf32>
// CHECK:         return %[[A]], %[[B]]
func.func @clones_kept(%arg: memref<4xf32>, %v: f32) -> (memref<4xf32>, memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %0 = bufferization.clone %arg : memref<4xf32> to memref<4xf32>
  memref.store %v, %0[%c0] : memref<4xf32>
  %alloc = memref.alloc() : memref<4xf32>
  %1 = bufferization.clone %alloc : memref<4xf32> to memref<4xf32>
  memref.dealloc %alloc : memref<4xf32>
  return %0, %1 : memref<4xf32>, memref<4xf32>
}

// -----

// LOWER-LABEL: llvm.func @append
// LOWER-NOT:     llvm.call @malloc
// LOWER:         llvm.alloca
// LOWER-NOT:     llvm.call @malloc
// LOWER:         "llvm.intr.memcpy"
// LOWER-NOT:     llvm.call @malloc
// LOWER:         llvm.return
func.func @append(%cache: tensor<4x8xf32>, %row: tensor<1x8xf32>, %pos: index) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<1x8xf32>
  %twice = linalg.add ins(%row, %row : tensor<1x8xf32>, tensor<1x8xf32>) outs(%e : tensor<1x8xf32>) -> tensor<1x8xf32>
  %0 = tensor.insert_slice %twice into %cache[%pos, 0] [1, 8] [1, 1] : tensor<1x8xf32> into tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// A function the module calls keeps the ownership ABI: its caller may free
// the result and its own argument.
// CHECK-LABEL: func.func @callee
// CHECK:         %[[C:.*]] = bufferization.clone
// CHECK:         return %[[C]]
// CHECK-LABEL: func.func @caller
func.func @callee(%arg: memref<4xf32>) -> memref<4xf32> {
  %0 = bufferization.clone %arg : memref<4xf32> to memref<4xf32>
  return %0 : memref<4xf32>
}
func.func @caller(%arg: memref<4xf32>) -> memref<4xf32> {
  %0 = call @callee(%arg) : (memref<4xf32>) -> memref<4xf32>
  return %0 : memref<4xf32>
}
