//===- Pipelines.cpp - The lowering and quantize-and-lower pipelines ------===//
//
// Both pipelines start with baq-build-kernels and one-shot bufferization;
// the CPU one turns the kernel nests into loops, the NVVM one into
// gpu.launch, outlines kernels and lowers host and device to LLVM/NVVM. The
// upstream passes are named textually: they are registered by any tool that
// registers the upstream passes (baq-opt, mlir-opt-like drivers), and this
// avoids parsing every conversion header.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::baq;

namespace {

/// Common kernel options in baq-build-kernels syntax.
template <typename Options>
std::string kernelOptions(const Options &o, StringRef target) {
  return llvm::formatv("target={0} rows-per-thread={1} accumulators={2} "
                       "k-split={3} threads-per-block={4} decode-max-rows={5} "
                       "tile-rows={6} dequant-type={7} unpack={8} unroll={9}",
                       target, o.rowsPerThread.getValue(),
                       o.accumulators.getValue(), o.kSplit.getValue(),
                       o.threadsPerBlock.getValue(), o.decodeMaxRows.getValue(),
                       o.tileRows.getValue(), o.dequantType.getValue(),
                       o.unpack.getValue(), o.unroll.getValue())
      .str();
}

/// Reports a pipeline construction error: through the registry's handler
/// when the pipeline is parsed from a string, else on stderr.
using ErrorHandler = PipelineErrorHandler;

LogicalResult printError(const Twine &message) {
  llvm::errs() << message << "\n";
  return failure();
}

LogicalResult addPipeline(OpPassManager &pm, StringRef text,
                          ErrorHandler fail) {
  std::string errors;
  llvm::raw_string_ostream os(errors);
  if (failed(parsePassPipeline(text, pm, os)))
    return fail("baq: cannot build pipeline (are the upstream passes "
                "registered?): " +
                errors);
  return success();
}

/// Upstream's NVVM target verifier aborts on an empty chip and only checks
/// the SM number: check the option strings before handing them on.
template <typename Options>
LogicalResult verifyNVVMTarget(const Options &o, ErrorHandler fail) {
  llvm::Regex chip("^sm_[0-9]+[af]?$"), features("^([+-][a-z0-9_.]+(,|$))*$");
  if (!chip.match(o.chip.getValue()))
    return fail("baq-lower-nvvm: chip must name an SM architecture such as "
                "sm_80 or sm_90a, got '" +
                o.chip.getValue() + "'");
  unsigned sm = 0;
  if (StringRef(o.chip.getValue())
          .drop_front(3)
          .take_while(llvm::isDigit)
          .getAsInteger(10, sm) ||
      sm < 50)
    return fail("baq-lower-nvvm: chip " + o.chip.getValue() +
                " is older than sm_50, the oldest CUDA 12+ compiles for");
  if (!features.match(o.features.getValue()))
    return fail("baq-lower-nvvm: features must be a comma-separated list of "
                "+feature/-feature (e.g. +ptx80), got '" +
                o.features.getValue() + "'");
  if (o.optLevel < 0 || o.optLevel > 3)
    return fail("baq-lower-nvvm: opt-level must be in [0, 3], got " +
                Twine(o.optLevel.getValue()));
  return success();
}

constexpr StringLiteral kBufferize =
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref";

} // namespace

/// The end of baq-lower-cpu: bufferized loops and memrefs to LLVM dialect.
static LogicalResult addCPUToLLVM(OpPassManager &pm, bool cInterface,
                                  ErrorHandler fail) {
  std::string text = llvm::formatv(
      "convert-linalg-to-loops,scf-forall-to-parallel,canonicalize,cse,"
      "lower-affine,convert-vector-to-scf,convert-scf-to-cf,"
      "expand-strided-metadata,lower-affine,convert-vector-to-llvm,"
      "convert-math-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
      "finalize-memref-to-llvm,{0}convert-func-to-llvm,convert-cf-to-llvm,"
      "convert-openmp-to-llvm,reconcile-unrealized-casts,canonicalize,cse",
      cInterface ? "func.func(llvm-request-c-wrappers)," : "");
  return addPipeline(pm, text, fail);
}

/// baq-lower-cpu for any options type with the CPU target's options.
template <typename Options>
static LogicalResult addLowerCPU(OpPassManager &pm, const Options &o,
                                 ErrorHandler fail) {
  if (o.kernelTarget != "cpu" && o.kernelTarget != "gpu")
    return fail("baq-lower-cpu: kernel-target must be 'cpu' or 'gpu', got '" +
                o.kernelTarget.getValue() + "'");
  if (o.parallelMinWork < 0)
    return fail("baq-lower-cpu: parallel-min-work must be >= 0, got " +
                Twine(o.parallelMinWork.getValue()));
  std::string text =
      llvm::formatv("baq-build-kernels{{{0}},baq-constants-to-globals,{1}",
                    kernelOptions(o, o.kernelTarget.getValue()), kBufferize);
  if (o.parallel)
    text += llvm::formatv(",baq-kernels-to-parallel{{min-work={0}},"
                          "convert-scf-to-openmp",
                          o.parallelMinWork.getValue());
  return failure(failed(addPipeline(pm, text, fail)) ||
                 failed(addCPUToLLVM(pm, o.cInterface, fail)));
}

/// The first half of baq-lower-nvvm: GPU kernels as outlined gpu.funcs.
template <typename Options>
static LogicalResult addNVVMKernels(OpPassManager &pm, const Options &o,
                                    ErrorHandler fail) {
  std::string text =
      llvm::formatv("baq-build-kernels{{{0}},baq-constants-to-globals,{1},"
                    "baq-kernels-to-gpu,gpu-kernel-outlining,symbol-dce",
                    kernelOptions(o, "gpu"), kBufferize);
  return addPipeline(pm, text, fail);
}

/// baq-lower-nvvm for any options type with the NVVM target's options.
template <typename Options>
static LogicalResult addLowerNVVM(OpPassManager &pm, const Options &o,
                                  ErrorHandler fail) {
  if (failed(verifyNVVMTarget(o, fail)) || failed(addNVVMKernels(pm, o, fail)))
    return failure();
  // Mirrors upstream gpu-lower-to-nvvm-pipeline, minus gpu-module-to-binary
  // (left to the user, e.g. format=isa for PTX), with a chip CUDA 12+
  // accepts by default.
  std::string text = llvm::formatv(
      "gpu.module(baq-fuse-lop3),"
      "convert-linalg-to-loops,scf-forall-to-for,lower-affine,"
      "convert-vector-to-scf,convert-scf-to-cf,convert-nvvm-to-llvm,"
      "expand-strided-metadata,lower-affine,"
      "nvvm-attach-target{{chip={0} features={1} O={2}},"
      "convert-vector-to-llvm,convert-math-to-llvm,convert-func-to-llvm,"
      "convert-arith-to-llvm,convert-index-to-llvm,canonicalize,cse,"
      "gpu.module(convert-gpu-to-nvvm,canonicalize,cse,"
      "reconcile-unrealized-casts),"
      "gpu-to-llvm,reconcile-unrealized-casts,canonicalize,cse,symbol-dce",
      o.chip.getValue(), o.features.getValue(), o.optLevel.getValue());
  return addPipeline(pm, text, fail);
}

template <typename Options>
static BaqAllocateOptions allocateOptions(const Options &o) {
  BaqAllocateOptions a;
  a.targetBits = o.targetBits;
  a.budget = o.budget;
  a.allocator = o.allocator;
  a.uniform = o.uniform;
  a.groupSize = o.groupSize;
  a.reportFile = o.report;
  a.progress = o.progress;
  return a;
}

LogicalResult mlir::baq::buildLowerCPUPipeline(OpPassManager &pm,
                                               const LowerCPUOptions &o,
                                               ErrorHandler fail) {
  return addLowerCPU(pm, o, fail ? fail : printError);
}

LogicalResult mlir::baq::buildLowerNVVMPipeline(OpPassManager &pm,
                                                const LowerNVVMOptions &o,
                                                ErrorHandler fail) {
  return addLowerNVVM(pm, o, fail ? fail : printError);
}

LogicalResult mlir::baq::buildNVVMKernelsPipeline(OpPassManager &pm,
                                                  const LowerNVVMOptions &o) {
  return addNVVMKernels(pm, o, printError);
}

LogicalResult mlir::baq::buildCPUToLLVMPipeline(OpPassManager &pm,
                                                bool cInterface) {
  return addCPUToLLVM(pm, cInterface, printError);
}

LogicalResult mlir::baq::buildQuantizeAndLowerCPUPipeline(
    OpPassManager &pm, const QuantizeAndLowerCPUOptions &o, ErrorHandler fail) {
  pm.addPass(createBaqAllocate(allocateOptions(o)));
  return addLowerCPU(pm, o, fail ? fail : printError);
}

LogicalResult mlir::baq::buildQuantizeAndLowerNVVMPipeline(
    OpPassManager &pm, const QuantizeAndLowerNVVMOptions &o,
    ErrorHandler fail) {
  pm.addPass(createBaqAllocate(allocateOptions(o)));
  return addLowerNVVM(pm, o, fail ? fail : printError);
}

/// Registers a pipeline whose builder can fail with a message (bad option
/// values) instead of aborting.
template <typename Options>
static void registerPipeline(StringRef arg, StringRef description,
                             LogicalResult (*build)(OpPassManager &,
                                                    const Options &,
                                                    ErrorHandler)) {
  registerPassPipeline(
      arg, description,
      [build](OpPassManager &pm, StringRef text,
              function_ref<LogicalResult(const Twine &)> errorHandler) {
        Options options;
        if (failed(options.parseFromString(text)))
          return failure();
        return build(pm, options, errorHandler);
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> handler) {
        handler(Options());
      });
}

void mlir::baq::registerBaqLoweringPasses() {
  registerBaqConversionPasses();
  registerPipeline<LowerCPUOptions>(
      "baq-lower-cpu",
      "Lower quantized matmuls to CPU loops and everything to the LLVM "
      "dialect (runnable by mlir-runner)",
      buildLowerCPUPipeline);
  registerPipeline<LowerNVVMOptions>(
      "baq-lower-nvvm",
      "Lower quantized matmuls to gpu.launch_func + NVVM kernels reading the "
      "packed weights, ready for gpu-module-to-binary",
      buildLowerNVVMPipeline);
  registerPipeline<QuantizeAndLowerCPUOptions>(
      "baq-quantize-and-lower-cpu",
      "baq-allocate, then baq-lower-cpu: from float weights with Hessians to "
      "LLVM dialect in one pipeline",
      buildQuantizeAndLowerCPUPipeline);
  registerPipeline<QuantizeAndLowerNVVMOptions>(
      "baq-quantize-and-lower-nvvm",
      "baq-allocate, then baq-lower-nvvm: from float weights with Hessians to "
      "gpu.launch_func + NVVM kernels in one pipeline",
      buildQuantizeAndLowerNVVMPipeline);
}
