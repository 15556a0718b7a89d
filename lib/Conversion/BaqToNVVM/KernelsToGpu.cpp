//===- KernelsToGpu.cpp - Block/thread scf.forall nests to gpu.launch -----===//
//
// After bufferization a kernel nest is
//
//   scf.forall (%o..., %bx) in (...) {          // #gpu.block<y|z>, <x>
//     <index arithmetic, subviews>
//     scf.forall (%t) in (%n) { body }          // #gpu.thread<x>, %n <= T
//   }
//
// and becomes gpu.launch with that grid and T threads, predicated on
// %t < %n. The conversion is this direct because the builder guarantees the
// shape (barrier-free bodies, constant grid, constant thread bound).
//
//===----------------------------------------------------------------------===//

#include "../KernelNest.h"
#include "GpuBuffers.h"
#include "baq/Conversion/BaqToKernels.h"
#include "baq/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQKERNELSTOGPU
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

namespace {

constexpr int64_t kMaxGridYZ = 65535;

LogicalResult convertNest(RewriterBase &rewriter, scf::ForallOp outer) {
  FailureOr<KernelNest> nest = matchKernelNest(outer, "baq-kernels-to-gpu");
  if (failed(nest))
    return failure();
  scf::ForallOp inner = nest->inner;

  Location loc = outer.getLoc();
  rewriter.setInsertionPoint(outer);
  SmallVector<int64_t> grid = {1, 1, 1};
  SmallVector<int64_t> dimOfIv;
  ArrayAttr mapping = *outer.getMapping();
  for (auto [extent, attr] : llvm::zip(nest->grid, mapping)) {
    // Linear ids (#gpu.block<linear_dim_N>) would need delinearization; the
    // kernel builder never emits them.
    auto dim =
        static_cast<int64_t>(cast<gpu::GPUBlockMappingAttr>(attr).getBlock());
    if (dim > static_cast<int64_t>(gpu::MappingId::DimZ) ||
        llvm::is_contained(dimOfIv, dim))
      return outer.emitError("block mapping must use each of "
                             "#gpu.block<x>, <y>, <z> at most once, got ")
             << mapping;
    // CUDA's grid limits: 2^31 - 1 blocks in x, 65535 in y and z.
    int64_t limit = dim == 0 ? kMaxGridX : kMaxGridYZ;
    if (extent < 0 || extent > limit)
      return outer.emitError("grid extent ")
             << extent << " in dimension "
             << "xyz"[dim] << " is outside CUDA's limit [0, " << limit << "]";
    grid[dim] = extent;
    dimOfIv.push_back(dim);
  }
  int64_t threads = nest->threads;
  if (threads < 1 || threads > kMaxThreadsPerBlock)
    return inner.emitError("thread nest extent ")
           << threads << " is outside CUDA's block limit [1, "
           << kMaxThreadsPerBlock << "]";
  // An empty grid launches nothing (and CUDA rejects it): drop the nest.
  if (llvm::is_contained(grid, 0)) {
    rewriter.eraseOp(outer);
    return success();
  }

  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, v);
  };
  auto launch =
      gpu::LaunchOp::create(rewriter, loc, index(grid[0]), index(grid[1]),
                            index(grid[2]), index(threads), index(1), index(1));
  // Name the outlined kernel after the nest's kind and enclosing function.
  if (auto kind = outer->getAttrOfType<StringAttr>(kKernelKindAttr)) {
    std::string prefix;
    if (auto func = outer->getParentOfType<FunctionOpInterface>())
      prefix = (func.getName() + "_").str();
    launch.setModuleAttr(
        FlatSymbolRefAttr::get(rewriter.getContext(), prefix + kind.str()));
    launch.setFunctionAttr(FlatSymbolRefAttr::get(kind));
  }
  Block &body = launch.getBody().front();
  rewriter.setInsertionPointToStart(&body);
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  Value ids[3] = {blockIds.x, blockIds.y, blockIds.z};
  SmallVector<Value> outerIds =
      llvm::map_to_vector(dimOfIv, [&](int64_t dim) { return ids[dim]; });
  emitFlatNestBody(rewriter, *nest, outerIds, launch.getThreadIds().x);
  rewriter.setInsertionPointToEnd(&body);
  gpu::TerminatorOp::create(rewriter, loc);

  sinkConstantsAndGlobals(rewriter, launch);
  rewriter.eraseOp(outer);
  return success();
}

struct BaqKernelsToGpuPass
    : public mlir::baq::impl::BaqKernelsToGpuBase<BaqKernelsToGpuPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());
    SmallVector<scf::ForallOp> nests;
    module.walk([&](scf::ForallOp op) {
      if (isKernelMapped(op, /*blocks=*/true) &&
          !op->getParentOfType<scf::ForallOp>() &&
          !op->getParentOfType<gpu::LaunchOp>())
        nests.push_back(op);
    });
    for (scf::ForallOp op : nests)
      if (failed(convertNest(rewriter, op)))
        return signalPassFailure();

    // Buffers of functions that launch kernels must be reachable from the
    // device; managed (host_shared) memory also keeps host code valid.
    module.walk(
        [&](FunctionOpInterface func) { allocateOnDevice(rewriter, func); });
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Shared helpers (GpuBuffers.h)
//===----------------------------------------------------------------------===//

/// A global or a view of one (a subview of a RoPE table at `pos`): a kernel
/// must read it from the gpu.module's copy, not through a host address.
static bool isGlobalOrView(Operation *op) {
  while (op) {
    if (isa<memref::GetGlobalOp>(op))
      return true;
    if (!isa<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp,
             memref::CastOp, memref::ReinterpretCastOp>(op))
      return false;
    op = op->getOperand(0).getDefiningOp();
  }
  return false;
}

void mlir::baq::sinkConstantsAndGlobals(RewriterBase &rewriter,
                                        gpu::LaunchOp launch) {
  Block &body = launch.getBody().front();
  llvm::SmallDenseMap<Value, Value> sunk;
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<OpOperand *> uses;
    launch.getBody().walk([&](Operation *op) {
      for (OpOperand &use : op->getOpOperands()) {
        Operation *def = use.get().getDefiningOp();
        if (def && !launch->isAncestor(def) &&
            (matchPattern(def, m_Constant()) || isGlobalOrView(def)))
          uses.push_back(&use);
      }
    });
    for (OpOperand *use : uses) {
      Value &copy = sunk[use->get()];
      if (!copy) {
        rewriter.setInsertionPointToStart(&body);
        copy = rewriter.clone(*use->get().getDefiningOp())->getResult(0);
      }
      rewriter.modifyOpInPlace(use->getOwner(), [&] { use->set(copy); });
      changed = true;
    }
  }
}

void mlir::baq::allocateOnDevice(RewriterBase &rewriter,
                                 FunctionOpInterface func) {
  bool launches = false;
  func.walk([&](gpu::LaunchOp) { launches = true; });
  if (!launches)
    return;
  SmallVector<memref::AllocOp> allocs;
  func.walk([&](memref::AllocOp op) { allocs.push_back(op); });
  for (memref::AllocOp op : allocs) {
    rewriter.setInsertionPoint(op);
    auto alloc = gpu::AllocOp::create(
        rewriter, op.getLoc(), op.getType(), Type(), ValueRange(),
        op.getDynamicSizes(), op.getSymbolOperands(), /*hostShared=*/true);
    rewriter.replaceOp(op, alloc.getMemref());
    // Managed memory is at least 256-byte aligned: say so inside each
    // kernel, so that vector reads of these buffers (the decode kernel's
    // activations) become 128-bit loads.
    llvm::SmallDenseMap<Operation *, Value> aligned;
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : alloc.getMemref().getUses())
      uses.push_back(&use);
    for (OpOperand *use : uses) {
      auto launch = use->getOwner()->getParentOfType<gpu::LaunchOp>();
      if (!launch)
        continue;
      Value &value = aligned[launch];
      if (!value) {
        rewriter.setInsertionPointToStart(&launch.getBody().front());
        value = memref::AssumeAlignmentOp::create(rewriter, alloc.getLoc(),
                                                  alloc.getMemref(), 16);
      }
      rewriter.modifyOpInPlace(use->getOwner(), [&] { use->set(value); });
    }
  }
  SmallVector<memref::DeallocOp> deallocs;
  func.walk([&](memref::DeallocOp op) { deallocs.push_back(op); });
  // gpu-to-llvm lowers only the asynchronous gpu.dealloc: wait on a fresh
  // stream, free on it, wait for it (mgpuStreamCreate, mgpuMemFree,
  // mgpuStreamSynchronize, mgpuStreamDestroy).
  auto tokenType = gpu::AsyncTokenType::get(rewriter.getContext());
  for (memref::DeallocOp op : deallocs) {
    if (!op.getMemref().getDefiningOp<gpu::AllocOp>())
      continue;
    rewriter.setInsertionPoint(op);
    Value ready =
        gpu::WaitOp::create(rewriter, op.getLoc(), tokenType, ValueRange())
            .getAsyncToken();
    auto dealloc = gpu::DeallocOp::create(rewriter, op.getLoc(), tokenType,
                                          ValueRange{ready}, op.getMemref());
    gpu::WaitOp::create(rewriter, op.getLoc(), Type(),
                        ValueRange{dealloc.getAsyncToken()});
    rewriter.eraseOp(op);
  }
}
