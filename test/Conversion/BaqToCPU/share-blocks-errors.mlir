// RUN: baq-opt %s --split-input-file --verify-diagnostics
// RUN: echo "module {}" | not baq-opt --baq-share-blocks=min-blocks=0 2>&1 | FileCheck %s --check-prefix=MIN

// MIN: baq-share-blocks: min-blocks must be >= 1, got 0

func.func @negative(%x: f32) -> f32 {
  // expected-error @+1 {{'baq.block' must be a non-negative integer attribute}}
  %a = arith.negf %x {baq.block = -1} : f32
  return %a : f32
}

// -----

func.func @not_an_integer(%x: f32) -> f32 {
  // expected-error @+1 {{'baq.block' must be a non-negative integer attribute}}
  %a = arith.negf %x {baq.block = "0"} : f32
  return %a : f32
}
