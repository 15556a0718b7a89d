// Allocate -> decode -> compare with the ORIGINAL float weights: synthetic
// layers are quantized by --baq-allocate with RTN, decoded by --baq-expand,
// by the dequantize kernels (CPU and GPU configuration), by the NVVM kernels
// serialized on the CPU and by the matmul kernels (identity activations),
// and every element must lie within half a grid step of the original weight
// (Inputs/original_weights.py computes the step from the original weights
// and the layout, not from the stored grids; 0-bit channels must be 0). A
// packer or reader bug that both sides of a decoder-vs-decoder test share
// fails here.

// DEFINE: %{check} = %python %S/Inputs/original_weights.py

// [M, N] f32 weights, two layers sharing a Hessian, grids per row.
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:13x37 --layer k:7x37 --share-hessian q,k --orientation nk --dtype f32 -o %t.a.mlir
// RUN: baq-opt %t.a.mlir --baq-allocate="target-bits=3 quantizer=rtn mse-grid=false progress=false" -o %t.a.q.mlir
// RUN: %{check} %t.a.mlir < %t.a.q.mlir > %t.a.chk.mlir
// RUN: baq-opt %t.a.chk.mlir --baq-expand --baq-lower-cpu | %run_main | FileCheck %s --check-prefixes=CHECK,K
// RUN: baq-opt %t.a.chk.mlir --baq-lower-cpu | %run_main | FileCheck %s --check-prefixes=CHECK,K
// RUN: baq-opt %t.a.chk.mlir --baq-test-lower-gpu-on-cpu="threads-per-block=4" | %run_main | FileCheck %s --check-prefixes=CHECK,K
// RUN: %{check} %t.a.mlir --via matmul < %t.a.q.mlir | baq-opt --baq-lower-cpu | %run_main | FileCheck %s --check-prefixes=CHECK,K

// [N, M] f16 weights, scale groups of 8 channels, N = 12 <= decode-max-rows:
// the identity goes through the fused decode kernel.
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:29x12 --orientation kn --dtype f16 -o %t.b.mlir
// RUN: baq-opt %t.b.mlir --baq-allocate="target-bits=4 group-size=8 quantizer=rtn mse-grid=false progress=false" -o %t.b.q.mlir
// RUN: %{check} %t.b.mlir < %t.b.q.mlir > %t.b.chk.mlir
// RUN: baq-opt %t.b.chk.mlir --baq-expand --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %t.b.chk.mlir --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: baq-opt %t.b.chk.mlir --baq-test-lower-gpu-on-cpu="threads-per-block=4 reverse=true" | %run_main | FileCheck %s
// RUN: %{check} %t.b.mlir --via matmul < %t.b.q.mlir | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=8 k-split=2" | %run_main | FileCheck %s

// bf16 weights, both orientations, 2 bits on average (0- and 1-bit channels).
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:21x40 --orientation nk --dtype bf16 -o %t.c.mlir
// RUN: baq-opt %t.c.mlir --baq-allocate="target-bits=2 quantizer=rtn mse-grid=false progress=false" -o %t.c.q.mlir
// RUN: %{check} %t.c.mlir < %t.c.q.mlir > %t.c.chk.mlir
// RUN: baq-opt %t.c.chk.mlir --baq-expand --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %t.c.chk.mlir --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %t.c.chk.mlir --baq-test-lower-gpu-on-cpu="threads-per-block=4" | %run_main | FileCheck %s
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:21x40 --orientation kn --dtype bf16 --seed 3 -o %t.d.mlir
// RUN: baq-opt %t.d.mlir --baq-allocate="target-bits=2 group-size=16 quantizer=rtn mse-grid=false progress=false" -o %t.d.q.mlir
// RUN: %{check} %t.d.mlir < %t.d.q.mlir > %t.d.chk.mlir
// RUN: baq-opt %t.d.chk.mlir --baq-expand --baq-lower-cpu | %run_main | FileCheck %s
// RUN: baq-opt %t.d.chk.mlir --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: baq-opt %t.d.chk.mlir --baq-test-lower-gpu-on-cpu="threads-per-block=8" | %run_main | FileCheck %s

// GPTQ moves weights by more than half a step (error feedback): the check
// must notice.
// RUN: baq-opt %t.a.mlir --baq-allocate="target-bits=3 progress=false" | %{check} %t.a.mlir | baq-opt --baq-lower-cpu | %run_main | FileCheck %s --check-prefix=GPTQ

// CHECK: q violations: 0
// CHECK-NEXT: PASS
// K: k violations: 0
// K-NEXT: PASS
// GPTQ: q violations: {{[1-9][0-9]*}}
// GPTQ-NEXT: FAIL
