//===- BuildKernels.cpp - baq-fuse-packed-matmul, baq-build-kernels -------===//
//
// Thin passes over populateBaqFusePackedMatmulPatterns and
// populateBaqToKernelsPatterns. baq-build-kernels checks the options and
// where the baq ops are, fuses each quantized matmul into baq.packed_matmul,
// then applies the lowering patterns once to each baq.packed_matmul and then
// to each remaining baq.dequantize, in IR order (a walk, not a fixpoint:
// deterministic, and the kernel nests it creates are never revisited), and
// reports why an op was not fused or lowered.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/BaqToKernels.h"
#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/IR/BaqOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Rewrite/PatternApplicator.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQBUILDKERNELS
#define GEN_PASS_DEF_BAQFUSEPACKEDMATMUL
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

namespace {

/// Keeps the reasons patterns give for not applying to an op.
struct ReasonCollector : public RewriterBase::Listener {
  void
  notifyMatchFailure(Location loc,
                     function_ref<void(Diagnostic &)> reasonCallback) override {
    Diagnostic diag(loc, DiagnosticSeverity::Remark);
    reasonCallback(diag);
    messages.push_back(diag.str());
  }
  /// Distinct reasons in the order given.
  std::string join() const {
    SmallVector<StringRef> unique;
    for (const std::string &m : messages)
      if (!llvm::is_contained(unique, m))
        unique.push_back(m);
    return llvm::join(unique, "; ");
  }
  SmallVector<std::string> messages;
};

/// Applies `patterns` once to `op`, keeping the reasons of those that do not
/// apply in `reasons`.
static LogicalResult applyOnce(const FrozenRewritePatternSet &patterns,
                               Operation *op, ReasonCollector &reasons) {
  PatternApplicator applicator(patterns);
  applicator.applyDefaultCostModel();
  PatternRewriter rewriter(op->getContext());
  rewriter.setListener(&reasons);
  reasons.messages.clear();
  rewriter.setInsertionPoint(op);
  return applicator.matchAndRewrite(op, rewriter);
}

/// Fuses each linalg.matmul under `root` whose weight is a baq.dequantize
/// into baq.packed_matmul; one it leaves alone keeps a remark with the
/// reason (its weight is then dequantized instead).
static void fuseQuantizedMatmuls(Operation *root) {
  RewritePatternSet set(root->getContext());
  populateBaqFusePackedMatmulPatterns(set);
  FrozenRewritePatternSet frozen(std::move(set));
  SmallVector<linalg::MatmulOp> matmuls;
  root->walk([&](linalg::MatmulOp op) {
    if (op.getDpsInputOperand(1)->get().getDefiningOp<DequantizeOp>())
      matmuls.push_back(op);
  });
  ReasonCollector reasons;
  for (linalg::MatmulOp op : matmuls)
    if (failed(applyOnce(frozen, op, reasons)))
      emitRemark(op.getLoc())
          << "quantized matmul not fused (" << reasons.join()
          << "); its weight is dequantized instead";
}

struct BaqFusePackedMatmulPass
    : public mlir::baq::impl::BaqFusePackedMatmulBase<BaqFusePackedMatmulPass> {
  void runOnOperation() override { fuseQuantizedMatmuls(getOperation()); }
};

struct BaqBuildKernelsPass
    : public mlir::baq::impl::BaqBuildKernelsBase<BaqBuildKernelsPass> {
  using BaqBuildKernelsBase::BaqBuildKernelsBase;

  BaqBuildKernelsOptions getOptions() const {
    BaqBuildKernelsOptions o;
    o.target = target;
    o.rowsPerThread = rowsPerThread;
    o.accumulators = accumulators;
    o.kSplit = kSplit;
    o.unroll = unroll;
    o.threadsPerBlock = threadsPerBlock;
    o.decodeMaxRows = decodeMaxRows;
    o.tileRows = tileRows;
    o.dequantType = dequantType;
    o.unpack = unpack;
    // Shared kernels are functions of the module: anchored on a function,
    // the pass must not create symbols outside it.
    o.kernels = const_cast<BaqBuildKernelsPass *>(this)
                        ->getOperation()
                        ->hasTrait<OpTrait::SymbolTable>()
                    ? kernels.getValue()
                    : KernelsKind::Specialized;
    return o;
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

  /// The decode body holds rows x unroll chunk bodies: a configuration that
  /// exceeds the bound is an error, not a reason to fall back.
  LogicalResult verifyDecodeUnroll(PackedMatmulOp op) {
    RankedTensorType type = op.getInput().getType();
    if (type.isDynamicDim(0))
      return success();
    int64_t rows = type.getDimSize(0);
    KernelConfig config = resolveKernelConfig(getOptions(), rows);
    if (rows == 0 || rows > config.decodeMaxRows ||
        rows * config.unroll <= kMaxDecodeUnrolledRows)
      return success();
    return op.emitError() << "decode kernel for " << rows
                          << " activation rows with unroll=" << config.unroll
                          << " would unroll " << rows * config.unroll
                          << " row-chunks per loop body (at most "
                          << kMaxDecodeUnrolledRows
                          << "); lower unroll or decode-max-rows";
  }

  /// Fuses the quantized matmuls, then applies the lowering patterns to each
  /// baq.packed_matmul and each remaining baq.dequantize. An op no pattern
  /// lowers is an error with the patterns' reasons.
  LogicalResult lowerWithPatterns() {
    fuseQuantizedMatmuls(getOperation());

    RewritePatternSet set(&getContext());
    populateBaqToKernelsPatterns(set, getOptions());
    FrozenRewritePatternSet frozen(std::move(set));
    ReasonCollector reasons;

    SmallVector<PackedMatmulOp> matmuls;
    getOperation()->walk([&](PackedMatmulOp op) { matmuls.push_back(op); });
    for (PackedMatmulOp op : matmuls) {
      if (failed(verifyDecodeUnroll(op)))
        return failure();
      if (failed(applyOnce(frozen, op, reasons)))
        return op.emitError()
               << "cannot lower baq.packed_matmul: " << reasons.join();
    }

    SmallVector<DequantizeOp> dequants;
    getOperation()->walk([&](DequantizeOp op) { dequants.push_back(op); });
    for (DequantizeOp op : dequants)
      if (failed(applyOnce(frozen, op, reasons)))
        return op.emitError()
               << "cannot lower baq.dequantize: " << reasons.join();
    return success();
  }

  void runOnOperation() override {
    Operation *module = getOperation();
    if (failed(verifyOptions()))
      return signalPassFailure();
    bool misplaced = false;
    module->walk([&](Operation *op) {
      if (isa<DequantizeOp, PackedConstantOp, PackedParameterOp,
              PackedMatmulOp>(op) &&
          failed(verifyPlacement(op)))
        misplaced = true;
    });
    if (misplaced)
      return signalPassFailure();
    if (failed(lowerWithPatterns()))
      return signalPassFailure();

    IRRewriter rewriter(&getContext());
    SmallVector<PackedConstantOp> packed;
    module->walk([&](PackedConstantOp op) { packed.push_back(op); });
    for (PackedConstantOp op : packed) {
      rewriter.setInsertionPoint(op);
      SmallVector<Value> parts;
      // A named array: an initializer list in the range expression would
      // die before the loop body reads it.
      Attribute values[] = {op.getPayload(), op.getScales(), op.getZeros()};
      for (auto [result, value] : llvm::zip(op->getResults(), values)) {
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
