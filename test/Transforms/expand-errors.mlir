// RUN: baq-opt %s --split-input-file --baq-expand --verify-diagnostics

// A baq attribute under a name that is not a baq annotation has no upstream
// equivalent: the expansion cannot drop the dialect.

// expected-error @+1 {{baq-expand: attribute 'test.bits' holds a baq attribute that has no upstream equivalent}}
func.func @foreign() attributes {test.bits = #baq.bits<[2, 3]>} {
  return
}

// -----

func.func @nested() {
  // expected-error @+1 {{baq-expand: attribute 'test.layouts' holds a baq attribute that has no upstream equivalent}}
  %c = arith.constant {test.layouts = [1, {bits = #baq.bits<[4]>}]} 0 : i32
  return
}
