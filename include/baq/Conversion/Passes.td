//===- Passes.td - Lowering of quantized matmuls -----------*- tablegen -*-===//
//
// Kernels for baq.dequantize + linalg.matmul, built once as scf.forall nests
// and lowered either to CPU loops or to gpu.launch + NVVM.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_CONVERSION_PASSES_TD
#define BAQ_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def BaqFusePackedMatmul : Pass<"baq-fuse-packed-matmul"> {
  let summary = "Fuse quantized matmuls into baq.packed_matmul";
  let description = [{
    Rewrites every `linalg.matmul` whose weight operand is a
    `baq.dequantize` of a `baq.packed_constant` (plain maps for
    `channel_dim = 0`, transposed-B maps for `channel_dim = 1`, static
    shapes, f16/bf16/f32 operands: the forms the packed kernels lower) into
    one `baq.packed_matmul`, and drops the dequantize once unused. A
    quantized matmul it leaves alone gets a remark with the reason.
    `baq-build-kernels` starts with the same rewrite.
  }];
}

def BaqBuildKernels : Pass<"baq-build-kernels"> {
  let summary = "Replace quantized matmuls by packed-weight kernel nests";
  let description = [{
    Fuses every `linalg.matmul` whose weight is a `baq.dequantize` of a
    `baq.packed_constant` into a `baq.packed_matmul` (as
    `baq-fuse-packed-matmul`), then rewrites every `baq.packed_matmul` whose
    packed operands are one `baq.packed_constant`'s into tensor-level
    `scf.forall` nests (outer nest
    mapped to `#gpu.block`, inner to `#gpu.thread`, barrier-free bodies)
    that read the packed words directly:

    * decode kind (activation rows <= `decode-max-rows`): gather activations
      in packed order and sum them per piece (for the zero points), then one
      fused unpack + dot-product nest whose body is
      specialised per bitwidth segment, split over K in `k-split` slices,
      then a nest that sums the slices into the matmul's output;
    * tiled kind (more rows): dequantize each segment into a
      `[positions x M]` buffer of `dequant-type`, then a register-tiled
      matmul nest.

    Remaining `baq.dequantize` ops are lowered with the same dequantize
    nests, and `baq.packed_constant` becomes `arith.constant`s. The result is
    upstream tensor IR only; `target` picks defaults for the options left at
    0 / `default`, so the GPU configuration can be executed on the CPU.
  
    The pass has no anchor: on a module it lowers the baq ops of its
    functions, nested on `func.func` those of that function (the rewrite
    never leaves the function).
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"target", "target", "::mlir::baq::KernelTarget",
           /*default=*/"::mlir::baq::KernelTarget::CPU",
           "Which machine the default configuration is tuned for",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::KernelTarget::CPU, "cpu",
                        "vector<16> lanes over output rows, one slice"),
             clEnumValN(::mlir::baq::KernelTarget::GPU, "gpu",
                        "few rows per thread, K split over blocks"))}]>,
    Option<"rowsPerThread", "rows-per-thread", "int64_t", /*default=*/"0",
           "Output rows per thread; > 1 loads vector<N x i32> across the "
           "interleaved rows (0: target default)">,
    Option<"accumulators", "accumulators", "int64_t", /*default=*/"0",
           "Independent accumulators per row, to hide FMA latency "
           "(0: target default)">,
    Option<"kSplit", "k-split", "int64_t", /*default=*/"0",
           "Decode slices over the reduction (0: enough for the target)">,
    Option<"unroll", "unroll", "int64_t", /*default=*/"0",
           "Decode chunks per loop iteration, loads first, for more bytes "
           "in flight per GPU thread (0: target default)">,
    Option<"threadsPerBlock", "threads-per-block", "int64_t",
           /*default=*/"0", "Threads of an inner nest (0: target default)">,
    Option<"decodeMaxRows", "decode-max-rows", "int64_t", /*default=*/"16",
           "Largest activation row count that uses the fused decode kernel">,
    Option<"tileRows", "tile-rows", "int64_t", /*default=*/"0",
           "Activation rows per thread in the tiled kernel (0: default)">,
    Option<"dequantType", "dequant-type", "::mlir::baq::DequantType",
           /*default=*/"::mlir::baq::DequantType::Default",
           "Element type of dequantized weights in the tiled kernel",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::DequantType::Default, "default",
                        "f16 for gpu, f32 for cpu"),
             clEnumValN(::mlir::baq::DequantType::F16, "f16", "f16"),
             clEnumValN(::mlir::baq::DequantType::F32, "f32", "f32"))}]>,
    Option<"unpack", "unpack", "::mlir::baq::UnpackKind",
           /*default=*/"::mlir::baq::UnpackKind::Default",
           "How codes become floats (both exact; only the cost differs)",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::UnpackKind::Default, "default",
                        "magic for gpu, convert for cpu"),
             clEnumValN(::mlir::baq::UnpackKind::Convert, "convert",
                        "integer to float conversion"),
             clEnumValN(::mlir::baq::UnpackKind::Magic, "magic",
                        "OR into the mantissa of 2^23 and subtract: no "
                        "conversion unit needed"),
             clEnumValN(::mlir::baq::UnpackKind::Half2, "half2",
                        "decode loops unpack two codes per f16 magic "
                        "(0x6400) pair and use f16x2 FMAs on f16 "
                        "activations, summed in f32 per 32-code chunk (not "
                        "exact: docs/KERNELS.md §4); else as default"))}]>,
    Option<"kernels", "kernels", "::mlir::baq::KernelsKind",
           /*default=*/"::mlir::baq::KernelsKind::Default",
           "Decode and CPU tiled kernels specialised per matrix or shared "
           "per shape",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::KernelsKind::Default, "default",
                        "specialized (shared is opt-in for now)"),
             clEnumValN(::mlir::baq::KernelsKind::Specialized, "specialized",
                        "one decode kernel per matrix, its layout compiled "
                        "in (static shifts, unrolled segments and row tail)"),
             clEnumValN(::mlir::baq::KernelsKind::Shared, "shared",
                        "one private func.func per (shape, types, "
                        "configuration) reading the layout from small "
                        "tables at run time; matmuls call it "
                        "(docs/KERNELS.md §7). Decode needs k-split=1, "
                        "unroll=1 and no half2, tiled the CPU panel form; "
                        "other configurations stay specialized"))}]>
  ];
}

def BaqConstantsToGlobals : Pass<"baq-constants-to-globals", "ModuleOp"> {
  let summary = "Turn tensor constants into memref.globals in IR order";
  let description = [{
    Replaces every ranked tensor `arith.constant` by a `memref.global` (at the
    top of the enclosing module, deduplicated, alignment 64) read through
    `memref.get_global` and a non-writable, `restrict` `bufferization.to_tensor`
    — what one-shot bufferization would make of it. One-shot bufferization
    with function boundaries visits functions in an order that changes from
    run to run and names the globals in that order; running this pass first
    keeps the lowering pipelines deterministic.

    Each used result of a `baq.packed_parameter` becomes an external
    `memref.global` declaration (no initializer, alignment 64) named
    `__baq_param_<sanitized tensor name>` (docs/FORMAT.md "Parameter file"),
    read the same way: the lowered module holds no weight bytes, and the
    runner binds the symbols to the mapped parameter file. Two parameter ops
    with one key but different part types are an error. With
    `parameters=false` (the NVVM pipeline, whose kernels carry their
    weights into device code) a parameter op is an error.
  }];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect"
  ];
  let options = [
    Option<"parameters", "parameters", "bool", /*default=*/"true",
           "Lower baq.packed_parameter to external globals (else an error)">
  ];
}

def BaqKernelsToGpu : Pass<"baq-kernels-to-gpu", "ModuleOp"> {
  let summary = "Turn bufferized block/thread-mapped scf.forall nests into "
                "gpu.launch";
  let description = [{
    Converts every bufferized `scf.forall` mapped to `#gpu.block` whose body
    holds one `scf.forall` mapped to `#gpu.thread<x>` into a `gpu.launch`
    (grid from the outer bounds, block from the inner bound's constant
    maximum, threads past the inner bound predicated off). Globals read in
    the nest are re-read inside the launch so that outlining copies them into
    the `gpu.module`, and buffers allocated in functions that launch kernels
    become `gpu.alloc host_shared`, reachable from host and device.
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
    "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"
  ];
}

def BaqHostToGpu : Pass<"baq-host-to-gpu", "ModuleOp"> {
  let summary = "Turn the host's remaining buffer compute (linalg ops, "
                "memref.copy) into gpu.launch";
  let description = [{
    Run after `baq-kernels-to-gpu`: every bufferized linalg op and
    `memref.copy` outside a `gpu.launch` becomes a launch of its own, its
    parallel dimensions flattened over blocks of `block-size` threads (one
    point per thread, guarded), its reductions loops within each thread; an
    op without a leading parallel dimension runs on one thread. Constants and
    globals are re-read inside the launches (outlining copies the globals into
    the `gpu.module`), buffers become `gpu.alloc host_shared`, and a global
    passed to a call or returned is copied into managed memory. Host code is
    then left with index arithmetic, views, allocation and launches.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block of the generated launches (1 to 1024)">
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
    "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect"
  ];
}

def BaqMathToLibdevice : Pass<"baq-math-to-libdevice", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Turn scalar transcendental math in kernels into libdevice "
                "calls";
  let description = [{
    Run on each `gpu.module` before `convert-math-to-llvm`: scalar f32/f64
    `math.sqrt`, `exp`, `log`, `sin`, `tanh`, ... become calls to libdevice
    (`__nv_sqrtf`, ...), which `gpu-module-to-binary` links; the intrinsics
    `convert-math-to-llvm` would make are rejected by `convert-gpu-to-nvvm`.
    Other math (vector FMA) is left to `convert-math-to-llvm`.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def BaqKernelsToParallel : Pass<"baq-kernels-to-parallel"> {
  let summary = "Turn bufferized kernel nests into flat scf.parallel loops "
                "for CPU threads";
  let description = [{
    Converts every bufferized `scf.forall` kernel nest of
    `baq-build-kernels` (a `#gpu.block` grid holding one `#gpu.thread<x>`
    nest) whose estimated work reaches `min-work` into one `scf.parallel`
    over (grid..., thread), threads past the inner bound predicated off as
    in `baq-kernels-to-gpu`. `convert-scf-to-openmp` then divides the whole
    iteration space among OpenMP threads (`OMP_NUM_THREADS` at run time).
    Smaller nests are left alone and become sequential loops: a fork/join
    costs microseconds, more than a 64 x 64 layer's kernels.

    The work estimate is static: operations of the thread body, counting
    constant-trip `scf.for` bodies that many times, times the iteration
    count.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect"
  ];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"32768",
           "Estimated operations below which a kernel stays sequential">
  ];
}

def BaqDenseMatmul : Pass<"baq-dense-matmul", "ModuleOp"> {
  let summary = "Lower unquantized f32 matmuls on constant weights to "
                "vector kernel nests (CPU)";
  let description = [{
    Rewrites every transposed-B `linalg.matmul` on static f32 tensors whose
    weight `[M, K]` is a constant `memref.global` (read by `get_global` +
    `to_tensor`, with a `dense_resource` initializer) into a
    `baq-build-kernels`-style nest: the weight's full blocks of 16 output
    rows are copied at compile time into a global interleaved along K, and
    an item computes 16 outputs with a contiguous vector load per input
    channel; leftover rows run one per item on the original weight. Each
    output is summed in the scalar loop's order with the same roundings
    (multiply, then add; k ascending), so results are bit-identical to
    `convert-linalg-to-loops`. Part of `--baq-lower-cpu` (before
    bufferization), where `baq-kernels-to-parallel` threads the nests.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect", "::mlir::affine::AffineDialect"
  ];
  let options = [
    Option<"threadsPerBlock", "threads-per-block", "int64_t", /*default=*/"64",
           "Items per block of the nest (as baq-build-kernels on the CPU)">
  ];
}

def BaqContiguousReductions : Pass<"baq-contiguous-reductions"> {
  let summary = "Run the reductions of a model's linalg.generic ops over "
                "their contiguous dimension, innermost and reassociable (CPU)";
  let description = [{
    `convert-linalg-to-loops` nests loops in iterator order. Attention's
    q.k (`[1, heads, 1, head_dim (reduction), positions]`) then runs over
    positions innermost, a stride of a whole cache row per step, which LLVM
    vectorises only with gathers (80 % of a decode step's serial time at
    dim 1024), and every reduction (RMSNorm's sum of squares, q.k's dot
    products, softmax's sum) is a chain of dependent scalar adds.

    For each `linalg.generic` on tensors outside kernel nests with a
    reduction dimension that is the last (contiguous) index of every input
    of rank > 1 that it indexes, this pass moves that dimension innermost
    (`linalg::interchangeGenericOp`) and marks the `arith.addf` that
    accumulates into the output `reassoc`, so that LLVM's loop vectoriser
    turns the innermost loop into vector multiply-adds with vector
    accumulators. Sums change order (within float rounding of the
    sequential loops); nothing else changes. Part of `--baq-lower-cpu`,
    before bufferization.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def BaqShareBlocks : Pass<"baq-share-blocks", "ModuleOp"> {
  let summary = "Call one function per group of identical model blocks "
                "instead of repeating each block's code (`baq.block`)";
  let description = [{
    A whole-model function (baq.export_model) repeats every decoder block's
    host code: norms, RoPE, attention, SwiGLU, residuals, cache updates and
    the kernel calls with their table and weight operands. This pass takes
    the top-level ops of each function's entry block from the first to the
    last op marked `baq.block = l` as block `l`'s range and outlines it into
    a private function:

    * operand-free references to module data (`memref.get_global`, tensor
      constants) and the casts/reshapes/`bufferization.to_tensor` applied
      to them stay in the caller and are passed as arguments: the weights
      and per-matmul tables are the caller's, the code is shared;
    * scalar constants defined outside the range are copied in (one copy
      per using op), other values used in it become arguments, values used
      after it become results.

    Ranges that outline to the same function up to the values of top-level
    scalar `arith.constant`s (e.g. the block's cache layer) form a group;
    the constants that differ become trailing arguments. Each group of at
    least `min-blocks` ranges is replaced by calls to one function, marked
    `no_inline` so that LLVM keeps it out of line; other ranges are left
    as they are (e.g. blocks whose specialised kernels differ). Functions
    whose marked ranges interleave, or with more than one block, are
    skipped. Semantics do not change: a range is replaced by a call in
    place, and only side-effect-free data references move. Part of
    `--baq-lower-cpu` (option `share-blocks`), before bufferization.
  }];
  let options = [
    Option<"minBlocks", "min-blocks", "int64_t", /*default=*/"2",
           "Fewest identical blocks worth a shared function (>= 1)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

def BaqDropReturnedArguments
    : Pass<"baq-drop-returned-arguments", "ModuleOp"> {
  let summary = "Drop the results of private functions that return one of "
                "their memref arguments (after bufferization)";
  let description = [{
    After one-shot bufferization a function that updates a tensor argument
    in place (a shared kernel's output, a shared block's KV caches) returns
    that argument's buffer. The deallocation pipeline gives callers
    ownership of every result, so it would return a clone: a malloc and a
    copy per call. For each private function whose uses are all `func.call`
    ops, this pass removes every result that is (up to `memref.cast`) one of
    its arguments, and the callers use the operand they passed instead
    (upstream `drop-equivalent-buffer-results`, restricted to functions
    whose callers are all in the module, so that entry points keep their
    signatures). Part of `--baq-lower-cpu`, between one-shot bufferization
    and the deallocation pipeline.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def BaqReturnArgumentsInPlace
    : Pass<"baq-return-arguments-in-place", "ModuleOp"> {
  let summary = "Return a function's memref arguments themselves instead of "
                "the deallocation pipeline's clones (CPU)";
  let description = [{
    The ownership-based deallocation pipeline gives the caller ownership of
    every result of a public function, so a result that is one of the
    function's own memref arguments (a model's KV caches, updated in place
    and returned) is returned as a `bufferization.clone`: a malloc and a
    copy of the whole cache per call (4 MB per decoded token at dim 1024,
    2 layers; 16 MB at 8 layers). This pass returns the argument itself
    wherever the clone's only use is the `func.return` of a function that
    nothing in the module calls (callers inside the module free the results
    they own, per the deallocation pipeline's rules). The caller then
    gets back a buffer it already owns: it must not free a result whose
    base pointer is that of an argument (baq-run frees a returned cache
    only when the pointer differs). Part of `--baq-lower-cpu`, after
    `buffer-deallocation-pipeline`.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def BaqFuseLop3 : Pass<"baq-fuse-lop3"> {
  let summary = "Fuse (x & y) | z on i32 into one PTX lop3.b32";
  let description = [{
    Replaces `arith.ori(arith.andi(x, y), z)` on i32 (and, lane by lane, on
    1-D vectors of i32) by inline PTX `lop3.b32 d, x, y, z, 0xEA`. ptxas
    fuses an AND and an OR into one LOP3 only when at most one operand is an
    immediate; the decode kernels' unpacking `(w & mask) | magic` has two,
    so without this it costs two instructions per code (pair). Part of
    `--baq-lower-nvvm`, run on the outlined `gpu.module`s; the CPU pipelines
    keep the portable and/or (same bits).
  }];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect", "::mlir::vector::VectorDialect"
  ];
}

#endif // BAQ_CONVERSION_PASSES_TD
