// Absurd options are rejected with a clear message and a non-zero exit.
//
// RUN: not baq-opt %s --baq-allocate="target-bits=9" 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: baq-allocate: target-bits must be in (0, 8], got 9
// RUN: not baq-opt %s --baq-allocate="target-bits=-1" 2>&1 | FileCheck %s --check-prefix=NEG
// NEG: error: baq-allocate: target-bits must be in (0, 8], got -1
// RUN: not baq-opt %s --baq-allocate="target-bits=nan" 2>&1 | FileCheck %s --check-prefix=NAN
// NAN: error: baq-allocate: target-bits must be in (0, 8], got nan
// RUN: not baq-opt %s --baq-allocate="min-bits=5 max-bits=3" 2>&1 | FileCheck %s --check-prefix=MINMAX
// MINMAX: error: baq-allocate: need 0 <= min-bits <= max-bits <= 8, got min-bits=5 max-bits=3
// RUN: not baq-opt %s --baq-allocate="max-bits=12" 2>&1 | FileCheck %s --check-prefix=MAX
// MAX: error: baq-allocate: need 0 <= min-bits <= max-bits <= 8, got min-bits=0 max-bits=12
// RUN: not baq-opt %s --baq-allocate="group-size=-3" 2>&1 | FileCheck %s --check-prefix=GROUP
// GROUP: error: baq-allocate: group-size must be >= 0, got -3
// RUN: not baq-opt %s --baq-allocate="damp=0" 2>&1 | FileCheck %s --check-prefix=DAMP
// DAMP: error: baq-allocate: damp must be positive and finite, got 0
// RUN: not baq-opt %s --baq-allocate="block-size=0" 2>&1 | FileCheck %s --check-prefix=BLOCK
// BLOCK: error: baq-allocate: block-size must be >= 1, got 0
// RUN: not baq-opt %s --baq-allocate="allocator=magic" 2>&1 | FileCheck %s --check-prefix=ENUM
// ENUM: Cannot find option named 'magic'
// RUN: not baq-opt %s --baq-allocate="report=/nonexistent/dir/r.json progress=false" 2>&1 | FileCheck %s --check-prefix=REPORT
// REPORT: error: baq-allocate: cannot write report '/nonexistent/dir/r.json'
// RUN: not baq-opt %s --baq-allocate="target-bits=0.5 budget=total budget-scope=layer min-bits=1 progress=false" 2>&1 | FileCheck %s --check-prefix=TOTAL
// TOTAL: error: baq-allocate: target-bits=0.5 cannot be met with budget=total
// RUN: not baq-opt %s --baq-allocate="act-order=true group-size=8" 2>&1 | FileCheck %s --check-prefix=ACT
// RUN: not baq-opt %s --baq-allocate="act-order=true budget-scope=module-greedy" 2>&1 | FileCheck %s --check-prefix=ACT
// ACT: error: baq-allocate: act-order needs group-size=0 and budget-scope=layer or module
// With budget=payload the message does not blame budget=total (issue 10).
// RUN: not baq-opt %s --baq-allocate="target-bits=0.5 min-bits=1 progress=false" 2>&1 | FileCheck %s --check-prefix=PAYLOAD --implicit-check-not=total
// PAYLOAD: error: baq-allocate: target-bits=0.5 is below min-bits=1
// RUN: not baq-opt %s --baq-allocate="target-bits=0.5 uniform=true min-bits=1 progress=false" 2>&1 | FileCheck %s --check-prefix=UNIFORM
// UNIFORM: error: baq-allocate: target-bits=0.5 is below the cost of min-bits=1 for every column

func.func @f(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.5], [0.5, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
