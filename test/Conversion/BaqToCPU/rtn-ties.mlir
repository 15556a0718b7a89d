// Exact codes of --baq-allocate's RTN, where every weight is a tie. Uniform 2
// bits and a row range of 3 give step 1 (scale and zero exact in f16), so
// code = clamp(roundeven(w) + zp, 0, 3) with zp = roundeven(-min(w, 0)) and
// the decoded weight is code - zp (hand-computed, as in GptqTest):
//   row 0: zp 0,                   codes 0 2 2 3 0 -> 0  2  2 3 0
//   row 1: zp 3,                   codes 0 1 1 3 3 -> -3 -2 -2 0 0
//   row 2: zp roundeven(0.5) = 0,  codes 0 2 0 2 0 -> 0  2  0 2 0
//   row 3: zp roundeven(1.5) = 2,  codes 0 3 2 2 2 -> -2 1  0 0 0
// Rounding half up, half away from zero or down changes some of them. The
// weight is decoded by --baq-expand, the CPU and the GPU-configured kernels,
// and the NVVM kernels serialized on the CPU.

// RUN: baq-opt %s --baq-allocate="quantizer=rtn uniform=true target-bits=2 mse-grid=false progress=false" -o %t
// RUN: baq-opt %t --baq-expand --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %t --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %t --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: baq-opt %t --baq-test-lower-gpu-on-cpu | %run_main | FileCheck %s

func.func private @printMemrefF32(tensor<*xf32>)

// The weight reaches @main through an identity matmul (y = I W^T, exact).
func.func @layer(%x: tensor<5x5xf32>) -> tensor<5x4xf32> {
  %w = arith.constant dense<[[0.5, 1.5, 2.5, 3.0, 0.0],
                             [-3.0, -2.5, -1.5, -0.5, 0.0],
                             [-0.5, 2.5, 0.5, 1.5, 0.0],
                             [-1.5, 1.5, -0.5, 0.5, 0.0]]> : tensor<4x5xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>,
                                      affine_map<(d0, d1, d2) -> (d1, d2)>,
                                      affine_map<(d0, d1, d2) -> (d0, d1)>]
      {baq.hessian = dense<[[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0],
                            [0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0],
                            [0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<5x5xf32>}
      ins(%x, %w : tensor<5x5xf32>, tensor<4x5xf32>)
      outs(%acc : tensor<5x4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

func.func @main() {
  %eye = arith.constant dense<[[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0],
                               [0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<5x5xf32>
  %y = call @layer(%eye) : (tensor<5x5xf32>) -> tensor<5x4xf32>
  %u = tensor.cast %y : tensor<5x4xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

// W^T, one input channel per line:
// CHECK: rank = 2 offset = 0 sizes = [5, 4]
// CHECK-NEXT: [0,   -3,   0,   -2],
// CHECK-NEXT: [2,   -2,   2,   1],
// CHECK-NEXT: [2,   -2,   0,   0],
// CHECK-NEXT: [3,   0,   2,   0],
// CHECK-NEXT: [0,   0,   0,   0]]
