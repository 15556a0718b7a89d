//===- Pipelines.cpp - The lowering and quantize-and-lower pipelines ------===//
//
// Both pipelines start with baq-build-kernels and one-shot bufferization;
// the CPU one turns the kernel nests into (OpenMP-parallel) loops, the NVVM
// one into gpu.launch, outlines kernels and lowers host and device to
// LLVM/NVVM. Every pass is created from its typed options, so the pipelines
// work in any tool that registers them, whatever else it registers.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::baq;

/// Reports a pipeline construction error: through the registry's handler
/// when the pipeline is parsed from a string, else on stderr.
using ErrorHandler = PipelineErrorHandler;

static LogicalResult printError(const Twine &message) {
  llvm::errs() << message << "\n";
  return failure();
}

/// baq-build-kernels' options from a pipeline's kernel options; the string
/// options are checked here (the pass validates the numbers).
template <typename Options>
static FailureOr<BaqBuildKernelsOptions>
buildKernelsOptions(const Options &o, KernelTarget target, StringRef pipeline,
                    ErrorHandler fail) {
  BaqBuildKernelsOptions k;
  k.target = target;
  k.rowsPerThread = o.rowsPerThread;
  k.accumulators = o.accumulators;
  k.kSplit = o.kSplit;
  k.unroll = o.unroll;
  k.threadsPerBlock = o.threadsPerBlock;
  k.decodeMaxRows = o.decodeMaxRows;
  k.tileRows = o.tileRows;
  std::optional<DequantType> dequant =
      llvm::StringSwitch<std::optional<DequantType>>(o.dequantType.getValue())
          .Case("default", DequantType::Default)
          .Case("f16", DequantType::F16)
          .Case("f32", DequantType::F32)
          .Default(std::nullopt);
  if (!dequant) {
    (void)fail(pipeline + ": dequant-type must be default, f16 or f32, got '" +
               o.dequantType.getValue() + "'");
    return failure();
  }
  k.dequantType = *dequant;
  std::optional<UnpackKind> unpack =
      llvm::StringSwitch<std::optional<UnpackKind>>(o.unpack.getValue())
          .Case("default", UnpackKind::Default)
          .Case("convert", UnpackKind::Convert)
          .Case("magic", UnpackKind::Magic)
          .Case("half2", UnpackKind::Half2)
          .Default(std::nullopt);
  if (!unpack) {
    (void)fail(pipeline +
               ": unpack must be default, convert, magic or half2, got '" +
               o.unpack.getValue() + "'");
    return failure();
  }
  k.unpack = *unpack;
  std::optional<KernelsKind> kernels =
      llvm::StringSwitch<std::optional<KernelsKind>>(o.kernels.getValue())
          .Case("default", KernelsKind::Default)
          .Case("specialized", KernelsKind::Specialized)
          .Case("shared", KernelsKind::Shared)
          .Default(std::nullopt);
  if (!kernels) {
    (void)fail(pipeline +
               ": kernels must be default, specialized or shared, got '" +
               o.kernels.getValue() + "'");
    return failure();
  }
  k.kernels = *kernels;
  return k;
}

/// Whether the CPU lowering puts a buffer on the stack instead of a
/// malloc/free per call: a decode step's intermediates (activation rows up
/// to dim 16384, norms' sums), not a prefill window's activations. Only at
/// a function's top level: an alloca in a kernel's loop body would grow the
/// stack per iteration (or keep its alloca_scope from being inlined).
static bool isStackBuffer(Value alloc) {
  constexpr int64_t maxBytes = 64 * 1024;
  auto type = dyn_cast<MemRefType>(alloc.getType());
  Operation *op = alloc.getDefiningOp();
  if (!type || !op || !isa_and_nonnull<func::FuncOp>(op->getParentOp()) ||
      !type.hasStaticShape() || !type.getElementType().isIntOrFloat())
    return false;
  return type.getNumElements() * type.getElementTypeBitWidth() <= maxBytes * 8;
}

/// baq-build-kernels, constants to globals, one-shot bufferization with
/// identity-layout function boundaries and the deallocation pipeline. On the
/// CPU, unquantized matmuls (the f32 classifier) become vector nests too and
/// the model's other reductions run over contiguous, vectorisable loops.
static void addKernelsAndBufferize(OpPassManager &pm,
                                   const BaqBuildKernelsOptions &kernels,
                                   bool cpu, bool shareBlocks = false) {
  pm.addPass(createBaqBuildKernels(kernels));
  if (cpu) {
    pm.addPass(createBaqDenseMatmul());
    pm.addPass(createBaqContiguousReductions());
  }
  BaqConstantsToGlobalsOptions globals;
  globals.parameters = cpu;
  pm.addPass(createBaqConstantsToGlobals(globals));
  // With the kernels built and the weights and tables globals, blocks of the
  // same shape differ only in those globals and their cache layer.
  if (shareBlocks)
    pm.addPass(createBaqShareBlocks());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  if (cpu) {
    pm.addPass(createBaqDropReturnedArguments());
    pm.addNestedPass<func::FuncOp>(
        bufferization::createPromoteBuffersToStackPass(isStackBuffer));
  }
  bufferization::buildBufferDeallocationPipeline(
      pm, bufferization::BufferDeallocationPipelineOptions());
  if (cpu)
    pm.addPass(createBaqReturnArgumentsInPlace());
  pm.addPass(createConvertBufferizationToMemRefPass());
}

/// Upstream's NVVM target verifier aborts on an empty chip and only checks
/// the SM number: check the option strings before handing them on.
template <typename Options>
static LogicalResult verifyNVVMTarget(const Options &o, ErrorHandler fail) {
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

/// The end of baq-lower-cpu: bufferized loops and memrefs to LLVM dialect.
static void addCPUToLLVM(OpPassManager &pm, bool cInterface) {
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createLowerAffinePass());
  // Fully unrolled: the tiled kernels' vector<32 x V> panel writes would
  // otherwise go through an alloca per chunk inside the loops, which grows
  // the stack until it overflows (2816 x 1024, 32 rows).
  pm.addPass(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertVectorToLLVMPass());
  // ub.poison: the canonicalizer's base of a fully overwritten vector (the
  // tiled kernel's 32 x V chunk blocks).
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  if (cInterface)
    pm.addNestedPass<func::FuncOp>(LLVM::createLLVMRequestCWrappersPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
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
  FailureOr<BaqBuildKernelsOptions> kernels = buildKernelsOptions(
      o, o.kernelTarget == "gpu" ? KernelTarget::GPU : KernelTarget::CPU,
      "baq-lower-cpu", fail);
  if (failed(kernels))
    return failure();
  addKernelsAndBufferize(pm, *kernels, /*cpu=*/true, o.shareBlocks);
  if (o.parallel) {
    BaqKernelsToParallelOptions parallel;
    parallel.minWork = o.parallelMinWork;
    pm.addPass(createBaqKernelsToParallel(parallel));
    pm.addPass(createConvertSCFToOpenMPPass());
  }
  addCPUToLLVM(pm, o.cInterface);
  return success();
}

/// The first half of baq-lower-nvvm: GPU kernels as outlined gpu.funcs.
template <typename Options>
static LogicalResult addNVVMKernels(OpPassManager &pm, const Options &o,
                                    ErrorHandler fail) {
  FailureOr<BaqBuildKernelsOptions> kernels =
      buildKernelsOptions(o, KernelTarget::GPU, "baq-lower-nvvm", fail);
  if (failed(kernels))
    return failure();
  addKernelsAndBufferize(pm, *kernels, /*cpu=*/false);
  pm.addPass(createBaqKernelsToGpu());
  if (o.hostKernels)
    pm.addPass(createBaqHostToGpu());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createSymbolDCEPass());
  return success();
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
  pm.nest<gpu::GPUModuleOp>().addPass(createBaqFuseLop3());
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createForallToForLoopPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  GpuNVVMAttachTargetOptions target;
  target.chip = o.chip;
  target.features = o.features;
  target.optLevel = o.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createConvertVectorToLLVMPass());
  pm.nest<gpu::GPUModuleOp>().addPass(createBaqMathToLibdevice());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createConvertGpuOpsToNVVMOps());
  device.addPass(createCanonicalizerPass());
  device.addPass(createCSEPass());
  device.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createSymbolDCEPass());
  return success();
}

template <typename Options>
static BaqAllocateOptions allocateOptions(const Options &o) {
  BaqAllocateOptions a;
  a.targetBits = o.targetBits;
  a.budget = o.budget;
  a.allocator = o.allocator;
  a.uniform = o.uniform;
  a.groupSize = o.groupSize;
  a.zeroType = o.zeroType;
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
  addCPUToLLVM(pm, cInterface);
  return success();
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
