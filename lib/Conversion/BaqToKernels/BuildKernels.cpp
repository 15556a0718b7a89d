//===- BuildKernels.cpp - baq-build-kernels pass --------------------------===//

#include "baq/Conversion/KernelBuilder.h"
#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/IR/BaqOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQBUILDKERNELS
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

namespace {

struct BaqBuildKernelsPass
    : public mlir::baq::impl::BaqBuildKernelsBase<BaqBuildKernelsPass> {
  using BaqBuildKernelsBase::BaqBuildKernelsBase;

  KernelConfig configFor(int64_t rows) const {
    return resolveKernelConfig(target, rows, rowsPerThread, accumulators,
                               kSplit, threadsPerBlock, decodeMaxRows, tileRows,
                               dequantType, unpack, unroll);
  }

  /// Every numeric option is bounded: by CUDA's block size for
  /// threads-per-block, and otherwise by what keeps the unrolled kernel
  /// bodies (and one-shot bufferization over them) to seconds.
  LogicalResult verifyOptions() {
    struct Bound {
      StringRef name;
      int64_t value, max;
    };
    for (const Bound &o :
         {Bound{"rows-per-thread", rowsPerThread, kMaxRowsPerThread},
          Bound{"accumulators", accumulators, kMaxAccumulators},
          Bound{"k-split", kSplit, kMaxKSplit},
          Bound{"unroll", unroll, kMaxUnroll},
          Bound{"threads-per-block", threadsPerBlock, kMaxThreadsPerBlock},
          Bound{"decode-max-rows", decodeMaxRows, kMaxDecodeRows},
          Bound{"tile-rows", tileRows, kMaxTileRows}})
      if (o.value < 0 || o.value > o.max)
        return getOperation()->emitError()
               << "baq-build-kernels: " << o.name << " must be in [0, " << o.max
               << "], got " << o.value;
    return success();
  }

  /// The lowering pipelines bufferize func.func bodies of the module they run
  /// on and launch kernels from host code: a baq op anywhere else would
  /// leave unbufferized or invalid IR behind.
  LogicalResult verifyPlacement(Operation *op) {
    auto function = op->getParentOfType<FunctionOpInterface>();
    if (!function)
      return op->emitError("cannot lower a baq op outside a function");
    if (isa<gpu::GPUFuncOp>(function.getOperation()))
      return op->emitError("cannot lower a baq op inside 'gpu.func': the BAQ "
                           "kernels are launched from host code (func.func); "
                           "use --baq-expand for device code");
    if (!isa<func::FuncOp>(function.getOperation()))
      return op->emitError("cannot lower a baq op inside '")
             << function->getName()
             << "': the lowering pipelines bufferize func.func only; use "
                "--baq-expand there";
    // Anchored on a function, the pass lowers that function's ops; anchored
    // on a module, those of its own functions.
    if (function != getOperation() && function->getParentOp() != getOperation())
      return op->emitError("cannot lower a baq op in a nested module: run the "
                           "lowering on that module, e.g. --pass-pipeline="
                           "'builtin.module(builtin.module(baq-lower-cpu))'");
    return success();
  }

  void runOnOperation() override {
    Operation *module = getOperation();
    if (failed(verifyOptions()))
      return signalPassFailure();
    bool misplaced = false;
    module->walk([&](Operation *op) {
      if (isa<DequantizeOp, PackedConstantOp>(op) &&
          failed(verifyPlacement(op)))
        misplaced = true;
    });
    if (misplaced)
      return signalPassFailure();
    IRRewriter rewriter(&getContext());

    SmallVector<linalg::MatmulOp> matmuls;
    module->walk([&](linalg::MatmulOp op) {
      if (op.getDpsInputOperand(1)->get().getDefiningOp<DequantizeOp>())
        matmuls.push_back(op);
    });
    for (linalg::MatmulOp op : matmuls) {
      auto dequant =
          op.getDpsInputOperand(1)->get().getDefiningOp<DequantizeOp>();
      int64_t rows = 0;
      if (auto type = dyn_cast<RankedTensorType>(
              op.getDpsInputOperand(0)->get().getType()))
        rows = type.getDimSize(0);
      Location loc = op.getLoc();
      KernelConfig config = configFor(rows);
      if (rows > 0 && rows <= config.decodeMaxRows &&
          rows * config.unroll > kMaxDecodeUnrolledRows) {
        op.emitError() << "decode kernel for " << rows
                       << " activation rows with unroll=" << config.unroll
                       << " would unroll " << rows * config.unroll
                       << " row-chunks per loop body (at most "
                       << kMaxDecodeUnrolledRows
                       << "); lower unroll or decode-max-rows";
        return signalPassFailure();
      }
      if (failed(buildQuantizedMatmul(rewriter, op, dequant, config)))
        emitRemark(loc) << "quantized matmul not fused (dynamic shapes or "
                           "unsupported maps); its weight is dequantized "
                           "instead";
    }

    SmallVector<DequantizeOp> dequants;
    module->walk([&](DequantizeOp op) { dequants.push_back(op); });
    for (DequantizeOp op : dequants) {
      if (op->use_empty()) {
        rewriter.eraseOp(op);
        continue;
      }
      if (failed(buildDequantize(rewriter, op, configFor(0)))) {
        op.emitError() << "cannot lower baq.dequantize: its operands must be "
                          "the results of one baq.packed_constant";
        return signalPassFailure();
      }
    }

    SmallVector<PackedConstantOp> packed;
    module->walk([&](PackedConstantOp op) { packed.push_back(op); });
    for (PackedConstantOp op : packed) {
      rewriter.setInsertionPoint(op);
      SmallVector<Value> parts;
      for (auto [result, value] :
           llvm::zip(op->getResults(),
                     ArrayRef<Attribute>{op.getPayload(), op.getScales(),
                                         op.getZeros()})) {
        if (result.use_empty())
          parts.push_back(nullptr);
        else
          parts.push_back(arith::ConstantOp::create(rewriter, op.getLoc(),
                                                    cast<TypedAttr>(value)));
      }
      for (auto [result, part] : llvm::zip(op->getResults(), parts))
        if (part)
          rewriter.replaceAllUsesWith(result, part);
      rewriter.eraseOp(op);
    }
  }
};

} // namespace
