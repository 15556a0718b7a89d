//===- KernelsToParallel.cpp - Kernel nests to CPU threads ----------------===//
//
// A bufferized kernel nest (KernelNest.h) is a grid of blocks of threads
// whose bodies are independent. For the CPU it becomes one scf.parallel over
// (grid..., thread), predicated on the thread bound as on the GPU, which
// convert-scf-to-openmp then splits across OpenMP threads: the whole
// iteration space is divided at once, whatever the split between blocks and
// threads (the decode kernel's grid is 1 x 4 blocks of 64 threads on CPU).
// Kernels too small to pay for a fork/join (the per-matmul gather, sums and
// finalize nests of small layers) stay as sequential scf.forall loops.
//
//===----------------------------------------------------------------------===//

#include "../KernelNest.h"
#include "baq/Conversion/BaqToKernels.h"
#include "baq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQKERNELSTOPARALLEL
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

/// Operations executed by one run of `block`, counting constant-trip scf.for
/// bodies that many times (other regions once). A static estimate, only
/// compared against a threshold.
static double estimateOps(Block &block) {
  double ops = 0;
  for (Operation &op : block) {
    ops += 1;
    double trips = 1;
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
      std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
      std::optional<int64_t> step = getConstantIntValue(loop.getStep());
      if (lb && ub && step && *step > 0)
        trips = *ub > *lb ? static_cast<double>((*ub - *lb + *step - 1) / *step)
                          : 0;
    }
    for (Region &region : op.getRegions())
      for (Block &inner : region)
        ops += trips * estimateOps(inner);
  }
  return ops;
}

/// Replaces the nest by one scf.parallel over (grid..., thread).
static void flattenNest(RewriterBase &rewriter, const KernelNest &nest) {
  scf::ForallOp outer = nest.outer;
  Location loc = outer.getLoc();
  rewriter.setInsertionPoint(outer);
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, v);
  };
  SmallVector<int64_t> extents(nest.grid);
  extents.push_back(nest.threads);
  SmallVector<Value> ubs = llvm::map_to_vector(extents, index);
  SmallVector<Value> lbs(extents.size(), index(0));
  SmallVector<Value> steps(extents.size(), index(1));
  auto parallel = scf::ParallelOp::create(rewriter, loc, lbs, ubs, steps);
  if (Attribute kind = outer->getAttr("baq_kernel"))
    parallel->setAttr("baq_kernel", kind);

  rewriter.setInsertionPointToStart(parallel.getBody());
  ValueRange ivs = parallel.getInductionVars();
  emitFlatNestBody(rewriter, nest, ivs.drop_back(), ivs.back());
  rewriter.eraseOp(outer);
}

namespace {
struct BaqKernelsToParallelPass
    : public mlir::baq::impl::BaqKernelsToParallelBase<
          BaqKernelsToParallelPass> {
  using Base::Base;

  void runOnOperation() override {
    if (minWork < 0) {
      getOperation()->emitError("baq-kernels-to-parallel: min-work must be "
                                ">= 0, got ")
          << static_cast<int64_t>(minWork);
      return signalPassFailure();
    }
    SmallVector<scf::ForallOp> outers;
    getOperation()->walk([&](scf::ForallOp op) {
      if (isKernelMapped(op, /*blocks=*/true) &&
          !op->getParentOfType<scf::ForallOp>())
        outers.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ForallOp outer : outers) {
      FailureOr<KernelNest> nest =
          matchKernelNest(outer, "baq-kernels-to-parallel");
      if (failed(nest))
        return signalPassFailure();
      double iterations = nest->threads;
      for (int64_t extent : nest->grid)
        iterations *= static_cast<double>(extent);
      // Block-level code runs once per thread once flattened (as on the
      // GPU): only side-effect free code may sit there. The builder emits
      // nothing else; any other nest stays a correct sequential loop.
      bool pureBlockCode = llvm::all_of(
          outer.getBody()->without_terminator(), [&](Operation &op) {
            return &op == nest->inner.getOperation() || isMemoryEffectFree(&op);
          });
      double work = iterations * estimateOps(*nest->inner.getBody());
      if (auto hint = outer->getAttrOfType<IntegerAttr>(kKernelWorkAttr))
        work = static_cast<double>(hint.getInt());
      if (pureBlockCode && work >= static_cast<double>(minWork))
        flattenNest(rewriter, *nest);
    }
  }
};
} // namespace
