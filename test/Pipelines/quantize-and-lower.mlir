// The registered quantize-and-lower pipelines are exactly --baq-allocate
// followed by the lowering pipeline, reachable from --pass-pipeline strings
// with typed options; bad option values are diagnosed, not aborted on.
//
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:32x64 --layer k:16x64 --share-hessian q,k -o %t.mlir
//
// RUN: baq-opt %t.mlir --pass-pipeline="builtin.module(baq-quantize-and-lower-cpu{target-bits=3 budget=total allocator=paper group-size=32 progress=false})" -o %t.pipeline.cpu.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 budget=total allocator=paper group-size=32 progress=false" --baq-lower-cpu -o %t.separate.cpu.mlir
// RUN: cmp %t.pipeline.cpu.mlir %t.separate.cpu.mlir
// RUN: FileCheck %s --check-prefix=CPU < %t.pipeline.cpu.mlir
// Kernel options pass through too: the GPU configuration on the CPU.
// RUN: baq-opt %t.mlir --pass-pipeline="builtin.module(baq-quantize-and-lower-cpu{progress=false kernel-target=gpu decode-max-rows=0 dequant-type=f32})" -o %t.pipeline.gpucfg.mlir
// RUN: baq-opt %t.mlir --baq-allocate="progress=false" --baq-lower-cpu="kernel-target=gpu decode-max-rows=0 dequant-type=f32" -o %t.separate.gpucfg.mlir
// RUN: cmp %t.pipeline.gpucfg.mlir %t.separate.gpucfg.mlir
// RUN: not cmp -s %t.pipeline.gpucfg.mlir %t.pipeline.cpu.mlir
// zero-type: 8-bit zero codes by default, as --baq-allocate; auto for float zeros.
// RUN: baq-opt %t.mlir --pass-pipeline="builtin.module(baq-quantize-and-lower-cpu{zero-type=auto progress=false})" -o %t.pipeline.f16zeros.mlir
// RUN: baq-opt %t.mlir --baq-allocate="zero-type=auto progress=false" --baq-lower-cpu -o %t.separate.f16zeros.mlir
// RUN: cmp %t.pipeline.f16zeros.mlir %t.separate.f16zeros.mlir
// RUN: baq-opt %t.mlir --baq-quantize-and-lower-cpu="progress=false" -o %t.pipeline.default.mlir
// RUN: baq-opt %t.mlir --baq-allocate="zero-type=u8 progress=false" --baq-lower-cpu -o %t.separate.u8.mlir
// RUN: cmp %t.pipeline.default.mlir %t.separate.u8.mlir
// RUN: not cmp -s %t.pipeline.default.mlir %t.pipeline.f16zeros.mlir
//
// RUN: baq-opt %t.mlir --pass-pipeline="builtin.module(baq-quantize-and-lower-nvvm{target-bits=2 chip=sm_90 progress=false})" -o %t.pipeline.nvvm.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=2 progress=false" --baq-lower-nvvm="chip=sm_90" -o %t.separate.nvvm.mlir
// RUN: cmp %t.pipeline.nvvm.mlir %t.separate.nvvm.mlir
// RUN: FileCheck %s --check-prefix=NVVM < %t.pipeline.nvvm.mlir
//
// The uniform baseline through the pipeline: all 64 channels at 3 bits.
// RUN: baq-opt %t.mlir --baq-quantize-and-lower-cpu="target-bits=3 uniform progress=false report=%t.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=REPORT < %t.json
//
// RUN: not baq-opt %t.mlir --pass-pipeline="builtin.module(baq-quantize-and-lower-nvvm{budget=bits})" 2>&1 | FileCheck %s --check-prefix=BAD-ENUM
// RUN: not baq-opt %t.mlir --pass-pipeline="builtin.module(baq-quantize-and-lower-cpu{target-bits=9 progress=false})" 2>&1 | FileCheck %s --check-prefix=BAD-BITS

// CPU-LABEL: llvm.func @q
// CPU-NOT: baq.
// CPU: llvm.fmul
// CPU-LABEL: llvm.func @k

// NVVM-LABEL: llvm.func @q(
// NVVM: gpu.launch_func @q_baq_decode::@baq_decode
// NVVM-LABEL: llvm.func @k(
// NVVM: gpu.launch_func @k_baq_decode::@baq_decode
// NVVM: gpu.module @k_baq_decode [#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">]
// NVVM-NEXT: llvm.func @baq_decode({{.*}}gpu.kernel{{.*}}nvvm.kernel

// REPORT: "bits_histogram": [
// REPORT-NEXT: 0,
// REPORT-NEXT: 0,
// REPORT-NEXT: 0,
// REPORT-NEXT: 64,

// BAD-ENUM: for the --budget option: Cannot find option named 'bits'!
// BAD-BITS: error: baq-allocate: target-bits must be in (0, 8], got 9
