// Wrong Hessian attribute kinds, empty, mismatched and non-float weights
// under --baq-allocate: each is an error on the matmul, never a crash.
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-allocate="progress=false"
// RUN: not baq-opt %s -split-input-file --baq-allocate="progress=false" 2>&1 | FileCheck %s --check-prefix=EXIT
// EXIT: error:

func.func @hessian_string(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{'baq.hessian' must be a square 2-D f32 tensor constant}}
  %r = linalg.matmul {baq.hessian = "H"} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @hessian_integer(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{'baq.hessian' must be a square 2-D f32 tensor constant}}
  %r = linalg.matmul {baq.hessian = 3 : i64} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @hessian_3d(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{'baq.hessian' must be a square 2-D f32 tensor constant}}
  %r = linalg.matmul {baq.hessian = dense<1.0> : tensor<2x2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @hessian_1d(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{'baq.hessian' must be a square 2-D f32 tensor constant}}
  %r = linalg.matmul {baq.hessian = dense<1.0> : tensor<4xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @hessian_i32(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{'baq.hessian' must be a square 2-D f32 tensor constant}}
  %r = linalg.matmul {baq.hessian = dense<1> : tensor<2x2xi32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @hessian_array(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{'baq.hessian' must be a square 2-D f32 tensor constant}}
  %r = linalg.matmul {baq.hessian = [1.0, 0.0, 0.0, 1.0]} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// Passes the verifier (a square f32 ElementsAttr) but has no dense storage.
func.func @hessian_sparse(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{Hessian must be a dense or dense_resource float tensor}}
  %r = linalg.matmul {baq.hessian = sparse<[[0, 0], [1, 1]], [1.0, 1.0]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// Hessian for 4 inputs on a transposed-B matmul with 2.
func.func @hessian_transposed_size(%a: tensor<1x2xf32>, %c: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<1.0> : tensor<3x2xf32>
  // expected-error@+1 {{'baq.hessian' is 4x4 but the matmul has 2 input features}}
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] {baq.hessian = dense<1.0> : tensor<4x4xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<3x2xf32>) outs(%c : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %r : tensor<1x3xf32>
}

// -----

// Empty weights: no outputs, then no inputs.
func.func @weight_no_outputs(%a: tensor<1x4xf32>, %c: tensor<1x0xf32>) -> tensor<1x0xf32> {
  %w = arith.constant dense<1.0> : tensor<0x4xf32>
  // expected-error@+1 {{cannot quantize an empty weight 'tensor<0x4xf32>'}}
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] {baq.hessian = dense<1.0> : tensor<4x4xf32>} ins(%a, %w : tensor<1x4xf32>, tensor<0x4xf32>) outs(%c : tensor<1x0xf32>) -> tensor<1x0xf32>
  return %r : tensor<1x0xf32>
}

// -----

func.func @weight_no_inputs(%a: tensor<1x0xf32>, %c: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = arith.constant dense<1.0> : tensor<0x4xf32>
  // expected-error@+1 {{cannot quantize an empty weight 'tensor<0x4xf32>'}}
  %r = linalg.matmul {baq.hessian = dense<1.0> : tensor<0x0xf32>} ins(%a, %w : tensor<1x0xf32>, tensor<0x4xf32>) outs(%c : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %r : tensor<1x4xf32>
}

// -----

func.func @weight_sparse(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant sparse<[[0, 0]], [1.0]> : tensor<2x2xf32>
  // expected-error@+1 {{weight must be a dense or dense_resource float tensor}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

func.func @weight_i8(%a: tensor<1x2xi8>, %c: tensor<1x2xi8>) -> tensor<1x2xi8> {
  %w = arith.constant dense<1> : tensor<2x2xi8>
  // expected-error@+1 {{cannot quantize a weight of element type 'i8'; expected f32, f16 or bf16}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xi8>, tensor<2x2xi8>) outs(%c : tensor<1x2xi8>) -> tensor<1x2xi8>
  return %r : tensor<1x2xi8>
}

// -----

// NaN in a dense f16 weight (not a blob).
func.func @weight_dense_f16_nan(%a: tensor<1x2xf16>, %c: tensor<1x2xf16>) -> tensor<1x2xf16> {
  %w = arith.constant dense<[[1.0, 2.0], [0x7E00, 4.0]]> : tensor<2x2xf16>
  // expected-error@+1 {{baq-allocate: weight contains NaN or Inf at (0, 1)}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf16>, tensor<2x2xf16>) outs(%c : tensor<1x2xf16>) -> tensor<1x2xf16>
  return %r : tensor<1x2xf16>
}

// -----

// Operand shapes that disagree are the matmul verifier's to reject.
func.func @operands_mismatch(%a: tensor<1x3xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  // expected-error@+1 {{'linalg.matmul' op inferred input/output operand #1 has shape's dimension #0 to be 3, but found 2}}
  %r = linalg.matmul ins(%a, %w : tensor<1x3xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
