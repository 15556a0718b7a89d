// --baq-attach-hessians finds each weight by its name: the global's symbol
// (@fc1), the dense_resource key (fc2), a NameLoc on the op (fc3). A shared
// weight gets its Hessian on every reader. F16 tensors are widened to f32.
// The attached module then goes through --baq-allocate.
//
// RUN: %python %S/Inputs/make_safetensors.py %t.safetensors --tensor fc1:4 --tensor fc2:3:F16 --tensor fc3:2
// RUN: baq-opt %s --baq-attach-hessians="file=%t.safetensors" 2>&1 | FileCheck %s
// RUN: baq-opt %s --baq-attach-hessians="file=%t.safetensors" --baq-allocate="target-bits=2 progress=false" 2>/dev/null | FileCheck %s --check-prefix=ALLOC

// CHECK: remark: loc("{{.*}}.safetensors"): baq-attach-hessians: attached 3 Hessians from '{{.*}}.safetensors' to 4 contractions
// CHECK-LABEL: func.func @global
// CHECK: linalg.matmul {baq.hessian = dense_resource<fc1_hessian> : tensor<4x4xf32>}
// CHECK: linalg.matmul {baq.hessian = dense_resource<fc1_hessian> : tensor<4x4xf32>}
// CHECK-LABEL: func.func @resource
// CHECK: linalg.matvec {baq.hessian = dense_resource<fc2_hessian> : tensor<3x3xf32>}
// CHECK-LABEL: func.func @named
// CHECK: linalg.matmul {baq.hessian = dense_resource<fc3_hessian> : tensor<2x2xf32>}
// CHECK-LABEL: func.func @unnamed
// CHECK-NOT: baq.hessian
// CHECK: fc1_hessian: "0x04000000

// ALLOC-NOT: ml_program.global
// ALLOC-COUNT-4: {baq.bits = #baq.bits<
// ALLOC-NOT: baq.hessian

module {
  ml_program.global private @fc1(dense<[[1.0, -2.0], [3.0, 0.5], [-1.5, 2.5], [0.25, -0.75]]> : tensor<4x2xf32>) : tensor<4x2xf32>
  func.func @global(%a: tensor<1x4xf32>, %c: tensor<1x2xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>) {
    %w = ml_program.global_load_const @fc1 : tensor<4x2xf32>
    %r = linalg.matmul ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
    %s = linalg.matmul ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
    return %r, %s : tensor<1x2xf32>, tensor<1x2xf32>
  }
  func.func @resource(%x: tensor<3xf32>, %c: tensor<2xf32>) -> tensor<2xf32> {
    %w = arith.constant dense_resource<fc2> : tensor<2x3xf32>
    %r = linalg.matvec ins(%w, %x : tensor<2x3xf32>, tensor<3xf32>) outs(%c : tensor<2xf32>) -> tensor<2xf32>
    return %r : tensor<2xf32>
  }
  func.func @named(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
    %w = arith.constant dense<[[1.0, -2.0], [3.0, 0.5]]> : tensor<2x2xf32>
    %r = linalg.matmul ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32> loc("fc3")
    return %r : tensor<1x2xf32>
  }
  func.func @unnamed(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
    %w = arith.constant dense<[[1.0, -2.0], [3.0, 0.5]]> : tensor<2x2xf32>
    %r = linalg.matmul ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
    return %r : tensor<1x2xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      fc2: "0x040000000000803F000000C00000404000000040000080BF0000003F"
    }
  }
#-}
