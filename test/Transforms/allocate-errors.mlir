// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-allocate="progress=false verbose=true"
// RUN: not baq-opt %s -split-input-file --baq-allocate="progress=false" 2>&1 | FileCheck %s --check-prefix=EXIT
// EXIT: error:

func.func @no_hessian(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-remark@+1 {{matmul has no 'baq.hessian' attribute; left unquantized}}
  %r = linalg.matmul ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @weight_not_constant(%a: tensor<1x2xf32>, %w: tensor<2x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-remark@+1 {{weight operand is a block argument, not a compile-time constant; left unquantized}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @nan_weight(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 0x7FC00000], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{baq-allocate: weight contains NaN or Inf at (1, 0)}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @inf_hessian(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{cannot use 'baq.hessian': Hessian contains NaN or Inf at (0, 1)}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0x7F800000], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @zero_hessian(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{cannot use 'baq.hessian': Hessian diagonal is all zero}}
  %r = linalg.matmul {baq.hessian = dense<0.0> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @indefinite_hessian(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{cannot use 'baq.hessian': Hessian is not positive definite}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, -100.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @damping_rescues(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // Singular but fixable: 0.01 * mean(diag) is too little, 0.1 suffices.
  // expected-remark@+1 {{Hessian needed damping}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 1.05], [1.05, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @f64_weight(%a: tensor<1x2xf64>, %c: tensor<1x2xf64>) -> tensor<1x2xf64> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf64>
  // expected-error@+1 {{cannot quantize a weight of element type 'f64'; expected f32, f16 or bf16}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf64>, tensor<2x2xf64>) outs(%c : tensor<1x2xf64>) -> tensor<1x2xf64>
  return %r : tensor<1x2xf64>
}

// -----

func.func @truncated_hessian(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{Hessian resource 'short' holds 8 bytes, but 'tensor<2x2xf32>' needs 16}}
  %r = linalg.matmul {baq.hessian = dense_resource<short> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      short: "0x040000000000803F0000803F"
    }
  }
#-}

// -----

func.func @missing_blob(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<nowhere> : tensor<2x2xf32>
  // expected-error@+1 {{weight resource 'nowhere' has no data}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
