// Scales must not underflow silently (issue 22, class 4). A nonzero
// (row, group) range below the smallest normal value of the scale type
// would be stored with few significant bits, or as 0 (the group then decodes
// to zeros): an explicit scale-type that cannot hold it is an error naming
// the weight (its location), the row, the group and the type; `auto` stores
// such a layer's scales in f32 (with a remark); below f32's normal range it
// is an error whatever the option. Weights of ~1e-30 with scale-type=f16 used
// to exit 0 with every scale stored as 0.
//
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-allocate="target-bits=4 progress=false" | FileCheck %s
// RUN: not baq-opt %s -split-input-file --baq-allocate="target-bits=4 progress=false scale-type=f16" 2>&1 >/dev/null | FileCheck %s --check-prefix=F16
// RUN: not baq-opt %s -split-input-file --baq-allocate="target-bits=4 progress=false scale-type=f16" 2>/dev/null | FileCheck %s --check-prefix=F16-OUT
// RUN: not baq-opt %s -split-input-file --baq-allocate="target-bits=4 progress=false scale-type=bf16" 2>&1 >/dev/null | FileCheck %s --check-prefix=BF16
// RUN: not baq-opt %s -split-input-file --baq-allocate="target-bits=4 progress=false scale-type=bf16" 2>/dev/null | FileCheck %s --check-prefix=BF16-OUT
// RUN: not baq-opt %s -split-input-file --baq-allocate="target-bits=4 progress=false zero-type=auto" 2>/dev/null | FileCheck %s --check-prefix=AUTO-ZEROS

// Every range ~1e-30: f32 under auto (all below f16's normal range); f16
// rounds both scales to 0; bf16 has f32's exponent range and holds them.
// CHECK-LABEL: func.func @tiny
// CHECK:       scale_type = f32, zero_type = i8
// CHECK:       scales(dense_resource<tiny_scales>
// F16: scale-underflow.mlir:[[# @LINE + 8]]:8: error: baq-allocate: 2 of 2 (row, group) ranges of this weight lie below the smallest normal f16 (6.10352e-05); the smallest, 3e-30 at row 0, group 0, is stored as 0 (its group would decode to zeros); use scale-type=f32 (or auto)
// BF16-OUT-LABEL: func.func @tiny
// BF16-OUT:       scale_type = bf16, zero_type = i8
// AUTO-ZEROS-LABEL: func.func @tiny
// AUTO-ZEROS:       scale_type = f32, zero_type = f32
func.func @tiny(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0e-30, -2.0e-30], [3.0e-30, 4.0e-30]]> : tensor<2x2xf32>
  // expected-remark @below {{scales of this weight are stored as f32: its ranges exceed f16 (or all lie below its normal range)}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// One output's range (2e-7) lies below f16's normal range, the other's (1.5)
// does not: the layer's widest range alone said f16, and f16 would store
// 2e-7 as 1.78814e-07 (3 x 2^-24, a subnormal with 2 significant bits: every
// weight of that row decoded 11% too small). auto takes f32; f16 is an error.
// CHECK-LABEL: func.func @mixed_rows
// CHECK:       scale_type = f32, zero_type = i8
// F16: scale-underflow.mlir:[[# @LINE + 6]]:8: error: baq-allocate: 1 of 2 (row, group) ranges of this weight lie below the smallest normal f16 (6.10352e-05); the smallest, 2e-07 at row 1, group 0, is stored as 1.78814e-07 (with fewer significant bits than f16 has); use scale-type=f32 (or auto)
// BF16-OUT-LABEL: func.func @mixed_rows
// BF16-OUT:       scale_type = bf16, zero_type = i8
func.func @mixed_rows(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 1.0e-7], [-0.5, -1.0e-7]]> : tensor<2x2xf32>
  // expected-remark @below {{scales of this weight are stored as f32: some of its rows' ranges lie below f16's normal range}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// All-zero weights have zero ranges: nothing to lose, every type stores them
// (auto: 8-bit scale codes, code 0).
// CHECK-LABEL: func.func @zeros
// CHECK:       scale_type = i8, zero_type = i8
// F16-OUT-LABEL: func.func @zeros
// F16-OUT:       scale_type = f16, zero_type = i8
// BF16-OUT-LABEL: func.func @zeros
// BF16-OUT:       scale_type = bf16, zero_type = i8
// AUTO-ZEROS-LABEL: func.func @zeros
// AUTO-ZEROS:       scale_type = i8, zero_type = f16
func.func @zeros(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<0.0> : tensor<2x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// Ranges below f32's normal range (f32 subnormal weights): no scale type
// holds them, whatever the option.
// F16: scale-underflow.mlir:[[# @LINE + 6]]:8: error: baq-allocate: 2 of 2 (row, group) ranges of this weight lie below the smallest normal f16
// BF16: scale-underflow.mlir:[[# @LINE + 5]]:8: error: baq-allocate: 2 of 2 (row, group) ranges of this weight lie below the smallest normal bf16 (1.17549e-38); the smallest, {{.*}} at row 0, group 0, is stored as {{.*}}; use scale-type=f32 (or auto)
func.func @f32_subnormal(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0e-40, -2.0e-40], [3.0e-40, 4.0e-40]]> : tensor<2x2xf32>
  // expected-remark @below {{scales of this weight are stored as f32}}
  // expected-error @below {{baq-allocate: 2 of 2 (row, group) ranges of this weight lie below the smallest normal f32 (1.17549e-38); the smallest, 3e-40 at row 0, group 0; no scale type holds ranges this small (the grid's step, range / (2^b - 1), would lose its precision or be 0)}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
