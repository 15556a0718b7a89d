//===- Passes.h - Lowering of quantized matmuls -----------------*- C++ -*-===//
//
// baq-build-kernels builds the kernels of a quantized matmul once, as
// tensor-level scf.forall nests; baq-lower-cpu and baq-lower-nvvm are the two
// pipelines that take those nests to LLVM (CPU loops) or to gpu.launch_func +
// NVVM kernels.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_CONVERSION_PASSES_H
#define BAQ_CONVERSION_PASSES_H

#include "baq/Dialect/Baq/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
namespace affine {
class AffineDialect;
} // namespace affine
namespace arith {
class ArithDialect;
} // namespace arith
namespace bufferization {
class BufferizationDialect;
} // namespace bufferization
namespace func {
class FuncDialect;
} // namespace func
namespace gpu {
class GPUDialect;
} // namespace gpu
namespace LLVM {
class LLVMDialect;
} // namespace LLVM
namespace math {
class MathDialect;
} // namespace math
namespace memref {
class MemRefDialect;
} // namespace memref
namespace scf {
class SCFDialect;
} // namespace scf
namespace tensor {
class TensorDialect;
} // namespace tensor
namespace vector {
class VectorDialect;
} // namespace vector

namespace baq {

enum class KernelTarget { CPU, GPU };
enum class DequantType { Default, F16, F32 };
enum class UnpackKind { Default, Convert, Magic, Half2 };
enum class KernelsKind { Default, Specialized, Shared };

#define GEN_PASS_DECL
#include "baq/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "baq/Conversion/Passes.h.inc"

// Pipeline options are built up as a chain of CRTP layers over
// PassPipelineOptions<Derived>, so that every pipeline declares each option
// once: kernel knobs, then the target's, then (for quantize-and-lower) the
// --baq-allocate ones.
using PipelineOption = mlir::detail::PassOptions;

/// baq-build-kernels' knobs, shared by every lowering pipeline (0 or
/// "default": the target's default).
template <typename Derived>
struct KernelOptions : public PassPipelineOptions<Derived> {
  PipelineOption::Option<int64_t> rowsPerThread{
      *this, "rows-per-thread",
      llvm::cl::desc("Output rows per thread (0: by target and rows)"),
      llvm::cl::init(0)};
  PipelineOption::Option<int64_t> accumulators{
      *this, "accumulators",
      llvm::cl::desc("Accumulators per row (0: default)"), llvm::cl::init(0)};
  PipelineOption::Option<int64_t> kSplit{
      *this, "k-split",
      llvm::cl::desc("Decode K slices (0: default; on GPU enough threads to "
                     "fill it)"),
      llvm::cl::init(0)};
  PipelineOption::Option<int64_t> unroll{
      *this, "unroll",
      llvm::cl::desc("Decode chunks per loop iteration (0: default)"),
      llvm::cl::init(0)};
  PipelineOption::Option<int64_t> threadsPerBlock{
      *this, "threads-per-block",
      llvm::cl::desc("Threads per GPU block / inner nest (0: default)"),
      llvm::cl::init(0)};
  PipelineOption::Option<int64_t> decodeMaxRows{
      *this, "decode-max-rows",
      llvm::cl::desc("Most activation rows for the fused decode kernel"),
      llvm::cl::init(16)};
  PipelineOption::Option<int64_t> tileRows{
      *this, "tile-rows",
      llvm::cl::desc("Activation rows per thread, tiled kernel (0: default)"),
      llvm::cl::init(0)};
  PipelineOption::Option<std::string> dequantType{
      *this, "dequant-type",
      llvm::cl::desc("Tiled kernel weight type: default, f16 or f32"),
      llvm::cl::init("default")};
  PipelineOption::Option<std::string> unpack{
      *this, "unpack",
      llvm::cl::desc("Code to float: default, convert, magic or half2"),
      llvm::cl::init("default")};
  PipelineOption::Option<std::string> kernels{
      *this, "kernels",
      llvm::cl::desc("Decode kernels: default, specialized (one per matrix) "
                     "or shared (one per shape, layout read at run time)"),
      llvm::cl::init("default")};
};

template <typename Derived>
struct CPUTargetOptions : public KernelOptions<Derived> {
  PipelineOption::Option<std::string> kernelTarget{
      *this, "kernel-target",
      llvm::cl::desc("Kernel configuration to run: 'cpu', or 'gpu' to execute "
                     "exactly the arithmetic of the NVVM kernels"),
      llvm::cl::init("cpu")};
  PipelineOption::Option<bool> cInterface{
      *this, "c-interface",
      llvm::cl::desc("Emit C-callable wrappers (_mlir_ciface_*) for every "
                     "public function"),
      llvm::cl::init(false)};
  PipelineOption::Option<bool> parallel{
      *this, "parallel",
      llvm::cl::desc("Run large kernels on OpenMP threads (OMP_NUM_THREADS; "
                     "the module then needs libomp at run time)"),
      llvm::cl::init(true)};
  PipelineOption::Option<int64_t> parallelMinWork{
      *this, "parallel-min-work",
      llvm::cl::desc("Estimated operations below which a kernel stays "
                     "sequential (baq-kernels-to-parallel min-work)"),
      llvm::cl::init(32768)};
  PipelineOption::Option<bool> shareBlocks{
      *this, "share-blocks",
      llvm::cl::desc("Call one function per group of identical model blocks "
                     "(baq-share-blocks)"),
      llvm::cl::init(true)};
};

template <typename Derived>
struct NVVMTargetOptions : public KernelOptions<Derived> {
  PipelineOption::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("GPU architecture: sm_80, sm_90, ..."),
      llvm::cl::init("sm_80")};
  PipelineOption::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features; CUDA 13 needs at least +ptx80"),
      llvm::cl::init("+ptx80")};
  PipelineOption::Option<int> optLevel{
      *this, "opt-level", llvm::cl::desc("Device optimisation level"),
      llvm::cl::init(3)};
  PipelineOption::Option<bool> hostKernels{
      *this, "host-kernels",
      llvm::cl::desc("Also run the rest of each function's compute (linalg "
                     "ops, copies) as kernels (baq-host-to-gpu), so that "
                     "host code only launches; false: only the quantized "
                     "matmuls are kernels"),
      llvm::cl::init(true)};
};

/// The --baq-allocate options that matter in a compile flow, on top of a
/// lowering's options (the pass itself has all of them).
template <typename Base> struct QuantizeOptions : public Base {
  PipelineOption::Option<double> targetBits{
      *this, "target-bits",
      llvm::cl::desc("Average bits per weight to meet (see budget)"),
      llvm::cl::init(2.0)};
  PipelineOption::Option<BudgetKind> budget{
      *this, "budget", llvm::cl::desc("What target-bits constrains"),
      llvm::cl::init(BudgetKind::Payload),
      llvm::cl::values(
          clEnumValN(BudgetKind::Payload, "payload", "payload bits only"),
          clEnumValN(BudgetKind::Total, "total",
                     "payload plus every metadata bit"))};
  PipelineOption::Option<AllocatorKind> allocator{
      *this, "allocator", llvm::cl::desc("Integer bit allocation rule"),
      llvm::cl::init(AllocatorKind::Exact),
      llvm::cl::values(
          clEnumValN(AllocatorKind::Exact, "exact", "exact integer optimum"),
          clEnumValN(AllocatorKind::Paper, "paper", "the paper's Alg. 1-2"))};
  PipelineOption::Option<bool> uniform{
      *this, "uniform",
      llvm::cl::desc("Baseline: one bitwidth for every column"),
      llvm::cl::init(false)};
  PipelineOption::Option<int64_t> groupSize{
      *this, "group-size",
      llvm::cl::desc("Input channels per scale group (0: per row)"),
      llvm::cl::init(0)};
  PipelineOption::Option<ZeroTypeKind> zeroType{
      *this, "zero-type",
      llvm::cl::desc("Storage of each (row, group) minimum"),
      llvm::cl::init(ZeroTypeKind::U8),
      llvm::cl::values(
          clEnumValN(ZeroTypeKind::U8, "u8",
                     "an 8-bit code zq, z = -(s * zq) / 255"),
          clEnumValN(ZeroTypeKind::Auto, "auto", "the scales' float type"))};
  PipelineOption::Option<std::string> report{
      *this, "report", llvm::cl::desc("Write baq-allocate's JSON report here"),
      llvm::cl::init("")};
  PipelineOption::Option<bool> progress{
      *this, "progress",
      llvm::cl::desc("Print one progress line per matmul on stderr"),
      llvm::cl::init(true)};
};

struct LowerCPUOptions : public CPUTargetOptions<LowerCPUOptions> {};

/// baq-share-blocks: outlines the `baq.block` op ranges of `module`'s
/// functions and replaces every group of at least `minBlocks` ranges that are
/// the same code up to scalar constants by calls to one private function.
/// Returns the number of ranges replaced.
int64_t shareBlocks(ModuleOp module, int64_t minBlocks);

/// baq-drop-returned-arguments: removes the results of private functions,
/// called only by func.call in `module`, that return one of their memref
/// arguments; callers use the operand instead.
void dropReturnedArguments(ModuleOp module);
struct LowerNVVMOptions : public NVVMTargetOptions<LowerNVVMOptions> {};
struct QuantizeAndLowerCPUOptions
    : public QuantizeOptions<CPUTargetOptions<QuantizeAndLowerCPUOptions>> {};
struct QuantizeAndLowerNVVMOptions
    : public QuantizeOptions<NVVMTargetOptions<QuantizeAndLowerNVVMOptions>> {};

/// Adds baq-build-kernels through LLVM dialect for the CPU.
/// Each builder reports bad option values through `errorHandler` (stderr
/// when null) and fails instead of aborting.
using PipelineErrorHandler = function_ref<LogicalResult(const Twine &)>;

LogicalResult buildLowerCPUPipeline(OpPassManager &pm,
                                    const LowerCPUOptions &options,
                                    PipelineErrorHandler errorHandler = {});
/// Adds baq-build-kernels through gpu.launch_func + NVVM gpu.module, ready
/// for gpu-module-to-binary.
LogicalResult buildLowerNVVMPipeline(OpPassManager &pm,
                                     const LowerNVVMOptions &options,
                                     PipelineErrorHandler errorHandler = {});

/// Adds the first part of baq-lower-nvvm: the kernels in the GPU
/// configuration, bufferized, turned into gpu.launch and outlined into
/// gpu.modules whose gpu.funcs still hold scf/memref code. baq-lower-nvvm is
/// this plus the host and device lowering to LLVM/NVVM.
LogicalResult buildNVVMKernelsPipeline(OpPassManager &pm,
                                       const LowerNVVMOptions &options);
/// Adds the last part of baq-lower-cpu: bufferized loops, vectors and memrefs
/// to the LLVM dialect (with C wrappers if `cInterface`).
LogicalResult buildCPUToLLVMPipeline(OpPassManager &pm, bool cInterface);

/// Adds baq-allocate, then baq-lower-cpu.
LogicalResult
buildQuantizeAndLowerCPUPipeline(OpPassManager &pm,
                                 const QuantizeAndLowerCPUOptions &options,
                                 PipelineErrorHandler errorHandler = {});
/// Adds baq-allocate, then baq-lower-nvvm.
LogicalResult
buildQuantizeAndLowerNVVMPipeline(OpPassManager &pm,
                                  const QuantizeAndLowerNVVMOptions &options,
                                  PipelineErrorHandler errorHandler = {});

/// Registers the conversion passes and the baq-lower-cpu, baq-lower-nvvm,
/// baq-quantize-and-lower-cpu and baq-quantize-and-lower-nvvm pipelines. The
/// pipelines create every pass from typed options: they need no other pass
/// registered.
void registerBaqLoweringPasses();

} // namespace baq
} // namespace mlir

#endif // BAQ_CONVERSION_PASSES_H
