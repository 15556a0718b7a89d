// REQUIRES: cuda-runtime
// baq-run --device cuda without a GPU: the whole quantized model lowers (--dump-lowered
// writes it: PTX in gpu.binary ops, host functions that only launch), then baq-run stops
// with the reason there is no GPU, exit 1, before any JIT work. The runtime exports every
// mgpu* function the lowered module calls.
//
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 32 --synthetic-tokenizer %t.tok -q -o %t.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 progress=false" -o %t.q.mlir 2> /dev/null
// RUN: env -u CUDA_HOME LD_LIBRARY_PATH=%cuda_stub_dir not baq-run %t.q.mlir --tokenizer %t.tok --device cuda --dump-lowered %t.lowered.mlir --progress 2> %t.err
// RUN: FileCheck %s --check-prefix=STUB --input-file=%t.err
// RUN: FileCheck %s --check-prefix=LOWERED --input-file=%t.lowered.mlir
// RUN: FileCheck %s --check-prefix=BINARY --input-file=%t.lowered.mlir
// RUN: mlir-translate --mlir-to-llvmir %t.lowered.mlir -o %t.ll
// RUN: %python %S/Inputs/check_symbols.py --ir %t.ll --lib %cuda_runtime --nm %llvm_nm | FileCheck %s --check-prefix=SYMBOLS
// Without --dump-lowered it fails before lowering.
// RUN: env LD_LIBRARY_PATH=%cuda_stub_dir not baq-run %t.q.mlir --tokenizer %t.tok --device cuda --progress 2>&1 | FileCheck %s --check-prefix=EARLY
// CPU threads do not apply to the GPU.
// RUN: not baq-run %t.q.mlir --tokenizer %t.tok --device cuda --threads 2 2>&1 | FileCheck %s --check-prefix=THREADS

// STUB: baq-run: lowering with --baq-lower-nvvm... {{[0-9.]+}} s
// STUB-NEXT: baq-run: error: no CUDA driver/GPU available (cuInit: CUDA_ERROR_STUB_LIBRARY)
// STUB-NOT: JIT

// EARLY-NOT: lowering
// EARLY: baq-run: error: no CUDA driver/GPU available (cuInit: CUDA_ERROR_STUB_LIBRARY)

// THREADS: baq-run: error: --threads and --omp-threads set CPU threads; they do not apply to --device cuda

// The host functions launch and allocate, nothing else: no float arithmetic, no loads of
// data, no branches (loops).
// LOWERED-LABEL: llvm.func @forward(
// LOWERED-NOT: llvm.f{{add|sub|mul|div|neg|cmp}}
// LOWERED-NOT: llvm.intr.{{exp|sqrt|maximum|fma}}
// LOWERED-NOT: llvm.load {{.*}} -> {{f16|bf16|f32|i8|i32|vector}}
// LOWERED-NOT: llvm.{{cond_br|br}}
// LOWERED: gpu.launch_func @forward_generic
// LOWERED-NOT: llvm.f{{add|sub|mul|div|neg|cmp}}
// LOWERED-NOT: llvm.intr.{{exp|sqrt|maximum|fma}}
// LOWERED-NOT: llvm.load {{.*}} -> {{f16|bf16|f32|i8|i32|vector}}
// LOWERED-NOT: llvm.{{cond_br|br}}
// LOWERED: llvm.return
// LOWERED-LABEL: llvm.func @_mlir_ciface_forward(
// LOWERED-LABEL: llvm.func @prefill(
// LOWERED-NOT: llvm.f{{add|sub|mul|div|neg|cmp}}
// LOWERED-NOT: llvm.intr.{{exp|sqrt|maximum|fma}}
// LOWERED-NOT: llvm.load {{.*}} -> {{f16|bf16|f32|i8|i32|vector}}
// LOWERED-NOT: llvm.{{cond_br|br}}
// LOWERED: llvm.return
// LOWERED-LABEL: llvm.func @_mlir_ciface_prefill(

// PTX for the driver to JIT, libdevice linked in (no unresolved __nv_expf & co.).
// BINARY: gpu.binary @forward_generic [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, properties = {{.*}}, assembly = "
// BINARY-NOT: .extern .func

// SYMBOLS: needed: {{.*}}mgpuLaunchKernel{{.*}}mgpuMemAlloc{{.*}}mgpuModuleGetFunction{{.*}}mgpuModuleLoadJIT
// SYMBOLS: missing: none
