// Underflow in a scale group (issue 22, class 4; group-size > 0). The row's
// range (1.0) holds f16, but with group-size=1 the second group's range is
// 1e-7, below f16's normal range: auto quantizes the layer again with f32
// scales (the bits are still free to choose); an explicit f16 is an error
// naming the group. With budget-scope=module-greedy (or a pooled total) the bits were planned with the
// layer's metadata in the type auto chose: with 8-bit scale codes (the
// default where they hold the rows' ranges) the group keeps code 1, a
// coarser grid that is never zero (scale-codes-groups.mlir); a plan made
// with f16 (weights beyond the codes' range, here 10) cannot change the type
// afterwards: an error, naming the way out.
//
// RUN: baq-opt %s -verify-diagnostics --baq-allocate="target-bits=8 min-bits=8 group-size=1 progress=false" | FileCheck %s
// RUN: not baq-opt %s --baq-allocate="target-bits=8 min-bits=8 group-size=1 progress=false scale-type=f16" 2>&1 | FileCheck %s --check-prefix=F16
// RUN: sed '/expected-remark/d' %s | baq-opt --baq-allocate="target-bits=8 min-bits=8 group-size=1 budget-scope=module-greedy progress=false" 2>&1 | FileCheck %s --check-prefix=MODULE-CODES
// RUN: sed 's/\[\[1.0\]/[[10.0]/' %s | not baq-opt --baq-allocate="target-bits=8 min-bits=8 group-size=1 budget-scope=module-greedy progress=false" 2>&1 | FileCheck %s --check-prefix=MODULE
// A group whose range is 0 (zero weights) is no underflow.
// RUN: sed 's/1.0e-7/0.0/' %s | baq-opt --baq-allocate="target-bits=8 min-bits=8 group-size=1 progress=false scale-type=f16" | FileCheck %s --check-prefix=ZERO

// CHECK-LABEL: func.func @tiny_group
// CHECK:       #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [8, 8], {{.*}} group_size = 1, scale_type = f32, zero_type = i8,
// F16: scale-underflow-groups.mlir:[[# @LINE + 8]]:8: error: baq-allocate: 1 of 2 (row, group) ranges of this weight lie below the smallest normal f16 (6.10352e-05); the smallest, 1e-07 at row 0, group 1, is stored as 1.19209e-07 (with fewer significant bits than f16 has); use scale-type=f32 (or auto)
// MODULE-CODES-NOT: error
// MODULE-CODES: group_size = 1, scale_type = i8, zero_type = i8
// MODULE: <stdin>:[[# @LINE + 5]]:8: error: baq-allocate: 1 of 2 (row, group) ranges of this weight lie below the smallest normal f16 (6.10352e-05); the smallest, 1e-07 at row 0, group 1, is stored as 1.19209e-07 (with fewer significant bits than f16 has); use scale-type=f32 (the module-wide plan chose f16 from the rows' ranges)
// ZERO:        group_size = 1, scale_type = f16, zero_type = i8
func.func @tiny_group(%a: tensor<1x2xf32>, %c: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.0], [1.0e-7]]> : tensor<2x1xf32>
  // expected-remark @below {{scales of this weight are stored as f32: some of its groups' ranges lie below f16's normal range}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x1xf32>) outs(%c : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}
