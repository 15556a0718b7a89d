// baq-drop-returned-arguments: a private function stops returning the memref
// arguments it updated in place; its callers use what they passed.
// RUN: baq-opt %s --split-input-file --baq-drop-returned-arguments | FileCheck %s

// CHECK-LABEL: func.func private @update
// CHECK-SAME:    (%[[B:.*]]: memref<4xf32>, %[[V:.*]]: f32) -> memref<2xf32>
// CHECK:         %[[N:.*]] = memref.alloc() : memref<2xf32>
// CHECK:         return %[[N]] : memref<2xf32>
// CHECK-LABEL: func.func @caller
// CHECK-SAME:    (%[[ARG:.*]]: memref<4xf32>
// CHECK:         %[[R:.*]] = call @update(%[[ARG]], %{{.*}}) {tag} : (memref<4xf32>, f32) -> memref<2xf32>
// CHECK:         %[[C:.*]] = memref.cast %[[ARG]] : memref<4xf32> to memref<?xf32>
// CHECK:         return %[[ARG]], %[[C]], %[[R]]
func.func private @update(%buf: memref<4xf32>, %v: f32) -> (memref<4xf32>, memref<2xf32>, memref<?xf32>) {
  %c0 = arith.constant 0 : index
  memref.store %v, %buf[%c0] : memref<4xf32>
  %new = memref.alloc() : memref<2xf32>
  %cast = memref.cast %buf : memref<4xf32> to memref<?xf32>
  return %buf, %new, %cast : memref<4xf32>, memref<2xf32>, memref<?xf32>
}
func.func @caller(%arg: memref<4xf32>, %v: f32) -> (memref<4xf32>, memref<?xf32>, memref<2xf32>) {
  %0:3 = call @update(%arg, %v) {tag} : (memref<4xf32>, f32) -> (memref<4xf32>, memref<2xf32>, memref<?xf32>)
  return %0#0, %0#2, %0#1 : memref<4xf32>, memref<?xf32>, memref<2xf32>
}

// -----

// Entry points, and private functions used other than by calls, keep their
// signatures.
// CHECK-LABEL: func.func @public
// CHECK-SAME:    -> memref<4xf32>
// CHECK:         return %{{.*}} : memref<4xf32>
// CHECK-LABEL: func.func private @referenced
// CHECK-SAME:    -> memref<4xf32>
// CHECK-LABEL: func.func @user
// CHECK:         call @public
// CHECK-SAME:      -> memref<4xf32>
func.func @public(%buf: memref<4xf32>) -> memref<4xf32> {
  return %buf : memref<4xf32>
}
func.func private @referenced(%buf: memref<4xf32>) -> memref<4xf32> {
  return %buf : memref<4xf32>
}
func.func @user(%buf: memref<4xf32>) -> memref<4xf32> {
  %f = func.constant @referenced : (memref<4xf32>) -> memref<4xf32>
  %0 = call @public(%buf) : (memref<4xf32>) -> memref<4xf32>
  return %0 : memref<4xf32>
}
