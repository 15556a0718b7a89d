// 8-bit scale codes and a small group (docs/FORMAT.md §4): when only a
// (row, group) range lies below code 1 (2.6e-4), scale-type=auto re-quantizes
// the layer with f16 scales where its bits are still free to choose; under a
// module-wide plan (budget=total) it keeps the codes: that group's grid is
// coarser (code 1), never zero, and the plan's cost holds. An explicit
// scale-type=u8 is an error naming the option.
// RUN: baq-opt %s --baq-allocate="target-bits=4 group-size=4 progress=false" 2>&1 | FileCheck %s --check-prefix=AUTO --implicit-check-not=remark
// RUN: baq-opt %s -verify-diagnostics --baq-allocate="target-bits=4 group-size=4 progress=false scale-type=u8"
// RUN: baq-opt %s --baq-allocate="target-bits=7 budget=total group-size=4 progress=false" 2>&1 | FileCheck %s --check-prefix=PLAN --implicit-check-not=remark

// Row 0's last four channels (|w| = 1e-4) form its second group once they
// sort last.
// AUTO-LABEL: func.func @tiny_group
// AUTO:       scale_type = f16, zero_type = i8
// AUTO-SAME:  tensor<8x2xf16>
// PLAN-LABEL: func.func @tiny_group
// PLAN:       scale_type = i8, zero_type = i8
// PLAN-SAME:  tensor<8x2xi8>
func.func @tiny_group(%a: tensor<1x8xf32>, %c: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %w = arith.constant dense<[[1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [-1.0, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5], [1.0, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25], [-1.0, -0.25, -0.25, -0.25, -0.25, -0.25, -0.25, -0.25], [0.0001, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [-0.0001, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5], [0.0001, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25], [-0.0001, -0.75, -0.75, -0.75, -0.75, -0.75, -0.75, -0.75]]> : tensor<8x8xf32>
  // expected-error @below {{baq-allocate: 1 of 16 (row, group) ranges of this weight lie below the smallest u8 scale code (0.000259399); the smallest, 0.0002 at row 0, group 1, is stored as code 1 (0.000259399: a coarser grid than its range needs); use scale-type=f16 (or auto)}}
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5]]> : tensor<8x8xf32>}
      ins(%a, %w : tensor<1x8xf32>, tensor<8x8xf32>) outs(%c : tensor<1x8xf32>) -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}
