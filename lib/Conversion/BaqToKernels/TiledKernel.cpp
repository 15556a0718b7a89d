//===- TiledKernel.cpp - Register-tiled matmul nests ----------------------===//
//
// Two forms of out = C + xs · W over padded packed positions:
//
// * tiledMatmul (GPU): reads the whole dequantized weight [padded x M] that
//   the dequantize nests wrote; each thread keeps TR activation rows x V
//   output rows in registers.
// * panelMatmul (CPU): each item of V output rows first dequantizes its own
//   [padded x V] f32 panel (16 rows x 2816 positions: 180 KB, L2-resident),
//   then runs a TR x V register-blocked microkernel over it for every row
//   tile: per position one vector<V x f32> load of the panel, TR broadcast
//   activations and TR FMAs. The weight is dequantized once per call and
//   never goes through memory as a whole, which is what made the GPU form
//   5-8x slower than SGEMM on a CPU. The dequantized values and the
//   summation order (positions in order, from 0, then + C) are the GPU
//   form's, so both give bit-identical f32 results.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

/// out[r, i] = C[r, i] + sum_pp xs[r, pp] * W[pp, i]: each thread owns a
/// tile of TR activation rows x V output rows and keeps it in registers.
Value PackedKernels::tiledMatmul(Value xs, Value weights, Value c) {
  if (config.panelTiled) {
    Value result = panelMatmul(xs, c);
    // The whole-weight dequantize nests (a chain through their inits) are
    // not read by the panel kernel.
    for (Operation *op = weights.getDefiningOp(); op && op->use_empty();) {
      Operation *next = op->getNumOperands() > 0
                            ? op->getOperand(0).getDefiningOp()
                            : nullptr;
      if (isa<scf::ForallOp>(op) && op->getNumOperands() != 1)
        next = nullptr;
      op->erase();
      op = next;
    }
    return result;
  }
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

Value PackedKernels::panelMatmul(Value xs, Value c) {
  int64_t rows = cast<RankedTensorType>(c.getType()).getDimSize(0);
  return buildRowNests(
      b, loc, "baq_tiled_matmul", c, {}, l.m, config.rowsPerThread,
      config.threadsPerBlock,
      [&](int64_t lanes, int64_t base) {
        return SmallVector<DimSpec>{DimSpec::full(rows),
                                    DimSpec::item(lanes, base)};
      },
      [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl,
          ValueRange outer, Value item, Value slice) {
        Lanes e(nb, nl, lanes);
        Value i0 = e.firstRow(item, base);
        Value z0 = e.index(0);
        // The panel: W[pp, i0 + j] for every padded position pp. A chunk's
        // 32 x V weights are gathered in a vector<32 x V x f32> (zeros past
        // `codes`) and written with one transfer: a chain of per-code
        // tensor writes makes one-shot bufferization's analysis quadratic.
        Value panel = tensor::EmptyOp::create(
            nb, nl, ArrayRef<int64_t>{l.padded, lanes}, nb.getF32Type());
        auto blockType = VectorType::get({32, lanes}, nb.getF32Type());
        auto dequantizeInto = [&](Lanes &le, Value p, Value pos0,
                                  const Seg &seg, Value chunk,
                                  int64_t staticChunk, int64_t codes) {
          Value zero = arith::ConstantOp::create(
              le.b, le.loc, DenseElementsAttr::get(blockType, 0.0f));
          SmallVector<Value> blocks(ceilDiv(codes, 32), zero);
          dequantizeChunk(
              le, i0, seg, chunk, staticChunk, codes, [&](int64_t k, Value w) {
                Value &block = blocks[k / 32];
                SmallVector<int64_t> at = {k % 32};
                if (lanes == 1)
                  at.push_back(0);
                block = vector::InsertOp::create(le.b, le.loc, w, block, at);
              });
          for (auto [j, block] : llvm::enumerate(blocks))
            p = vector::TransferWriteOp::create(
                    le.b, le.loc, block, p,
                    ValueRange{le.add(pos0, 32 * static_cast<int64_t>(j)), z0},
                    ArrayRef<bool>{true, true})
                    .getResult();
          return p;
        };
        for (const Seg &seg : l.segs) {
          int64_t full = l.loopChunks(seg), tail = seg.count - 32 * full;
          if (full > 0) {
            auto loop = scf::ForOp::create(
                nb, nl, e.index(0), e.index(full), e.index(1),
                ValueRange{panel},
                [&](OpBuilder &lb, Location ll, Value chunk, ValueRange it) {
                  Lanes le(lb, ll, lanes);
                  Value pos0 =
                      le.add(arith::MulIOp::create(lb, ll, chunk, le.index(32)),
                             seg.padStart);
                  scf::YieldOp::create(
                      lb, ll,
                      dequantizeInto(le, it[0], pos0, seg, chunk, -1, 32));
                });
            panel = loop.getResult(0);
          }
          if (tail > 0)
            panel = dequantizeInto(e, panel, e.index(seg.padStart + 32 * full),
                                   seg, e.index(full), full, tail);
        }

        return accumulatePanel(nb, nl, lanes, slice, xs, panel,
                               e.index(l.padded), rows, config.tileRows);
      });
}
