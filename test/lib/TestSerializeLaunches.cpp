//===- TestSerializeLaunches.cpp - Run outlined GPU kernels on the host ---===//
//
// The kernels baq-lower-nvvm builds are barrier-free, so a launch is
// equivalent to running its body once per (block, thread), in any order.
// baq-test-serialize-launches does exactly that on the outlined gpu.funcs,
// so the grid/block mapping, the guards and the index arithmetic that the
// NVVM kernels get are executed on the CPU (under mlir-runner) and compared
// with a reference; baq-test-lower-gpu-on-cpu is the pipeline around it.
//
//===----------------------------------------------------------------------===//

#include "TestPasses.h"

#include "baq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir {
namespace baq {
namespace test {
#define GEN_PASS_DEF_BAQTESTSERIALIZELAUNCHES
#include "TestPasses.h.inc"
} // namespace test
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

namespace {

/// Emits `cf.assert` that the three launch sizes `sizes` equal the kernel's
/// `known` sizes, if it has them: the NVVM lowering trusts them (reqntid,
/// ranges of the id registers), so a launch that disagrees is wrong on GPU.
void assertKnownSizes(OpBuilder &b, Location loc, ValueRange sizes,
                      std::optional<ArrayRef<int32_t>> known, StringRef what) {
  if (!known)
    return;
  for (auto [size, expected] : llvm::zip(sizes, *known)) {
    Value c = arith::ConstantIndexOp::create(b, loc, expected);
    Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, size, c);
    cf::AssertOp::create(
        b, loc, ok,
        ("launch " + what + " differs from the kernel's known_" + what).str());
  }
}

/// Checks that `kernel` can run as a loop body: one block, no memory
/// attributions, and no GPU op other than ids, dimensions and the return.
LogicalResult checkSerializable(gpu::GPUFuncOp kernel) {
  if (!kernel.getBody().hasOneBlock())
    return kernel.emitError("cannot serialize a kernel with several blocks");
  if (kernel.getNumWorkgroupAttributions() ||
      kernel.getNumPrivateAttributions())
    return kernel.emitError(
        "cannot serialize a kernel with memory attributions");
  WalkResult result = kernel.getBody().walk([](Operation *op) {
    if (!isa_and_present<gpu::GPUDialect>(op->getDialect()) ||
        isa<gpu::BlockIdOp, gpu::ThreadIdOp, gpu::GridDimOp, gpu::BlockDimOp,
            gpu::ReturnOp>(op))
      return WalkResult::advance();
    op->emitError("cannot serialize ") << op->getName() << " in a kernel";
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}

/// Builds `@name(kernel args..., grid x/y/z, block x/y/z)` running `kernel`
/// for every block and thread of that launch.
FailureOr<func::FuncOp> buildSerialKernel(OpBuilder &b, ModuleOp module,
                                          gpu::GPUFuncOp kernel, StringRef name,
                                          bool reverse) {
  if (failed(checkSerializable(kernel)))
    return failure();
  Location loc = kernel.getLoc();
  SmallVector<Type> argTypes(kernel.getArgumentTypes());
  argTypes.append(6, b.getIndexType());
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, loc, name,
                                   b.getFunctionType(argTypes, TypeRange()));
  func.setPrivate();
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  ValueRange args = entry->getArguments();
  ValueRange grid = args.slice(kernel.getNumArguments(), 3);
  ValueRange block = args.slice(kernel.getNumArguments() + 3, 3);
  assertKnownSizes(b, loc, grid, kernel.getKnownGridSize(), "grid_size");
  assertKnownSizes(b, loc, block, kernel.getKnownBlockSize(), "block_size");

  // Blocks z, y, x, then threads z, y, x, outermost first.
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value blockIds[3], threadIds[3];
  auto loop = [&](Value ub) -> Value {
    auto forOp = scf::ForOp::create(b, loc, c0, ub, c1);
    b.setInsertionPointToStart(forOp.getBody());
    Value iv = forOp.getInductionVar();
    if (!reverse)
      return iv;
    Value last = arith::SubIOp::create(b, loc, ub, c1);
    return arith::SubIOp::create(b, loc, last, iv);
  };
  for (int d = 2; d >= 0; --d)
    blockIds[d] = loop(grid[d]);
  for (int d = 2; d >= 0; --d)
    threadIds[d] = loop(block[d]);

  IRMapping map;
  Block &body = kernel.getBody().front();
  map.map(body.getArguments(), args.take_front(kernel.getNumArguments()));
  SmallVector<Operation *> clones;
  for (Operation &op : body.without_terminator())
    clones.push_back(b.clone(op, map));
  for (Operation *clone : clones) {
    clone->walk([&](Operation *op) {
      Value replacement;
      if (auto id = dyn_cast<gpu::BlockIdOp>(op))
        replacement = blockIds[static_cast<int>(id.getDimension())];
      else if (auto id = dyn_cast<gpu::ThreadIdOp>(op))
        replacement = threadIds[static_cast<int>(id.getDimension())];
      else if (auto dim = dyn_cast<gpu::GridDimOp>(op))
        replacement = grid[static_cast<int>(dim.getDimension())];
      else if (auto dim = dyn_cast<gpu::BlockDimOp>(op))
        replacement = block[static_cast<int>(dim.getDimension())];
      if (!replacement)
        return;
      op->getResult(0).replaceAllUsesWith(replacement);
      op->erase();
    });
  }
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc);
  return func;
}

/// Moves the symbols of `gpuModule` other than kernels (globals) into
/// `module`; an identical host symbol of the same name is reused.
LogicalResult moveDeviceSymbols(gpu::GPUModuleOp gpuModule, ModuleOp module,
                                SymbolTable &symbols) {
  for (Operation &op :
       llvm::make_early_inc_range(gpuModule.getBody()->getOperations())) {
    if (isa<gpu::GPUFuncOp>(op))
      continue;
    auto symbol = dyn_cast<SymbolOpInterface>(op);
    if (!symbol)
      return op.emitError("cannot serialize a gpu.module holding this op");
    Operation *existing = symbols.lookup(symbol.getName());
    if (!existing) {
      op.moveBefore(module.getBody(), module.getBody()->begin());
      symbols.insert(&op);
      continue;
    }
    if (!OperationEquivalence::isEquivalentTo(
            &op, existing, OperationEquivalence::ignoreValueEquivalence,
            /*markEquivalent=*/nullptr, OperationEquivalence::IgnoreLocations))
      return op.emitError("device symbol clashes with a different host "
                          "symbol of the same name");
  }
  return success();
}

struct BaqTestSerializeLaunchesPass
    : public test::impl::BaqTestSerializeLaunchesBase<
          BaqTestSerializeLaunchesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(&getContext());
    SymbolTable symbols(module);
    llvm::DenseMap<Operation *, func::FuncOp> serial;

    SmallVector<gpu::LaunchFuncOp> launches;
    module.walk([&](gpu::LaunchFuncOp op) { launches.push_back(op); });
    for (gpu::LaunchFuncOp launch : launches) {
      if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
          launch.getDynamicSharedMemorySize() || launch.hasClusterSize()) {
        launch.emitError("cannot serialize an asynchronous, clustered or "
                         "shared-memory launch");
        return signalPassFailure();
      }
      auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
          launch, launch.getKernel());
      if (!kernel) {
        launch.emitError("kernel not found");
        return signalPassFailure();
      }
      func::FuncOp &func = serial[kernel];
      if (!func) {
        std::string name = ("__serial_" + launch.getKernelModuleName().str() +
                            "_" + launch.getKernelName().str());
        FailureOr<func::FuncOp> built =
            buildSerialKernel(b, module, kernel, name, reverse);
        if (failed(built))
          return signalPassFailure();
        func = *built;
        symbols.insert(func);
      }
      b.setInsertionPoint(launch);
      SmallVector<Value> operands(launch.getKernelOperands());
      gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
      gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
      operands.append({grid.x, grid.y, grid.z, block.x, block.y, block.z});
      func::CallOp::create(b, launch.getLoc(), func, operands);
      launch.erase();
    }

    for (auto gpuModule :
         llvm::make_early_inc_range(module.getOps<gpu::GPUModuleOp>())) {
      if (failed(moveDeviceSymbols(gpuModule, module, symbols)))
        return signalPassFailure();
      gpuModule.erase();
    }
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());

    // Host-shared buffers are plain host buffers here.
    SmallVector<Operation *> hostOps;
    module.walk([&](Operation *op) {
      if (isa_and_present<gpu::GPUDialect>(op->getDialect()))
        hostOps.push_back(op);
    });
    // Users first: an async dealloc before the gpu.wait that made its token.
    for (Operation *op : llvm::reverse(hostOps)) {
      b.setInsertionPoint(op);
      if (auto alloc = dyn_cast<gpu::AllocOp>(op);
          alloc && !alloc.getAsyncToken()) {
        auto replacement = memref::AllocOp::create(
            b, alloc.getLoc(), alloc.getType(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), IntegerAttr());
        alloc.getMemref().replaceAllUsesWith(replacement.getResult());
        alloc.erase();
      } else if (auto dealloc = dyn_cast<gpu::DeallocOp>(op);
                 dealloc && (!dealloc.getAsyncToken() ||
                             dealloc.getAsyncToken().use_empty())) {
        memref::DeallocOp::create(b, dealloc.getLoc(), dealloc.getMemref());
        dealloc.erase();
      } else if (auto wait = dyn_cast<gpu::WaitOp>(op);
                 wait &&
                 (!wait.getAsyncToken() || wait.getAsyncToken().use_empty())) {
        // Host and "device" are one thread: nothing to wait for.
        wait.erase();
      } else {
        op->emitError("cannot serialize ") << op->getName() << " on the host";
        return signalPassFailure();
      }
    }
  }
};

/// baq-lower-nvvm's options plus the order of the serialized loops.
struct LowerGpuOnCpuOptions : public LowerNVVMOptions {
  PipelineOption::Option<bool> reverse{
      *this, "reverse",
      llvm::cl::desc("Serialize blocks and threads last to first"),
      llvm::cl::init(false)};
};

} // namespace

void mlir::baq::test::registerBaqTestPassesAndPipelines() {
  registerBaqTestPasses();
  registerPassPipeline(
      "baq-test-lower-gpu-on-cpu",
      "baq-lower-nvvm up to outlined gpu.funcs, then the launches serialized "
      "(baq-test-serialize-launches) with runtime bounds checks and lowered "
      "like baq-lower-cpu: the NVVM kernels' mapping, executable by "
      "mlir-runner",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        LowerGpuOnCpuOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        if (failed(buildNVVMKernelsPipeline(pm, options)))
          return failure();
        BaqTestSerializeLaunchesOptions serialize;
        serialize.reverse = options.reverse;
        pm.addPass(test::createBaqTestSerializeLaunches(serialize));
        // Out-of-bounds loads, stores and subviews (a thread past its guard,
        // a swapped id) abort the run instead of writing a neighbour.
        if (failed(parsePassPipeline("generate-runtime-verification{verbose-"
                                     "level=0}",
                                     pm, llvm::errs())))
          return failure();
        return buildCPUToLLVMPipeline(pm, /*cInterface=*/false);
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> handler) {
        handler(LowerGpuOnCpuOptions());
      });
}
