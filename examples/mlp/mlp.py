#!/usr/bin/env python3
"""A two-layer MLP written by hand as upstream MLIR, with its calibration Hessians.

Writes mlp.mlir and hessians.safetensors into the current directory:
  fc1: [32, 16] weight (torch [out, in]) in an `ml_program.global @fc1`, used through
       `linalg.transpose` + `linalg.matmul` (the shape of torch-mlir's aten.linear);
  fc2: [8, 32] weight in an `arith.constant`, transposed-B `linalg.matmul` named by
       `loc("fc2")`.
Hessians H = 2/n sum x x^T of each layer's inputs come from numpy activations
(baq.calibrate). `@main` runs `@forward` on a test batch and prints the relative error
against the float32 model: max|y - y_fp32| / max|y_fp32|.
"""
import numpy as np

from baq.calibrate import Calibrator

IN, HIDDEN, OUT, ROWS = 16, 32, 8, 4
rng = np.random.default_rng(0)
w1 = rng.standard_normal((HIDDEN, IN)).astype(np.float32) / 4
w2 = rng.standard_normal((OUT, HIDDEN)).astype(np.float32) / 6


def forward(x):
    h = np.maximum(x @ w1.T.astype(np.float64), 0.0)
    return h, h @ w2.T.astype(np.float64)


cal = Calibrator()
for _ in range(8):  # calibration batches
    x = rng.standard_normal((64, IN))
    h, _ = forward(x)
    cal.add("fc1", x)
    cal.add("fc2", h)
cal.save("hessians.safetensors")

x = rng.uniform(-1, 1, (ROWS, IN)).astype(np.float32)
_, y = forward(x.astype(np.float64))


def dense(a):
    return f'dense<"0x{np.ascontiguousarray(a, np.float32).tobytes().hex().upper()}">'


T = lambda *shape: f"tensor<{'x'.join(map(str, shape))}xf32>"  # noqa: E731
MAPS = ("[affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, "
        "affine_map<(d0, d1, d2) -> (d0, d1)>]")
print_error = f"""
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %rows = arith.constant {ROWS} : index
    %cols = arith.constant {OUT} : index
    %f0 = arith.constant 0.0 : f32
    %res:2 = scf.for %i = %c0 to %rows step %c1 iter_args(%e0 = %f0, %m0 = %f0) -> (f32, f32) {{
      %in:2 = scf.for %j = %c0 to %cols step %c1 iter_args(%e = %e0, %m = %m0) -> (f32, f32) {{
        %a = tensor.extract %y[%i, %j] : {T(ROWS, OUT)}
        %b = tensor.extract %ref[%i, %j] : {T(ROWS, OUT)}
        %d = arith.subf %a, %b : f32
        %ad = math.absf %d : f32
        %ab = math.absf %b : f32
        %e1 = arith.maximumf %e, %ad : f32
        %m1 = arith.maximumf %m, %ab : f32
        scf.yield %e1, %m1 : f32, f32
      }}
      scf.yield %in#0, %in#1 : f32, f32
    }}
    %err = arith.divf %res#0, %res#1 : f32
    vector.print str "relative error vs fp32: "
    vector.print %err : f32"""
module = f"""module {{
  ml_program.global private @fc1({dense(w1)} : {T(HIDDEN, IN)}) : {T(HIDDEN, IN)}
  func.func @forward(%x: {T(ROWS, IN)}) -> {T(ROWS, OUT)} {{
    %zero = arith.constant 0.0 : f32
    %w1 = ml_program.global_load_const @fc1 : {T(HIDDEN, IN)}
    %e1 = tensor.empty() : {T(IN, HIDDEN)}
    %w1t = linalg.transpose ins(%w1 : {T(HIDDEN, IN)}) outs(%e1 : {T(IN, HIDDEN)}) permutation = [1, 0]
    %h0 = tensor.empty() : {T(ROWS, HIDDEN)}
    %h1 = linalg.fill ins(%zero : f32) outs(%h0 : {T(ROWS, HIDDEN)}) -> {T(ROWS, HIDDEN)}
    %h2 = linalg.matmul ins(%x, %w1t : {T(ROWS, IN)}, {T(IN, HIDDEN)}) outs(%h1 : {T(ROWS, HIDDEN)}) -> {T(ROWS, HIDDEN)}
    %h = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}} ins(%h2 : {T(ROWS, HIDDEN)}) outs(%h0 : {T(ROWS, HIDDEN)}) {{
    ^bb0(%v: f32, %o: f32):
      %r = arith.maximumf %v, %zero : f32
      linalg.yield %r : f32
    }} -> {T(ROWS, HIDDEN)}
    %w2 = arith.constant {dense(w2)} : {T(OUT, HIDDEN)}
    %y0 = tensor.empty() : {T(ROWS, OUT)}
    %y1 = linalg.fill ins(%zero : f32) outs(%y0 : {T(ROWS, OUT)}) -> {T(ROWS, OUT)}
    %y = linalg.matmul indexing_maps = {MAPS} ins(%h, %w2 : {T(ROWS, HIDDEN)}, {T(OUT, HIDDEN)}) outs(%y1 : {T(ROWS, OUT)}) -> {T(ROWS, OUT)} loc("fc2")
    return %y : {T(ROWS, OUT)}
  }}
  func.func @main() {{
    %x = arith.constant {dense(x)} : {T(ROWS, IN)}
    %y = call @forward(%x) : ({T(ROWS, IN)}) -> {T(ROWS, OUT)}
    %ref = arith.constant {dense(y)} : {T(ROWS, OUT)}{print_error}
    return
  }}
}}
"""
with open("mlp.mlir", "w") as f:
    f.write(module)
