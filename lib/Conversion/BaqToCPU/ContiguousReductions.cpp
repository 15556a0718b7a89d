//===- ContiguousReductions.cpp - Reductions innermost and vectorisable ---===//
//
// The model's reductions (attention's q.k, RMSNorm's and softmax's sums) are
// linalg.generic ops that convert-linalg-to-loops nests in iterator order;
// q.k's order puts the positions innermost, a cache row apart, and every
// sum is a chain of dependent scalar adds. Moving a reduction over the
// inputs' contiguous dimension innermost and letting its add reassociate
// gives LLVM's loop vectoriser unit-stride loads and vector accumulators.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQCONTIGUOUSREDUCTIONS
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;

/// The reduction dimension that is the last index of every input of rank > 1
/// that uses it (and used by one at least), or nullopt.
static std::optional<unsigned> contiguousReduction(linalg::GenericOp op) {
  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  for (unsigned dim : reductions) {
    bool used = false, contiguous = true;
    for (OpOperand *input : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(input);
      if (map.getNumResults() < 2 || !map.isFunctionOfDim(dim))
        continue;
      used = true;
      contiguous &=
          map.getResults().back() == getAffineDimExpr(dim, map.getContext());
    }
    if (used && contiguous)
      return dim;
  }
  return std::nullopt;
}

/// The arith.addf that accumulates into the single output, or null.
static arith::AddFOp accumulator(linalg::GenericOp op) {
  Block *body = op.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getValues().front().getDefiningOp<arith::AddFOp>();
  if (!add)
    return nullptr;
  BlockArgument out = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
  return add.getLhs() == out || add.getRhs() == out ? add : nullptr;
}

namespace {
struct BaqContiguousReductionsPass
    : public mlir::baq::impl::BaqContiguousReductionsBase<
          BaqContiguousReductionsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation()->walk([&](linalg::GenericOp op) {
      // Kernel nests order their own loops.
      if (op->getParentOfType<scf::ForallOp>() ||
          !op.hasPureTensorSemantics() || op.getNumDpsInits() != 1 ||
          !llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
            return map.isProjectedPermutation();
          }))
        return;
      ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : ops) {
      std::optional<unsigned> dim = contiguousReduction(op);
      arith::AddFOp add = accumulator(op);
      if (!dim || !add)
        continue;
      // Mark before the interchange, which moves the body as is.
      add.setFastmath(add.getFastmath() | arith::FastMathFlags::reassoc);
      unsigned loops = op.getNumLoops();
      if (*dim == loops - 1)
        continue;
      SmallVector<unsigned> order;
      for (unsigned d = 0; d < loops; ++d)
        if (d != *dim)
          order.push_back(d);
      order.push_back(*dim);
      rewriter.setInsertionPoint(op);
      if (failed(linalg::interchangeGenericOp(rewriter, op, order))) {
        op.emitError("baq-contiguous-reductions: interchange failed");
        return signalPassFailure();
      }
    }
  }
};
} // namespace
