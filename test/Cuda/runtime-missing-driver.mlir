// REQUIRES: cuda-runtime
// UNSUPPORTED: cuda-driver
// No libcuda.so.1 at all (no driver installed, stub not on the path): baq-run --device
// cuda says so and exits 1 instead of failing inside the JIT.
//
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 0 --synthetic-tokenizer %t.tok -q -o %t.mlir
// RUN: not baq-run %t.mlir --tokenizer %t.tok --device cuda 2>&1 | FileCheck %s
// A library that is not a baq CUDA runtime.
// RUN: not baq-run %t.mlir --tokenizer %t.tok --device cuda --cuda-runtime=%c_runner_utils 2>&1 | FileCheck %s --check-prefix=NOTRT

// CHECK: baq-run: error: no CUDA driver/GPU available: cannot load the CUDA runtime '{{.*}}libbaq_cuda_runtime{{.*}}': libcuda.so.1: cannot open shared object file
// NOTRT: baq-run: error: '{{.*}}libmlir_c_runner_utils{{.*}}' is not a baq CUDA runtime: no baqCudaSetErrorHandler
