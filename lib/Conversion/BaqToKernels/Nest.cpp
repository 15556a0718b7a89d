//===- Nest.cpp - Block/thread scf.forall nests ---------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

Value mlir::baq::kernels::buildNest(OpBuilder &b, Location loc, StringRef kind,
                                    Value init, ArrayRef<int64_t> outer,
                                    int64_t items, int64_t threads,
                                    ArrayRef<DimSpec> dims, NestBody body) {
  assert(outer.size() <= 2 && items > 0 && "nest shape");
  MLIRContext *ctx = b.getContext();
  int64_t t = std::min(threads, items);
  int64_t blocks = ceilDiv(items, t);

  SmallVector<OpFoldResult> ubs;
  SmallVector<Attribute> mapping;
  for (auto [i, extent] : llvm::enumerate(outer)) {
    ubs.push_back(b.getIndexAttr(extent));
    mapping.push_back(gpu::GPUBlockMappingAttr::get(
        ctx, i == 0 ? gpu::MappingId::DimY : gpu::MappingId::DimZ));
  }
  ubs.push_back(b.getIndexAttr(blocks));
  mapping.push_back(gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimX));

  auto outerOp = scf::ForallOp::create(b, loc, ubs, ValueRange{init},
                                       b.getArrayAttr(mapping), nullptr);
  outerOp->setAttr(kKernelKindAttr, b.getStringAttr(kind));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(outerOp.getTerminator());
  SmallVector<Value> ivs = outerOp.getInductionVars();
  SmallVector<Value> outerIvs(ivs.begin(), ivs.end() - 1);
  Value bx = ivs.back();
  Value outArg = outerOp.getRegionIterArgs()[0];

  AffineExpr d0 = b.getAffineDimExpr(0);
  OpFoldResult first =
      affine::makeComposedFoldedAffineApply(b, loc, d0 * t, {bx});
  OpFoldResult count = b.getIndexAttr(t);
  if (items % t != 0)
    count = affine::makeComposedFoldedAffineMin(
        b, loc,
        AffineMap::get(1, 0, {b.getAffineConstantExpr(t), items - d0 * t}, ctx),
        {bx});

  SmallVector<OpFoldResult> offsets, sizes, strides, itemSizes;
  for (const DimSpec &d : dims) {
    strides.push_back(b.getIndexAttr(1));
    itemSizes.push_back(b.getIndexAttr(d.size));
    switch (d.kind) {
    case DimSpec::Outer:
      offsets.push_back(affine::makeComposedFoldedAffineApply(
          b, loc, d0 * d.size + d.base, {outerIvs[d.outerIndex]}));
      sizes.push_back(b.getIndexAttr(d.size));
      break;
    case DimSpec::Item:
      offsets.push_back(affine::makeComposedFoldedAffineApply(
          b, loc, d0 * d.size + d.base, {first}));
      sizes.push_back(
          affine::makeComposedFoldedAffineApply(b, loc, d0 * d.size, {count}));
      break;
    case DimSpec::Full:
      offsets.push_back(b.getIndexAttr(d.base));
      sizes.push_back(b.getIndexAttr(d.size));
      break;
    }
  }
  Value block =
      tensor::ExtractSliceOp::create(b, loc, outArg, offsets, sizes, strides);

  auto innerOp = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{count}, ValueRange{block},
      b.getArrayAttr(
          {gpu::GPUThreadMappingAttr::get(ctx, gpu::MappingId::DimX)}),
      nullptr);
  {
    OpBuilder::InsertionGuard innerGuard(b);
    b.setInsertionPoint(innerOp.getTerminator());
    Value tid = innerOp.getInductionVars()[0];
    Value innerArg = innerOp.getRegionIterArgs()[0];
    Value item = getValueOrCreateConstantIndexOp(
        b, loc,
        affine::makeComposedFoldedAffineApply(
            b, loc, b.getAffineDimExpr(0) + b.getAffineDimExpr(1),
            {first, tid}));
    SmallVector<OpFoldResult> itemOffsets;
    for (const DimSpec &d : dims) {
      if (d.kind == DimSpec::Item)
        itemOffsets.push_back(
            affine::makeComposedFoldedAffineApply(b, loc, d0 * d.size, {tid}));
      else
        itemOffsets.push_back(b.getIndexAttr(0));
    }
    Value slice = tensor::ExtractSliceOp::create(b, loc, innerArg, itemOffsets,
                                                 itemSizes, strides);
    Value result = body(b, loc, outerIvs, item, slice);
    b.setInsertionPointToStart(innerOp.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(b, loc, result, innerArg, itemOffsets,
                                          itemSizes, strides);
  }
  b.setInsertionPointToStart(outerOp.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, innerOp.getResult(0), outArg,
                                        offsets, sizes, strides);
  return outerOp.getResult(0);
}

Value mlir::baq::kernels::buildRowNests(
    OpBuilder &b, Location loc, StringRef kind, Value init,
    ArrayRef<int64_t> outer, int64_t m, int64_t v, int64_t threads,
    function_ref<SmallVector<DimSpec>(int64_t v, int64_t base)> dims,
    function_ref<Value(int64_t v, int64_t base, OpBuilder &, Location,
                       ValueRange, Value, Value)>
        body) {
  if (m < v)
    v = 1;
  int64_t main = (m / v) * v;
  Value result = init;
  auto nest = [&](int64_t lanes, int64_t base, int64_t rows) {
    SmallVector<DimSpec> d = dims(lanes, base);
    result = buildNest(
        b, loc, kind, result, outer, rows / lanes, threads, d,
        [&](OpBuilder &nb, Location nl, ValueRange o, Value item, Value s) {
          return body(lanes, base, nb, nl, o, item, s);
        });
  };
  if (main > 0)
    nest(v, 0, main);
  if (m > main)
    nest(1, main, m - main);
  return result;
}

Value mlir::baq::kernels::accumulatePanel(OpBuilder &b, Location loc, int64_t v,
                                          Value slice, Value xs, Value panel,
                                          Value positions, int64_t rows,
                                          int64_t tileRows) {
  Lanes e(b, loc, v);
  Type elem = cast<ShapedType>(slice.getType()).getElementType();
  Value z0 = e.index(0);
  int64_t tr = std::min(tileRows, rows);
  int64_t mainRows = (rows / tr) * tr;
  // Rows [r0, r0 + n) of the slice += xs[r0.., :] · panel.
  auto tile = [&](OpBuilder &tb, Location tl, Value s, Value r0, int64_t n) {
    Lanes te(tb, tl, v);
    SmallVector<Value> init(n, te.splatF32(0.0f));
    auto loop = scf::ForOp::create(
        tb, tl, te.index(0), positions, te.index(1), init,
        [&](OpBuilder &lb, Location ll, Value pos, ValueRange acc) {
          Lanes le(lb, ll, v);
          Value w = le.readContig(panel, {pos, z0});
          SmallVector<Value> next;
          for (int64_t t = 0; t < n; ++t) {
            Value x = le.scalar(xs, {le.add(r0, t), pos});
            next.push_back(le.fma(le.broadcast(x), w, acc[t]));
          }
          scf::YieldOp::create(lb, ll, next);
        });
    for (int64_t t = 0; t < n; ++t) {
      Value row = te.add(r0, t);
      Value cv = te.toF32(te.readContig(s, {row, z0}));
      Value sum = arith::AddFOp::create(tb, tl, cv, loop.getResult(t));
      s = te.writeContig(te.fromF32(sum, elem), s, {row, z0});
    }
    return s;
  };
  if (mainRows > tr) {
    auto loop = scf::ForOp::create(
        b, loc, z0, e.index(mainRows), e.index(tr), ValueRange{slice},
        [&](OpBuilder &lb, Location ll, Value r0, ValueRange it) {
          scf::YieldOp::create(lb, ll, tile(lb, ll, it[0], r0, tr));
        });
    slice = loop.getResult(0);
  } else {
    slice = tile(b, loc, slice, z0, tr);
  }
  if (rows > mainRows)
    slice = tile(b, loc, slice, e.index(mainRows), rows - mainRows);
  return slice;
}
