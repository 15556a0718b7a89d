// REQUIRES: ptxas
// The whole quantized model through --baq-lower-nvvm: every projection of @forward (1
// token: the fused decode kernels) and @prefill (32 tokens: dequantize + tiled matmul)
// becomes gpu.launch_func of NVVM kernels, and so does everything else (embedding gather,
// RMSNorm, RoPE, attention, SwiGLU, KV-cache copies: baq-host-to-gpu's generic kernels);
// the host functions only allocate and launch. ptxas accepts every kernel for sm_80 and
// sm_90 with no spills. Synthetic model: 2 layers x 7 projections and the calibrated
// classifier.
//
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 32 -q -o %t.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 progress=false" -o %t.q.mlir 2> /dev/null
// RUN: baq-opt %t.q.mlir --baq-lower-nvvm="chip=sm_90" -o %t.nvvm.mlir
// RUN: FileCheck %s --input-file=%t.nvvm.mlir --check-prefix=HOST
// RUN: grep -o "gpu.launch_func  *@[a-z_]*" %t.nvvm.mlir | sed -e 's/_$//' | sort | uniq -c | FileCheck %s --check-prefix=LAUNCH
// RUN: baq-opt --gpu-module-to-binary="format=isa" %t.nvvm.mlir > %t.ptx.mlir
// RUN: %python %baq_src_root/test/Conversion/BaqToNVVM/Inputs/ptxas_check.py --ptxas %ptxas --arch sm_90 %t.ptx.mlir | FileCheck %s
// RUN: baq-opt %t.q.mlir --baq-lower-nvvm="chip=sm_80" | baq-opt --gpu-module-to-binary="format=isa" > %t.sm80.mlir
// RUN: %python %baq_src_root/test/Conversion/BaqToNVVM/Inputs/ptxas_check.py --ptxas %ptxas --arch sm_80 %t.sm80.mlir | FileCheck %s
// The projections alone (host-kernels=false): the rest stays host code.
// RUN: baq-opt %t.q.mlir --baq-lower-nvvm="chip=sm_90 host-kernels=false" | FileCheck %s --check-prefix=PROJ

// Each of the 15 projections (the classifier too): 4 decode kernels in @forward; gather,
// dequantize (the tail kernel, one or two per layer) and tiled matmul in @prefill; the rest
// one kernel per linalg op or copy.
// LAUNCH: 15 gpu.launch_func @forward_baq_activation_sums
// LAUNCH-NEXT: 15 gpu.launch_func @forward_baq_decode
// LAUNCH-NEXT: 15 gpu.launch_func @forward_baq_finalize
// LAUNCH-NEXT: 15 gpu.launch_func @forward_baq_gather
// LAUNCH-NEXT: {{[0-9]+}} gpu.launch_func @forward_copy
// LAUNCH-NEXT: {{[0-9]+}} gpu.launch_func @forward_fill
// LAUNCH-NEXT: {{[0-9]+}} gpu.launch_func @forward_generic
// LAUNCH-NEXT: {{[0-9]+}} gpu.launch_func @prefill_baq_dequantize
// LAUNCH-NEXT: 15 gpu.launch_func @prefill_baq_gather
// LAUNCH-NEXT: 15 gpu.launch_func @prefill_baq_tiled_matmul
// LAUNCH-NEXT: {{[0-9]+}} gpu.launch_func @prefill_copy
// LAUNCH-NEXT: {{[0-9]+}} gpu.launch_func @prefill_fill
// LAUNCH-NEXT: {{[0-9]+}} gpu.launch_func @prefill_generic

// The host functions: launches, allocation, descriptors; no arithmetic on floats, no
// loads of data (an i64 load reads a dynamic size, the attention's pos + T rows, from a
// memref descriptor), no loops.
// HOST-LABEL: llvm.func @forward(
// HOST-NOT: llvm.f{{add|sub|mul|div|neg|cmp}}
// HOST-NOT: llvm.intr.{{exp|sqrt|maximum|fma}}
// HOST-NOT: llvm.load {{.*}} -> {{f16|bf16|f32|i8|i32|vector}}
// HOST-NOT: llvm.{{cond_br|br}}
// HOST: gpu.launch_func @forward_baq_gather
// HOST-NOT: llvm.f{{add|sub|mul|div|neg|cmp}}
// HOST-NOT: llvm.intr.{{exp|sqrt|maximum|fma}}
// HOST-NOT: llvm.load {{.*}} -> {{f16|bf16|f32|i8|i32|vector}}
// HOST-NOT: llvm.{{cond_br|br}}
// HOST: llvm.return
// HOST-LABEL: llvm.func @prefill(
// HOST-NOT: llvm.f{{add|sub|mul|div|neg|cmp}}
// HOST-NOT: llvm.intr.{{exp|sqrt|maximum|fma}}
// HOST-NOT: llvm.load {{.*}} -> {{f16|bf16|f32|i8|i32|vector}}
// HOST-NOT: llvm.{{cond_br|br}}
// HOST: gpu.launch_func @prefill_baq_tiled_matmul
// HOST-NOT: llvm.f{{add|sub|mul|div|neg|cmp}}
// HOST-NOT: llvm.intr.{{exp|sqrt|maximum|fma}}
// HOST-NOT: llvm.load {{.*}} -> {{f16|bf16|f32|i8|i32|vector}}
// HOST-NOT: llvm.{{cond_br|br}}
// HOST: llvm.return

// PROJ-LABEL: llvm.func @forward(
// PROJ: gpu.launch_func @forward_baq_gather
// PROJ: llvm.intr.exp

// CHECK-DAG: forward_baq_gather: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: forward_baq_activation_sums: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: forward_baq_decode: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: forward_baq_finalize: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: forward_generic: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: forward_copy: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: forward_fill: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: prefill_baq_gather: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: prefill_baq_dequantize{{.*}}: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: prefill_baq_tiled_matmul: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-DAG: prefill_generic: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// CHECK-NOT: error
// CHECK-NOT: {{spill_(stores|loads)=[1-9]}}
