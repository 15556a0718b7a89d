// --baq-allocate and --baq-expand run on the module and reach matmuls in any
// function-like op nested in it: func.func in a nested module, gpu.func in a
// gpu.module, llvm.func. Blob names come from the enclosing symbol. (The
// measured loss table sees that the column holding each row's maximum is
// exact at 1 bit on the row's grid, so the other column gets the rest.)
//
// RUN: baq-opt %s --baq-allocate="target-bits=4 progress=false" | FileCheck %s
// RUN: baq-opt %s --baq-allocate="target-bits=4 progress=false" --baq-expand | FileCheck %s --check-prefix=EXPAND

// CHECK-LABEL: module @inner
// CHECK-LABEL: func.func @f
// CHECK: baq.packed_constant #baq.layout<outputs = 2, inputs = 2, channel_dim = 0, bits = [7, 1]{{.*}}payload(dense_resource<f_payload>
// CHECK: linalg.matmul {baq.bits = #baq.bits<[7, 1]>}
// CHECK-LABEL: gpu.module @dev
// CHECK-LABEL: gpu.func @g
// CHECK: baq.packed_constant {{.*}}payload(dense_resource<g_payload>
// CHECK: linalg.matmul {baq.bits = #baq.bits<[7, 1]>}
// CHECK-LABEL: llvm.func @h
// CHECK: baq.packed_constant {{.*}}payload(dense_resource<h_payload>
// CHECK: linalg.matmul {baq.bits = #baq.bits<[7, 1]>}
// CHECK-NOT: baq.hessian

// EXPAND-NOT: baq.
// EXPAND-COUNT-3: linalg.generic
// EXPAND-NOT: baq.
module {
  module @inner {
    func.func @f(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
      %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
      %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.5], [0.5, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
      return %r : tensor<1x2xf32>
    }
  }
  gpu.module @dev {
    gpu.func @g(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) {
      %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
      %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.5], [0.5, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
      gpu.return
    }
  }
  llvm.func @h() {
    %a = arith.constant dense<1.0> : tensor<1x2xf32>
    %c = arith.constant dense<0.0> : tensor<1x2xf32>
    %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
    %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.5], [0.5, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
    llvm.return
  }
}
