// 8-bit scale codes (docs/FORMAT.md §4: 2.6e-4 to 15.5) are the default
// (scale-type=auto) for every layer whose ranges they hold. auto takes f16 for
// a layer whose weights may give a row range beyond 15.5 (|w| > 7.75) or
// whose row ranges lie below code 1 (groups: scale-codes-groups.mlir). An
// explicit scale-type=u8 that cannot hold a range is an error naming the
// option. No remark for any of this.
// RUN: baq-opt %s -split-input-file --baq-allocate="target-bits=4 group-size=4 progress=false" 2>&1 | FileCheck %s --check-prefix=AUTO --implicit-check-not=remark
// RUN: baq-opt %s -split-input-file --baq-allocate="target-bits=4 group-size=4 progress=false scale-type=f16" | FileCheck %s --check-prefix=F16
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-allocate="target-bits=4 group-size=4 progress=false scale-type=u8" | FileCheck %s --check-prefix=U8

// AUTO-LABEL: func.func @within_codes
// AUTO:       scale_type = i8, zero_type = i8
// AUTO-SAME:  scales(dense_resource<within_codes_scales> : tensor<2x1xi8>)
// F16-LABEL:  func.func @within_codes
// F16:        scale_type = f16, zero_type = i8
// U8-LABEL:   func.func @within_codes
// U8:         scale_type = i8, zero_type = i8
func.func @within_codes(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[7.75, 0.5], [-1.0, 0.25]]> : tensor<2x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// AUTO-LABEL: func.func @beyond_codes
// AUTO:       scale_type = f16, zero_type = i8
func.func @beyond_codes(%a: tensor<1x2xf32>, %c: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[8.0], [-8.0]]> : tensor<2x1xf32>
  // expected-error @below {{baq-allocate: weights up to 8 make scale ranges exceed the largest u8 scale code value; use scale-type=f16 (or auto)}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x1xf32>) outs(%c : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

// -----

// A row whose range (2e-4) lies below code 1.
// AUTO-LABEL: func.func @tiny_row
// AUTO:       scale_type = f16, zero_type = i8
func.func @tiny_row(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 1.0e-4], [-1.0, -1.0e-4]]> : tensor<2x2xf32>
  // expected-error @below {{baq-allocate: 1 of 2 (row, group) ranges of this weight lie below the smallest u8 scale code (0.000259399); the smallest, 0.0002 at row 1, group 0, is stored as code 1 (0.000259399: a coarser grid than its range needs); use scale-type=f16 (or auto)}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
