// RUN: baq-opt %s --baq-constants-to-globals --split-input-file | FileCheck %s
// Globals are made in IR order (so names do not depend on bufferization's
// function order), deduplicated, and read through non-writable to_tensor.
// The pass's one diagnostic ("cannot make a memref.global") has no test: the
// pass is anchored on builtin.module, and upstream's getGlobalFor fails only
// for a constant without an enclosing builtin.module.
// Run twice: byte-identical.
// RUN: baq-opt %s --baq-constants-to-globals --split-input-file -o %t.1.mlir
// RUN: baq-opt %s --baq-constants-to-globals --split-input-file -o %t.2.mlir
// RUN: cmp %t.1.mlir %t.2.mlir

// Each global goes to the top of the module: the first made is last.
// CHECK-LABEL: module
// CHECK: memref.global "private" constant @__constant_2xi32_0 : memref<2xi32> = dense<[3, 4]> {alignment = 64 : i64}
// CHECK: memref.global "private" constant @__constant_2xi32 : memref<2xi32> = dense<[1, 2]> {alignment = 64 : i64}
// CHECK-LABEL: func.func @b
// CHECK: %[[G:.*]] = memref.get_global @__constant_2xi32 : memref<2xi32>
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[G]] restrict : memref<2xi32> to tensor<2xi32>
// CHECK: return %[[T]]
// CHECK-LABEL: func.func @a
// CHECK: memref.get_global @__constant_2xi32_0 :
// CHECK: memref.get_global @__constant_2xi32 :
// CHECK-NOT: arith.constant dense
// Scalars stay.
// CHECK: arith.constant 7 : i32
func.func @b() -> tensor<2xi32> {
  %c = arith.constant dense<[1, 2]> : tensor<2xi32>
  return %c : tensor<2xi32>
}
func.func @a() -> (tensor<2xi32>, tensor<2xi32>, i32) {
  %c = arith.constant dense<[3, 4]> : tensor<2xi32>
  %d = arith.constant dense<[1, 2]> : tensor<2xi32>
  %s = arith.constant 7 : i32
  return %c, %d, %s : tensor<2xi32>, tensor<2xi32>, i32
}

// -----

// Blobs stay blobs; constants in nested modules get globals in that module.
// CHECK-LABEL: module
// CHECK: module @inner
// CHECK: memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense_resource<w>
// CHECK-LABEL: func.func @f
// CHECK: memref.get_global @__constant_2xf32 : memref<2xf32>
module {
  module @inner {
    func.func @f() -> tensor<2xf32> {
      %c = arith.constant dense_resource<w> : tensor<2xf32>
      return %c : tensor<2xf32>
    }
  }
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F00000040"
    }
  }
#-}
