// Weights beyond f16's range: scale-type=auto stores that layer's scales and zeros
// as f32 (instead of saturating at 65504, which decoded [1e5, -1e5, 5e4, 1] as
// [0, -65504, 0, 0]), and the kernels decode every weight of plain GPTQ
// (refine=0) within half an 8-bit step (784.3 / 2) of the original. The default
// refinement refits the row's scale for the lowest total squared error
// (341,568 against 345,941), which moves the largest error past half a step.
// RUN: baq-opt %s --baq-allocate="target-bits=8 progress=false refine=0" --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %s --baq-allocate="target-bits=8 progress=false scale-type=f32 refine=0" --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %s --baq-allocate="target-bits=8 progress=false" --baq-lower-cpu | %run_main | FileCheck %s --check-prefix=REFINED
// CHECK: sizes = [4, 1]
// CHECK-NEXT: [99607.8],
// CHECK-NEXT: [-100392],
// CHECK-NEXT: [50196.1],
// CHECK-NEXT: [0]]
// REFINED: sizes = [4, 1]
// REFINED-NEXT: [99562.9],
// REFINED-NEXT: [-100347],
// REFINED-NEXT: [50173.5],
// REFINED-NEXT: [0]]

func.func private @printMemrefF32(tensor<*xf32>)

func.func @layer(%a: tensor<4x4xf32>, %c: tensor<4x1xf32>) -> tensor<4x1xf32> {
  %w = arith.constant dense<[[1.0e5], [-1.0e5], [5.0e4], [1.0]]> : tensor<4x1xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 2.0]]> : tensor<4x4xf32>}
      ins(%a, %w : tensor<4x4xf32>, tensor<4x1xf32>) outs(%c : tensor<4x1xf32>) -> tensor<4x1xf32>
  return %r : tensor<4x1xf32>
}

func.func @main() {
  %a = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  %c = arith.constant dense<0.0> : tensor<4x1xf32>
  %y = call @layer(%a, %c) : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %u = tensor.cast %y : tensor<4x1xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}
