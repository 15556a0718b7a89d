// Absurd --baq-allocate option values beyond test/Transforms/allocate-options.mlir:
// rejected by the option parser (the value is named) or by the pass (an
// error on the module), with a non-zero exit.
//
// RUN: not baq-opt %s --baq-allocate="target-bits=inf" 2>&1 | FileCheck %s --check-prefix=INF
// INF: :0:0: error: baq-allocate: target-bits must be in (0, 8], got INF
// RUN: not baq-opt %s --baq-allocate="target-bits=1e308" 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: :0:0: error: baq-allocate: target-bits must be in (0, 8], got 1.000000e+308
// RUN: not baq-opt %s --baq-allocate="target-bits=" 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: :0:0: error: baq-allocate: target-bits must be in (0, 8], got 0
// RUN: not baq-opt %s --baq-allocate="target-bits=two" 2>&1 | FileCheck %s --check-prefix=WORD
// WORD: for the --target-bits option: 'two' value invalid for floating point argument!
// RUN: not baq-opt %s --baq-allocate="min-bits=-1" 2>&1 | FileCheck %s --check-prefix=MINNEG
// MINNEG: error: baq-allocate: need 0 <= min-bits <= max-bits <= 8, got min-bits=-1 max-bits=8
// RUN: not baq-opt %s --baq-allocate="max-bits=-1" 2>&1 | FileCheck %s --check-prefix=MAXNEG
// MAXNEG: error: baq-allocate: need 0 <= min-bits <= max-bits <= 8, got min-bits=0 max-bits=-1
// RUN: not baq-opt %s --baq-allocate="min-bits=99999999999" 2>&1 | FileCheck %s --check-prefix=INTOVF
// INTOVF: for the --min-bits option: '99999999999' value invalid for integer argument!
// RUN: not baq-opt %s --baq-allocate="group-size=99999999999999999999" 2>&1 | FileCheck %s --check-prefix=LONGOVF
// LONGOVF: for the --group-size option: '99999999999999999999' value invalid for long argument!
// RUN: not baq-opt %s --baq-allocate="block-size=-5" 2>&1 | FileCheck %s --check-prefix=BLOCKNEG
// BLOCKNEG: error: baq-allocate: block-size must be >= 1, got -5
// RUN: not baq-opt %s --baq-allocate="damp=inf" 2>&1 | FileCheck %s --check-prefix=DAMPINF
// DAMPINF: error: baq-allocate: damp must be positive and finite, got INF
// RUN: not baq-opt %s --baq-allocate="damp=-1" 2>&1 | FileCheck %s --check-prefix=DAMPNEG
// DAMPNEG: error: baq-allocate: damp must be positive and finite, got -1
// RUN: not baq-opt %s --baq-allocate="damp=1e300" 2>&1 | FileCheck %s --check-prefix=DAMPHUGE
// DAMPHUGE: error: baq-allocate: damp must be positive and finite, got 1.000000e+300
// RUN: not baq-opt %s --baq-allocate="budget=lots" 2>&1 | FileCheck %s --check-prefix=BUDGET
// BUDGET: for the --budget option: Cannot find option named 'lots'!
// RUN: not baq-opt %s --baq-allocate="uniform=maybe" 2>&1 | FileCheck %s --check-prefix=BOOL
// BOOL: for the --uniform option: 'maybe' is invalid value for boolean argument!
// RUN: not baq-opt %s --baq-allocate="nonsense=1" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: <Pass-Options-Parser>: no such option nonsense
//
// Extreme but meaningful values: known-bug-empty-payload.mlir and
// known-bug-group-size.mlir.

func.func @f(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.5], [0.5, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
