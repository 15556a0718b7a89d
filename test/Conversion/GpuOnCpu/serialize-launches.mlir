// RUN: baq-opt %s --baq-test-serialize-launches | FileCheck %s
// RUN: baq-opt %s --baq-test-serialize-launches=reverse=true | FileCheck %s --check-prefix=REV

// A launch of 3 x 2 blocks of 5 threads, with a guarded store indexed by
// both block ids and the thread id, becomes a call of a host function
// looping over blocks z, y, x and threads z, y, x; the ids become the loop
// indices, the dimensions the launch sizes, the known sizes are asserted.

// The device copy of @table is the host's; @device_only moves to the host.
// CHECK: module {
// CHECK-NEXT: memref.global "private" constant @device_only
// CHECK-NEXT: memref.global "private" constant @table
// CHECK-NOT: memref.global
module attributes {gpu.container_module} {
  memref.global "private" constant @table : memref<4xf32> = dense<1.0>
  // CHECK-LABEL: func.func @host
  // CHECK-SAME: (%[[BUF:.*]]: memref<2x15xf32>)
  func.func @host(%buf: memref<2x15xf32>) {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c5 = arith.constant 5 : index
    // CHECK: %[[TMP:.*]] = memref.alloc() : memref<4xf32>
    %tmp = gpu.alloc host_shared () : memref<4xf32>
    // CHECK: call @__serial_kernels_fill(%[[BUF]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (memref<2x15xf32>, index, index, index, index, index, index) -> ()
    gpu.launch_func @kernels::@fill blocks in (%c3, %c2, %c1) threads in (%c5, %c1, %c1) args(%buf : memref<2x15xf32>)
    // CHECK: memref.dealloc %[[TMP]] : memref<4xf32>
    gpu.dealloc %tmp : memref<4xf32>
    return
  }
  // CHECK-NOT: gpu.module
  gpu.module @kernels {
    memref.global "private" constant @table : memref<4xf32> = dense<1.0>
    memref.global "private" constant @device_only : memref<4xf32> = dense<2.0>
    gpu.func @fill(%buf: memref<2x15xf32>) kernel
        attributes {known_block_size = array<i32: 5, 1, 1>, known_grid_size = array<i32: 3, 2, 1>} {
      %bx = gpu.block_id x
      %by = gpu.block_id y
      %tx = gpu.thread_id x
      %nx = gpu.block_dim x
      %gx = gpu.grid_dim x
      %c4 = arith.constant 4 : index
      %in = arith.cmpi ult, %tx, %c4 : index
      scf.if %in {
        %base = arith.muli %bx, %nx : index
        %col = arith.addi %base, %tx : index
        %t = memref.get_global @device_only : memref<4xf32>
        %v = memref.load %t[%tx] : memref<4xf32>
        %g = arith.index_cast %gx : index to i32
        %f = arith.sitofp %g : i32 to f32
        %s = arith.addf %v, %f : f32
        memref.store %s, %buf[%by, %col] : memref<2x15xf32>
      }
      gpu.return
    }
  }
}

// CHECK-LABEL: func.func private @__serial_kernels_fill
// CHECK-SAME: (%[[B:.*]]: memref<2x15xf32>, %[[GX:.*]]: index, %[[GY:.*]]: index, %[[GZ:.*]]: index, %[[TX:.*]]: index, %[[TY:.*]]: index, %[[TZ:.*]]: index)
// CHECK: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[GX]], %[[C3]] : index
// CHECK: cf.assert %[[OK]], "launch grid_size differs from the kernel's known_grid_size"
// CHECK: %[[C5:.*]] = arith.constant 5 : index
// CHECK: %[[OK5:.*]] = arith.cmpi eq, %[[TX]], %[[C5]] : index
// CHECK: cf.assert %[[OK5]], "launch block_size differs from the kernel's known_block_size"
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[GZ]]
// CHECK: scf.for %[[BY:.*]] = %{{.*}} to %[[GY]]
// CHECK: scf.for %[[BX:.*]] = %{{.*}} to %[[GX]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[TZ]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[TY]]
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %[[TX]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[T]], %{{.*}} : index
// CHECK: scf.if %[[IN]]
// CHECK: %[[BASE:.*]] = arith.muli %[[BX]], %[[TX]] : index
// CHECK: %[[COL:.*]] = arith.addi %[[BASE]], %[[T]] : index
// CHECK: arith.index_cast %[[GX]] : index to i32
// CHECK: memref.store %{{.*}}, %[[B]][%[[BY]], %[[COL]]]
// CHECK-NOT: gpu.

// REV-LABEL: func.func private @__serial_kernels_fill
// REV: scf.for %[[I:.*]] = %[[ZERO:.*]] to %[[UB:.*]] step %[[ONE:.*]] {
// REV: %[[LAST:.*]] = arith.subi %[[UB]], %[[ONE]] : index
// REV: arith.subi %[[LAST]], %[[I]] : index
