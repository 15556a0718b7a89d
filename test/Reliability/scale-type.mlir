// Scales and zeros must hold a layer's ranges (row ranges reach 2 max|w|):
// auto picks f32 for a layer beyond f16 (with a remark), an explicit type that
// cannot hold them is an error naming the option, and ranges beyond f32 are an
// error too; nothing saturates silently. Zeros are 8-bit codes by default
// (decoded against the f32 scale); zero-type=auto stores them like the scales.
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-allocate="target-bits=8 progress=false" | FileCheck %s
// RUN: not baq-opt %s -split-input-file --baq-allocate="target-bits=8 progress=false scale-type=f16" 2>&1 >/dev/null | FileCheck %s --check-prefix=F16
// RUN: not baq-opt %s -split-input-file --baq-allocate="target-bits=8 progress=false scale-type=bf16" 2>/dev/null | FileCheck %s --check-prefix=BF16
// RUN: not baq-opt %s -split-input-file --baq-allocate="target-bits=8 progress=false scale-type=bf16" 2>&1 >/dev/null | FileCheck %s --check-prefix=BF16-ERR
// RUN: not baq-opt %s -split-input-file --baq-allocate="target-bits=8 progress=false zero-type=auto" 2>/dev/null | FileCheck %s --check-prefix=AUTO
// RUN: not baq-opt %s -split-input-file --baq-allocate="target-bits=8 progress=false zero-type=auto" 2>&1 >/dev/null | FileCheck %s --check-prefix=AUTO-REMARK

// CHECK-LABEL: func.func @beyond_f16
// CHECK:       scale_type = f32, zero_type = i8
// AUTO-LABEL:  func.func @beyond_f16
// AUTO:        scale_type = f32, zero_type = f32
// AUTO-REMARK: remark: scales and zeros of this weight are stored as f32: its ranges exceed f16 (or all lie below its normal range)
// F16:         error: baq-allocate: weights up to 100000 make scale ranges exceed the largest f16 value; use scale-type=f32 (or auto)
// BF16-LABEL:  func.func @beyond_f16
// BF16:        scale_type = bf16, zero_type = i8
func.func @beyond_f16(%a: tensor<1x4xf32>, %c: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.0e5], [-1.0e5], [5.0e4], [1.0]]> : tensor<4x1xf32>
  // expected-remark @below {{scales of this weight are stored as f32: its ranges exceed f16 (or all lie below its normal range)}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 2.0]]> : tensor<4x4xf32>}
      ins(%a, %w : tensor<1x4xf32>, tensor<4x1xf32>) outs(%c : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

// -----

// CHECK-LABEL: func.func @within_f16
// CHECK:       scale_type = f16, zero_type = i8
// AUTO-LABEL:  func.func @within_f16
// AUTO:        scale_type = f16, zero_type = f16
func.func @within_f16(%a: tensor<1x2xf32>, %c: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[32000.0], [-32000.0]]> : tensor<2x1xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x1xf32>) outs(%c : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

// -----

// F16:         error: baq-allocate: weights up to 3e+38 make scale ranges exceed the largest f16 value; use scale-type=f32 (or auto)
// BF16-ERR:    error: baq-allocate: weights up to 3e+38 make scale ranges exceed the largest bf16 value; use scale-type=f32 (or auto)
func.func @beyond_f32(%a: tensor<1x2xf32>, %c: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[3.0e38], [-3.0e38]]> : tensor<2x1xf32>
  // expected-error @below {{baq-allocate: weights up to 3e+38 make scale ranges overflow f32}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x1xf32>) outs(%c : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

// -----

// All ranges below f16's smallest normal (6.1e-5): f16 scales would keep a
// few bits of precision, so auto picks f32 here too.
// CHECK-LABEL: func.func @below_f16_normal
// CHECK:       scale_type = f32, zero_type = i8
// AUTO-LABEL:  func.func @below_f16_normal
// AUTO:        scale_type = f32, zero_type = f32
// AUTO-REMARK: remark: scales and zeros of this weight are stored as f32
func.func @below_f16_normal(%a: tensor<1x2xf32>, %c: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.0e-6], [-1.0e-6]]> : tensor<2x1xf32>
  // expected-remark @below {{scales of this weight are stored as f32}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x1xf32>) outs(%c : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}
