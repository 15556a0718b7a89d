// RUN: baq-opt %s --split-input-file --baq-host-to-gpu --verify-diagnostics
// RUN: not baq-opt %s --split-input-file --baq-host-to-gpu=block-size=0 2>&1 | FileCheck %s --check-prefix=SIZE
// SIZE: baq-host-to-gpu: block-size must be in [1, 1024], got 0

// The pass runs after bufferization: a linalg op on tensors is a pipeline error.
func.func @tensors(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{baq-host-to-gpu: expected a bufferized linalg op}}
  %y = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>], iterator_types = ["parallel"]} outs(%x : tensor<4xf32>) {
  ^bb0(%o: f32):
    %r = arith.addf %o, %o : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}
