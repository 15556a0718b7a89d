// REQUIRES: ptxas
// The whole quantized model through --baq-lower-nvvm: every projection of @forward (1
// token: the fused decode kernels) and @prefill (32 tokens: dequantize + tiled matmul)
// becomes gpu.launch_func of NVVM kernels that ptxas accepts with no spills; everything
// else (embedding gather, RMSNorm, RoPE, attention, SwiGLU) stays host code.
// Synthetic model: 2 layers x 7 projections and the calibrated classifier.
//
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 32 -q -o %t.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 progress=false" | baq-opt --baq-lower-nvvm="chip=sm_90" -o %t.nvvm.mlir
// RUN: FileCheck %s --input-file=%t.nvvm.mlir --check-prefix=HOST
// RUN: grep -o "gpu.launch_func  *@[a-z_]*" %t.nvvm.mlir | sort | uniq -c | FileCheck %s --check-prefix=LAUNCH
// RUN: baq-opt --gpu-module-to-binary="format=isa" %t.nvvm.mlir > %t.ptx.mlir
// RUN: %python %baq_src_root/test/Conversion/BaqToNVVM/Inputs/ptxas_check.py --ptxas %ptxas --arch sm_90 %t.ptx.mlir | FileCheck %s

// Each of the 15 projections (the classifier too): 4 decode kernels in @forward;
// gather, dequantize (the tail kernel, one or two per layer) and tiled matmul in @prefill.
// LAUNCH: 15 gpu.launch_func @forward_baq_activation_sums
// LAUNCH-NEXT: 15 gpu.launch_func @forward_baq_decode
// LAUNCH-NEXT: 15 gpu.launch_func @forward_baq_finalize
// LAUNCH-NEXT: 15 gpu.launch_func @forward_baq_gather
// LAUNCH-NEXT: {{[0-9]+}} gpu.launch_func @prefill_baq_dequantize
// LAUNCH-NEXT: 15 gpu.launch_func @prefill_baq_gather
// LAUNCH-NEXT: 15 gpu.launch_func @prefill_baq_tiled_matmul

// HOST-LABEL: llvm.func @forward(
// HOST: gpu.launch_func @forward_baq_gather
// HOST: llvm.intr.exp
// HOST-LABEL: llvm.func @prefill(
// HOST: gpu.launch_func @prefill_baq_tiled_matmul

// CHECK-DAG: forward_baq_gather: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: forward_baq_activation_sums: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: forward_baq_decode: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: forward_baq_finalize: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: prefill_baq_gather: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: prefill_baq_dequantize{{.*}}: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: prefill_baq_tiled_matmul: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-NOT: error
// CHECK-NOT: {{spill_(stores|loads)=[1-9]}}
