//===- KernelNest.cpp - Shape of a bufferized kernel nest -----------------===//

#include "KernelNest.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::baq;

bool mlir::baq::isKernelMapped(scf::ForallOp op, bool blocks) {
  std::optional<ArrayAttr> mapping = op.getMapping();
  if (!mapping || mapping->empty())
    return false;
  return llvm::all_of(*mapping, [&](Attribute a) {
    return blocks ? isa<gpu::GPUBlockMappingAttr>(a)
                  : isa<gpu::GPUThreadMappingAttr>(a);
  });
}

std::optional<int64_t> mlir::baq::constantMax(OpFoldResult bound) {
  if (std::optional<int64_t> c = getConstantIntValue(bound))
    return c;
  auto min = cast<Value>(bound).getDefiningOp<affine::AffineMinOp>();
  if (!min)
    return std::nullopt;
  std::optional<int64_t> best;
  for (AffineExpr e : min.getMap().getResults())
    if (auto c = dyn_cast<AffineConstantExpr>(e))
      best = best ? std::min(*best, c.getValue()) : c.getValue();
  return best;
}

FailureOr<KernelNest> mlir::baq::matchKernelNest(scf::ForallOp outer,
                                                 StringRef pass) {
  if (outer->getNumResults() != 0)
    return outer.emitError("kernel nest must be bufferized before ") << pass;
  KernelNest nest;
  nest.outer = outer;
  for (Operation &op : outer.getBody()->without_terminator()) {
    auto forall = dyn_cast<scf::ForallOp>(op);
    if (!forall)
      continue;
    if (nest.inner || !isKernelMapped(forall, /*blocks=*/false) ||
        forall.getRank() != 1)
      return outer.emitError("expected one nested scf.forall mapped to "
                             "#gpu.thread<x>");
    nest.inner = forall;
  }
  if (!nest.inner)
    return outer.emitError("block-mapped scf.forall without a thread nest");
  if (nest.inner->getNextNode() != outer.getBody()->getTerminator())
    return outer.emitError("the thread nest must end the block body");
  if (!outer.isNormalized() || !nest.inner.isNormalized())
    return outer.emitError("kernel nests must have zero lower bounds and "
                           "unit steps");
  for (OpFoldResult ub : outer.getMixedUpperBound()) {
    std::optional<int64_t> extent = getConstantIntValue(ub);
    if (!extent)
      return outer.emitError("block grid extents must be constant");
    nest.grid.push_back(*extent);
  }
  std::optional<int64_t> threads =
      constantMax(nest.inner.getMixedUpperBound()[0]);
  if (!threads || cast<gpu::GPUThreadMappingAttr>((*nest.inner.getMapping())[0])
                          .getThread() != gpu::MappingId::DimX)
    return nest.inner.emitError("thread nest needs a constant maximum extent "
                                "mapped to #gpu.thread<x>");
  nest.threads = *threads;
  return nest;
}

void mlir::baq::emitFlatNestBody(RewriterBase &rewriter, const KernelNest &nest,
                                 ValueRange blockIds, Value tid) {
  scf::ForallOp outer = nest.outer, inner = nest.inner;
  Location loc = outer.getLoc();
  IRMapping map;
  SmallVector<Value> outerIvs = outer.getInductionVars();
  for (auto [iv, id] : llvm::zip_equal(outerIvs, blockIds))
    map.map(iv, id);
  for (Operation &op : outer.getBody()->without_terminator())
    if (&op != inner.getOperation())
      rewriter.clone(op, map);
  Value bound = getValueOrCreateConstantIndexOp(rewriter, loc,
                                                inner.getMixedUpperBound()[0]);
  bound = map.lookupOrDefault(bound);
  Value active = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult,
                                       tid, bound);
  auto ifOp = scf::IfOp::create(rewriter, loc, active, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(&ifOp.getThenRegion().front());
  map.map(inner.getInductionVars()[0], tid);
  for (Operation &op : inner.getBody()->without_terminator())
    rewriter.clone(op, map);
}
