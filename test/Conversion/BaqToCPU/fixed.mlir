// A hand-checked case. Scale 1, zero -0.5, bits [2, 3, 0, 2, 8, 1] (packed
// order 4, 1, 0, 3, 5, 2): a row's stream is 16 bits (FORMAT.md §3: no full
// word, all of it in the tail, two rows per word), and every row's stream
// is 0xBF07 = code 7 (8 bits) | 7 << 8 (3 bits) | 3 << 11 | 1 << 13 (2 bits
// each) | 1 << 15 (1 bit), so both words are 0xBF07BF07 = -1090011385.
// FORMAT.md §4:
// step = 1 / (2^b - 1), zp = roundeven(0.5 / step) in f32, w = (q - zp) step:
//   channel:  0          1            2  3           4                5
//   bits:     2          3            0  2           8                1
//   code:     3          7            -  1           7                1
//   zp:       2 (1.5)    3 (3.4999998)   2           127 (127.49999)  0 (0.5)
//   weight:   1/3        4/7          0  -1/3        -120/255         1
// and y = C + A W^T with A = [[1, 2, 3, 4, 5, 6], [-1, 0, 0, 0, 0, 1]]:
//   row 0: 1/3 + 8/7 - 4/3 - 600/255 + 6 = 3.789916
//   row 1: C (= 1) - 1/3 + 1 = 1.666667

// RUN: baq-opt %s --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %s --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: baq-opt %s --baq-lower-cpu="decode-max-rows=0" | %run_main | FileCheck %s

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

func.func private @printMemrefF32(tensor<*xf32>)

func.func @kernel(%a: tensor<2x6xf32>, %c: tensor<2x4xf32>)
    -> (tensor<2x4xf32>, tensor<6x4xf32>) {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %y = linalg.matmul {baq.bits = #baq.bits<[2, 3, 0, 2, 8, 1]>}
      ins(%a, %w : tensor<2x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  %w2 = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  return %y, %w2 : tensor<2x4xf32>, tensor<6x4xf32>
}

func.func @main() {
  %a = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                             [-1.0, 0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<2x6xf32>
  %c = arith.constant dense<[[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<2x4xf32>
  %y, %w = call @kernel(%a, %c) : (tensor<2x6xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<6x4xf32>)
  %uy = tensor.cast %y : tensor<2x4xf32> to tensor<*xf32>
  call @printMemrefF32(%uy) : (tensor<*xf32>) -> ()
  %uw = tensor.cast %w : tensor<6x4xf32> to tensor<*xf32>
  call @printMemrefF32(%uw) : (tensor<*xf32>) -> ()
  return
}

// CHECK: rank = 2 offset = 0 sizes = [2, 4]
// CHECK-NEXT: [3.78992,   3.78992,   3.78992,   3.78992],
// CHECK-NEXT: [1.66667,   1.66667,   1.66667,   1.66667]
// CHECK: rank = 2 offset = 0 sizes = [6, 4]
// CHECK-NEXT: [0.333333,   0.333333,   0.333333,   0.333333],
// CHECK-NEXT: [0.571429,   0.571429,   0.571429,   0.571429],
// CHECK-NEXT: [0,   0,   0,   0],
// CHECK-NEXT: [-0.333333,   -0.333333,   -0.333333,   -0.333333],
// CHECK-NEXT: [-0.470588,   -0.470588,   -0.470588,   -0.470588],
// CHECK-NEXT: [1,   1,   1,   1]
