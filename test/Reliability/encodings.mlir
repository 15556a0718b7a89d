// A weight whose type carries a tensor encoding is left unquantized with a
// remark: the packed format defines plain row-major values, and the
// encoding's meaning (data tiling, sparsity) cannot be carried over. The
// dequantize verifier rejects encoded results (Dialect/Baq/invalid.mlir).
// RUN: baq-opt %s -verify-diagnostics --baq-allocate="progress=false verbose=true" | FileCheck %s
// RUN: baq-opt %s --baq-allocate="progress=false" --baq-expand --baq-lower-cpu | FileCheck %s --check-prefix=LOWER

// CHECK-LABEL: func.func @encoded_weight
// CHECK-NOT:   baq.packed_constant
// CHECK:       linalg.matmul {baq.hessian
// LOWER-LABEL: llvm.func @encoded_weight
func.func @encoded_weight(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32, "enc">
  // expected-remark @below {{weight type 'tensor<2x2xf32, "enc">' carries a tensor encoding; left unquantized}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.5], [0.5, 1.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32, "enc">) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
