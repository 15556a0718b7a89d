//===- TiledKernel.cpp - Register-tiled matmul nest -----------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

/// out[r, i] = C[r, i] + sum_pp xs[r, pp] * W[pp, i]: each thread owns a
/// tile of TR activation rows x V output rows and keeps it in registers.
Value PackedKernels::tiledMatmul(Value xs, Value weights, Value c) {
  auto cType = cast<RankedTensorType>(c.getType());
  int64_t rows = cType.getDimSize(0);
  Type elem = cType.getElementType();
  int64_t tr = std::min(config.tileRows, rows);
  int64_t mainRows = (rows / tr) * tr;
  Value result = c;
  auto rowTiles = [&](int64_t tileRows, int64_t rowBase, int64_t count) {
    result = buildRowNests(
        b, loc, "baq_tiled_matmul", result, {count / tileRows}, l.m,
        config.rowsPerThread, config.threadsPerBlock,
        [&](int64_t lanes, int64_t base) {
          return SmallVector<DimSpec>{DimSpec::outer(0, tileRows, rowBase),
                                      DimSpec::item(lanes, base)};
        },
        [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl,
            ValueRange outer, Value item, Value slice) {
          Lanes e(nb, nl, lanes);
          Value i0 = e.firstRow(item, base);
          Value r0 =
              e.add(arith::MulIOp::create(nb, nl, outer[0], e.index(tileRows)),
                    rowBase);
          SmallVector<Value> init(tileRows, e.splatF32(0.0f));
          auto loop = scf::ForOp::create(
              nb, nl, e.index(0), e.index(l.padded), e.index(1), init,
              [&](OpBuilder &lb, Location ll, Value p, ValueRange it) {
                Lanes le(lb, ll, lanes);
                Value w = le.toF32(le.readContig(weights, {p, i0}));
                SmallVector<Value> next;
                for (int64_t t = 0; t < tileRows; ++t) {
                  Value x = le.scalar(xs, {le.add(r0, t), p});
                  next.push_back(le.fma(le.broadcast(x), w, it[t]));
                }
                scf::YieldOp::create(lb, ll, next);
              });
          Value z = e.index(0);
          for (int64_t t = 0; t < tileRows; ++t) {
            Value cv = e.toF32(e.readContig(slice, {e.index(t), z}));
            Value sum = arith::AddFOp::create(nb, nl, cv, loop.getResult(t));
            slice = e.writeContig(e.fromF32(sum, elem), slice, {e.index(t), z});
          }
          return slice;
        });
  };
  if (mainRows > 0)
    rowTiles(tr, 0, mainRows);
  if (rows > mainRows)
    rowTiles(rows - mainRows, mainRows, rows - mainRows);
  return result;
}
