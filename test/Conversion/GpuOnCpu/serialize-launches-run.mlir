// The serialized launch runs every (block, thread) of the launch; the
// checks that make mapping bugs fail do fire at run time: a launch whose
// sizes disagree with the kernel's known sizes (the launch bounds the NVVM
// kernel is compiled for) and a thread writing past its buffer (the guard
// bound raised to 9) abort the run (cf.assert; the JIT's unflushed stdout
// loses the message), while the unchanged module prints the expected buffer.

// RUN: baq-opt %s --baq-test-serialize-launches --generate-runtime-verification --baq-lower-cpu | %run_main | FileCheck %s
// RUN: sed -e 's/i32: 3, 2, 1/i32: 4, 2, 1/' %s | baq-opt --baq-test-serialize-launches --generate-runtime-verification --baq-lower-cpu | not --crash %run_main
// RUN: sed -e 's/constant 8 : index/constant 9 : index/' %s | baq-opt --baq-test-serialize-launches --generate-runtime-verification --baq-lower-cpu | not --crash %run_main

module attributes {gpu.container_module} {
  func.func private @printMemrefF32(memref<*xf32>)
  func.func @main() {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %buf = memref.alloca() : memref<2x8xf32>
    // 3 x 2 blocks of 3 threads; 8 columns, so the last block's third
    // thread is guarded off.
    gpu.launch_func @kernels::@fill blocks in (%c3, %c2, %c1) threads in (%c3, %c1, %c1) args(%buf : memref<2x8xf32>)
    %u = memref.cast %buf : memref<2x8xf32> to memref<*xf32>
    call @printMemrefF32(%u) : (memref<*xf32>) -> ()
    return
  }
  gpu.module @kernels {
    gpu.func @fill(%buf: memref<2x8xf32>) kernel
        attributes {known_block_size = array<i32: 3, 1, 1>, known_grid_size = array<i32: 3, 2, 1>} {
      %bx = gpu.block_id x
      %by = gpu.block_id y
      %tx = gpu.thread_id x
      %nx = gpu.block_dim x
      %base = arith.muli %bx, %nx : index
      %col = arith.addi %base, %tx : index
      %n = arith.constant 8 : index
      %in = arith.cmpi ult, %col, %n : index
      scf.if %in {
        %r = arith.index_cast %by : index to i32
        %c = arith.index_cast %col : index to i32
        %c10 = arith.constant 10 : i32
        %r10 = arith.muli %r, %c10 : i32
        %v = arith.addi %r10, %c : i32
        %f = arith.sitofp %v : i32 to f32
        memref.store %f, %buf[%by, %col] : memref<2x8xf32>
      }
      gpu.return
    }
  }
}

// CHECK: rank = 2 offset = 0 sizes = [2, 8]
// CHECK-NEXT: [0,   1,   2,   3,   4,   5,   6,   7],
// CHECK-NEXT: [10,   11,   12,   13,   14,   15,   16,   17]
