// RUN: baq-opt %s --split-input-file --baq-host-to-gpu --canonicalize --verify-diagnostics | FileCheck %s

// An elementwise op: its 2 x 70 points flattened over blocks of 128 threads, guarded;
// the global it reads is re-read inside the launch; the output buffer becomes managed
// memory.
memref.global "private" constant @gamma : memref<70xf32> = dense<2.0>
// CHECK-LABEL: func.func @elementwise(
// CHECK-DAG: %[[C140:.*]] = arith.constant 140 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[OUT:.*]] = gpu.alloc  host_shared () : memref<2x70xf32>
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C1]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C140]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) module(@elementwise_generic) function(@generic)
// CHECK: %[[ALIGNED:.*]] = memref.assume_alignment %[[OUT]], 16
// CHECK: %[[G:.*]] = memref.get_global @gamma
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[TX]], %[[C140]] : index
// CHECK: scf.if %[[IN]] {
// CHECK: %[[J:.*]] = arith.remui %[[TX]]
// CHECK: %[[I:.*]] = arith.divui %[[TX]]
// CHECK: %[[A:.*]] = memref.load %{{.*}}[%[[I]], %[[J]]]
// CHECK: %[[B:.*]] = memref.load %[[G]][%[[J]]]
// CHECK: %[[R:.*]] = arith.mulf %[[A]], %[[B]]
// CHECK: memref.store %[[R]], %[[ALIGNED]][%[[I]], %[[J]]]
// CHECK: gpu.terminator
// CHECK-NOT: arith.mulf
// CHECK: return %[[OUT]]
func.func @elementwise(%x: memref<2x70xf32>) -> memref<2x70xf32> {
  %g = memref.get_global @gamma : memref<70xf32>
  %out = memref.alloc() : memref<2x70xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%x, %g : memref<2x70xf32>, memref<70xf32>) outs(%out : memref<2x70xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  }
  return %out : memref<2x70xf32>
}

// -----

// A row reduction: one thread per row (4 of them, one block of 4), the reduced dimension a
// loop inside the thread. A copy is a kernel too.
// CHECK-LABEL: func.func @reduce_and_copy(
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C1]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads({{.*}}) in (%{{.*}} = %[[C4]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) module(@reduce_and_copy_generic)
// CHECK: scf.if
// CHECK: scf.for
// CHECK: arith.addf
// CHECK: gpu.terminator
// CHECK: gpu.launch {{.*}} module(@reduce_and_copy_copy) function(@copy)
// CHECK: memref.load
// CHECK: memref.store
// CHECK: gpu.terminator
// CHECK-NOT: memref.copy
func.func @reduce_and_copy(%x: memref<4x64xf32>, %acc: memref<4xf32>, %y: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, k) -> (i, k)>, affine_map<(i, k) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x64xf32>) outs(%acc : memref<4xf32>) {
  ^bb0(%a: f32, %s: f32):
    %r = arith.addf %s, %a : f32
    linalg.yield %r : f32
  }
  memref.copy %acc, %y : memref<4xf32> to memref<4xf32>
  return
}

// -----

// No parallel dimension (a full reduction to a 0-d buffer, a 0-d fill): one thread each.
// CHECK-LABEL: func.func @scalar(
// CHECK: %[[C1:.*]] = arith.constant 1 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C1]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads({{.*}}) in (%{{.*}} = %[[C1]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) module(@scalar_fill)
// CHECK-NEXT: memref.store
// CHECK: gpu.launch {{.*}} module(@scalar_generic)
// CHECK-NEXT: scf.for
// CHECK-NOT: linalg.
func.func @scalar(%x: memref<64xf32>, %s: memref<f32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%s : memref<f32>)
  linalg.generic {indexing_maps = [affine_map<(k) -> (k)>, affine_map<(k) -> ()>], iterator_types = ["reduction"]} ins(%x : memref<64xf32>) outs(%s : memref<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Dynamic sizes: N = d0 * d1 on the host, grid = max(ceil(N / 256), 1).
// CHECK-LABEL: func.func @dynamic(
// CHECK: memref.dim
// CHECK: memref.dim
// CHECK: %[[N:.*]] = arith.muli
// CHECK: %[[G:.*]] = arith.ceildivui %[[N]], %{{.*}}
// CHECK: %[[G1:.*]] = arith.maxui %[[G]], %{{.*}}
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[G1]],
// CHECK: arith.cmpi ult, %{{.*}}, %[[N]]
func.func @dynamic(%x: memref<?x?xf32>) {
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%x : memref<?x?xf32>)
  return
}

// -----

// A global passed to a call (a constant input of a function that launches kernels) is
// copied into managed memory first: a kernel cannot read a host global.
memref.global "private" constant @input : memref<8xf32> = dense<1.0>
func.func private @kernel(memref<8xf32>)
// CHECK-LABEL: func.func @caller(
// CHECK: %[[G:.*]] = memref.get_global @input
// CHECK: %[[M:.*]] = gpu.alloc  host_shared () : memref<8xf32>
// CHECK: memref.copy %[[G]], %[[M]]
// CHECK: call @kernel(%[[M]])
func.func @caller() {
  %g = memref.get_global @input : memref<8xf32>
  call @kernel(%g) : (memref<8xf32>) -> ()
  return
}

// -----

// A view of a global (a RoPE table row at %pos) is re-created inside the launch with the
// global: only %pos crosses to the device.
memref.global "private" constant @table : memref<64x8xf32> = dense<1.0>
// CHECK-LABEL: func.func @global_view(
// CHECK-SAME: %[[POS:.*]]: index
// CHECK-NOT: memref.get_global
// CHECK: gpu.launch
// CHECK-DAG: %[[G:.*]] = memref.get_global @table
// CHECK-DAG: memref.subview %[[G]][%[[POS]], 0] [1, 8] [1, 1]
func.func @global_view(%pos: index, %out: memref<1x8xf32>) {
  %g = memref.get_global @table : memref<64x8xf32>
  %row = memref.subview %g[%pos, 0] [1, 8] [1, 1] : memref<64x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
  linalg.copy ins(%row : memref<1x8xf32, strided<[8, 1], offset: ?>>) outs(%out : memref<1x8xf32>)
  return
}

// -----

// A statically empty copy (a 0-row product's accumulator) launches nothing.
// CHECK-LABEL: func.func @empty(
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @empty(%x: memref<0x4xf32>, %y: memref<0x4xf32>) {
  memref.copy %x, %y : memref<0x4xf32> to memref<0x4xf32>
  return
}
