//===- HostToGpu.cpp - The rest of the host's buffer compute to gpu.launch ===//
//
// After baq-kernels-to-gpu only the projections are kernels; the rest of a
// model (embedding gather, norms, RoPE, attention, softmax, SwiGLU, the
// unquantized classifier, the KV-cache copies) is bufferized linalg on the
// host. Each such op becomes one gpu.launch: its parallel dimensions
// flattened into one index space of N points over ceil(N / B) blocks of B
// threads (one point per thread, guarded), its reduction dimensions loops
// inside each thread. An op with no leading parallel dimension runs on one
// thread. The host keeps only index arithmetic, views, allocation and the
// launches.
//
//===----------------------------------------------------------------------===//

#include "GpuBuffers.h"
#include "baq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQHOSTTOGPU
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

namespace {

/// Creates an empty gpu.launch of `grid` x `block` threads (x only) before
/// the rewriter's insertion point; leaves the insertion point in its body.
gpu::LaunchOp createLaunch(RewriterBase &rewriter, Location loc, Value grid,
                           Value block) {
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  auto launch =
      gpu::LaunchOp::create(rewriter, loc, grid, one, one, block, one, one);
  rewriter.setInsertionPointToEnd(&launch.getBody().front());
  gpu::TerminatorOp::create(rewriter, loc);
  rewriter.setInsertionPointToStart(&launch.getBody().front());
  return launch;
}

/// Moves `op` alone into a launch of one thread.
gpu::LaunchOp launchOnOneThread(RewriterBase &rewriter, Operation *op) {
  rewriter.setInsertionPoint(op);
  Value one = arith::ConstantIndexOp::create(rewriter, op->getLoc(), 1);
  gpu::LaunchOp launch = createLaunch(rewriter, op->getLoc(), one, one);
  rewriter.moveOpBefore(op, launch.getBody().front().getTerminator());
  return launch;
}

/// Replaces the host scf.parallel `loop` (no reductions) by a launch with one
/// thread per point of its iteration space; by nothing (a null launch) if
/// that space is statically empty.
FailureOr<gpu::LaunchOp> launchParallelLoop(RewriterBase &rewriter,
                                            scf::ParallelOp loop,
                                            int64_t blockSize) {
  if (loop.getNumReductions() != 0)
    return loop.emitError("baq-host-to-gpu: scf.parallel with reductions "
                          "is not supported");
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  // Trip counts and their product N, on the host (index arithmetic, folded
  // for static shapes).
  SmallVector<Value> trips;
  Value total = arith::ConstantIndexOp::create(rewriter, loc, 1);
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = rewriter.createOrFold<arith::SubIOp>(loc, ub, lb);
    Value trip = rewriter.createOrFold<arith::CeilDivSIOp>(loc, span, step);
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    trip = rewriter.createOrFold<arith::MaxSIOp>(loc, trip, zero);
    trips.push_back(trip);
    total = rewriter.createOrFold<arith::MulIOp>(loc, total, trip);
  }
  // Small static spaces get one block of exactly N threads.
  std::optional<int64_t> staticTotal = getConstantIntValue(total);
  // A statically empty space (a 0-row product's copy) launches nothing.
  if (staticTotal == 0) {
    rewriter.eraseOp(loop);
    return gpu::LaunchOp();
  }
  int64_t block =
      staticTotal ? std::clamp<int64_t>(*staticTotal, 1, blockSize) : blockSize;
  Value blockValue = arith::ConstantIndexOp::create(rewriter, loc, block);
  // At least one block: CUDA rejects an empty grid; the guard below keeps
  // its threads idle when N = 0.
  Value grid =
      rewriter.createOrFold<arith::CeilDivUIOp>(loc, total, blockValue);
  grid = rewriter.createOrFold<arith::MaxUIOp>(
      loc, grid, arith::ConstantIndexOp::create(rewriter, loc, 1));
  if (staticTotal && (*staticTotal + block - 1) / block > kMaxGridX)
    return loop.emitError("baq-host-to-gpu: ")
           << *staticTotal << " points need more than CUDA's " << kMaxGridX
           << " blocks";

  gpu::LaunchOp launch = createLaunch(rewriter, loc, grid, blockValue);
  // id = blockIdx.x * B + threadIdx.x; if (id < N) { body at the point id }.
  Value id =
      arith::MulIOp::create(rewriter, loc, launch.getBlockIds().x, blockValue);
  id = arith::AddIOp::create(rewriter, loc, id, launch.getThreadIds().x);
  Value inside = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult,
                                       id, total);
  auto guard = scf::IfOp::create(rewriter, loc, inside, /*withElse=*/false);
  rewriter.setInsertionPointToStart(&guard.getThenRegion().front());
  // Delinearize, last dimension fastest (contiguous threads, contiguous
  // innermost elements).
  IRMapping map;
  Value rest = id;
  int64_t rank = loop.getNumLoops();
  SmallVector<Value> ivs(rank);
  for (int64_t d = rank - 1; d >= 0; --d) {
    Value pointInDim = rest;
    if (d > 0) {
      pointInDim = arith::RemUIOp::create(rewriter, loc, rest, trips[d]);
      rest = arith::DivUIOp::create(rewriter, loc, rest, trips[d]);
    }
    Value scaled =
        arith::MulIOp::create(rewriter, loc, pointInDim, loop.getStep()[d]);
    ivs[d] =
        arith::AddIOp::create(rewriter, loc, loop.getLowerBound()[d], scaled);
  }
  map.map(loop.getInductionVars(), ivs);
  for (Operation &op : loop.getBody()->without_terminator())
    rewriter.clone(op, map);
  rewriter.eraseOp(loop);
  return launch;
}

/// Turns one buffer-semantics linalg op into a launch.
FailureOr<gpu::LaunchOp>
launchLinalgOp(RewriterBase &rewriter, linalg::LinalgOp op, int64_t blockSize) {
  if (!op.hasPureBufferSemantics())
    return op.emitError("baq-host-to-gpu: expected a bufferized linalg op");
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (iterators.empty() || iterators.front() != utils::IteratorType::parallel) {
    // No leading parallel dimension (a scalar op or a full reduction): one
    // thread runs the loops.
    gpu::LaunchOp launch = launchOnOneThread(rewriter, op);
    rewriter.setInsertionPoint(op);
    if (failed(linalg::linalgOpToLoops(rewriter, op)))
      return op.emitError("baq-host-to-gpu: cannot lower to loops");
    rewriter.eraseOp(op);
    return launch;
  }
  rewriter.setInsertionPoint(op);
  FailureOr<linalg::LinalgLoops> loops =
      linalg::linalgOpToParallelLoops(rewriter, op);
  if (failed(loops) || loops->empty())
    return op.emitError("baq-host-to-gpu: cannot lower to parallel loops");
  rewriter.eraseOp(op);
  auto outer = dyn_cast<scf::ParallelOp>(loops->front());
  if (!outer)
    return launchOnOneThread(rewriter, loops->front());
  return launchParallelLoop(rewriter, outer, blockSize);
}

/// A global's buffer that reaches a call or a return outside kernels (e.g. a
/// constant input passed to a function that launches kernels) is copied into
/// managed memory there: a kernel cannot read a host global.
void stageGlobals(RewriterBase &rewriter, FunctionOpInterface func) {
  SmallVector<memref::GetGlobalOp> globals;
  func.walk([&](memref::GetGlobalOp op) {
    if (!op->getParentOfType<gpu::LaunchOp>())
      globals.push_back(op);
  });
  for (memref::GetGlobalOp get : globals) {
    SmallVector<OpOperand *> escaping;
    for (OpOperand &use : get->getUses())
      if (isa<func::CallOp, func::ReturnOp>(use.getOwner()))
        escaping.push_back(&use);
    auto type = cast<MemRefType>(get.getType());
    if (escaping.empty() || !type.getLayout().isIdentity())
      continue;
    rewriter.setInsertionPointAfter(get);
    auto alloc = gpu::AllocOp::create(rewriter, get.getLoc(), type, Type(),
                                      ValueRange(), ValueRange(), ValueRange(),
                                      /*hostShared=*/true);
    memref::CopyOp::create(rewriter, get.getLoc(), get.getResult(),
                           alloc.getMemref());
    for (OpOperand *use : escaping)
      rewriter.modifyOpInPlace(use->getOwner(),
                               [&] { use->set(alloc.getMemref()); });
  }
}

struct BaqHostToGpuPass
    : public mlir::baq::impl::BaqHostToGpuBase<BaqHostToGpuPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize < 1 || blockSize > 1024) {
      module.emitError("baq-host-to-gpu: block-size must be in [1, 1024], "
                       "got ")
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    SmallVector<FunctionOpInterface> funcs;
    for (auto func : module.getOps<FunctionOpInterface>())
      if (!func.isExternal())
        funcs.push_back(func);
    for (FunctionOpInterface func : funcs) {
      // Host compute: linalg ops and copies outside launches.
      SmallVector<Operation *> work;
      func.walk([&](Operation *op) {
        if (op->getParentOfType<gpu::LaunchOp>())
          return;
        if (isa<linalg::LinalgOp, memref::CopyOp>(op))
          work.push_back(op);
      });
      for (Operation *op : work) {
        if (auto copy = dyn_cast<memref::CopyOp>(op)) {
          rewriter.setInsertionPoint(copy);
          op = linalg::CopyOp::create(rewriter, copy.getLoc(), copy.getSource(),
                                      copy.getTarget());
          rewriter.eraseOp(copy);
        }
        // Kernels named <function>_<op>, e.g. forward_generic (outlining
        // numbers repeats).
        std::string kind = op->getName().stripDialect().str();
        std::string name = (func.getName() + "_" + kind).str();
        FailureOr<gpu::LaunchOp> launch =
            launchLinalgOp(rewriter, cast<linalg::LinalgOp>(op), blockSize);
        if (failed(launch))
          return signalPassFailure();
        if (!*launch)
          continue;
        launch->setModuleAttr(FlatSymbolRefAttr::get(&getContext(), name));
        launch->setFunctionAttr(FlatSymbolRefAttr::get(&getContext(), kind));
        sinkConstantsAndGlobals(rewriter, *launch);
      }
      allocateOnDevice(rewriter, func);
      stageGlobals(rewriter, func);
    }
  }
};

} // namespace
