// Edge grids inside the format's domain (FORMAT.md §4) decode identically in
// every lowering: the decode kernel (CPU and GPU configurations), the tiled
// kernel, the dequantize kernel and --baq-expand. Rows, all with codes
// q = [3, 1] (a 4-bit stream 0b0111 per row, FORMAT.md §3: all four rows in the
// tail of one word, 0x7777):
//   row 0: s = 0, z = 0       all-zero group: step 0, zp 0      -> [0, 0]
//   row 1: s = 3, z = 1       minimum above 0: zp clamps to 0   -> [3, 1]
//   row 2: s = 3, z = -10     minimum below -s: zp clamps to 3  -> [0, -2]
//   row 3: s = 3, z = -1.5    tie: zp = roundeven(1.5) = 2      -> [1, -1]
// y = A W with A = [[1, 10], [2, 0]]:
//   [0, 3 + 10, 0 - 20, 1 - 10] = [0, 13, -20, -9]; [0, 6, 0, 2]
//
// RUN: baq-opt %s --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %s --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: baq-opt %s --baq-lower-cpu="decode-max-rows=0" | %run_main | FileCheck %s
// RUN: baq-opt %s --baq-expand --baq-lower-cpu | %run_main | FileCheck %s

#layout = #baq.layout<outputs = 4, inputs = 2, channel_dim = 0,
  bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 4, scale_bytes = 8, zero_bytes = 8>

func.func private @printMemrefF32(tensor<*xf32>)

func.func @kernel(%a: tensor<2x2xf32>, %c: tensor<2x4xf32>)
    -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<30583> : tensor<1xi32>)
      scales(dense<[[0.0], [3.0], [3.0], [3.0]]> : tensor<4x1xf16>)
      zeros(dense<[[0.0], [1.0], [-10.0], [-1.5]]> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<1xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<2x4xf32>
  %y = linalg.matmul ins(%a, %w : tensor<2x2xf32>, tensor<2x4xf32>)
      outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  %w2 = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<1xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<2x4xf32>
  return %y, %w2 : tensor<2x4xf32>, tensor<2x4xf32>
}

func.func @main() {
  %a = arith.constant dense<[[1.0, 10.0], [2.0, 0.0]]> : tensor<2x2xf32>
  %c = arith.constant dense<0.0> : tensor<2x4xf32>
  %y, %w = call @kernel(%a, %c) : (tensor<2x2xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>)
  %uy = tensor.cast %y : tensor<2x4xf32> to tensor<*xf32>
  call @printMemrefF32(%uy) : (tensor<*xf32>) -> ()
  %uw = tensor.cast %w : tensor<2x4xf32> to tensor<*xf32>
  call @printMemrefF32(%uw) : (tensor<*xf32>) -> ()
  return
}

// CHECK: rank = 2 offset = 0 sizes = [2, 4]
// CHECK-NEXT: [0,   13,   -20,   -9],
// CHECK-NEXT: [0,   6,   0,   2]
// CHECK: rank = 2 offset = 0 sizes = [2, 4]
// CHECK-NEXT: [0,   3,   0,   1],
// CHECK-NEXT: [0,   1,   -2,   -1]
