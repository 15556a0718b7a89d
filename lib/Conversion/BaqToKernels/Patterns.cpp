//===- Patterns.cpp - Packed matmul and dequantize lowering patterns ------===//
//
// Core functions that lower one op to kernel nests, the rewrite patterns
// around them and populateBaqToKernelsPatterns. A pattern that does not apply
// says why through notifyMatchFailure; baq-build-kernels reports it.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "baq/Dialect/Baq/Transforms/MatmulMaps.h"

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

namespace {
/// A linalg.matmul whose weight is a baq.dequantize of a baq.packed_constant.
struct PackedMatmul {
  PackedConstantOp packed;
  DequantizeOp dequant;
  Value a, c;
  RankedTensorType aType, cType;
};
} // namespace

static FailureOr<PackedMatmul> matchPackedMatmul(RewriterBase &rewriter,
                                                 linalg::MatmulOp matmul) {
  PackedMatmul m;
  m.dequant = matmul.getDpsInputOperand(1)->get().getDefiningOp<DequantizeOp>();
  if (!m.dequant)
    return rewriter.notifyMatchFailure(matmul,
                                       "weight is not a baq.dequantize");
  m.packed = getPackedSource(m.dequant);
  if (!m.packed)
    return rewriter.notifyMatchFailure(
        matmul, "weight is not a baq.dequantize of one baq.packed_constant "
                "with the same layout");
  std::optional<int64_t> channelDim = getWeightChannelDim(matmul);
  if (!channelDim || *channelDim != m.dequant.getLayout().getChannelDim())
    return rewriter.notifyMatchFailure(
        matmul, "matmul maps do not match the layout's channel_dim");
  m.a = matmul.getDpsInputOperand(0)->get();
  m.c = matmul.getDpsInitOperand(0)->get();
  m.aType = dyn_cast<RankedTensorType>(m.a.getType());
  m.cType = dyn_cast<RankedTensorType>(m.c.getType());
  if (!m.aType || !m.cType || !m.aType.hasStaticShape() ||
      !m.cType.hasStaticShape() || matmul->getNumResults() != 1)
    return rewriter.notifyMatchFailure(matmul, "needs static tensor shapes");
  if (!isa<FloatType>(m.aType.getElementType()) ||
      !isa<FloatType>(m.cType.getElementType()))
    return rewriter.notifyMatchFailure(matmul, "needs float operands");
  return m;
}

/// Replaces the matmul by its kernels' result and drops the dequantize once
/// nothing else reads it.
static void replaceMatmul(RewriterBase &rewriter, linalg::MatmulOp matmul,
                          const PackedMatmul &m, Value result) {
  rewriter.replaceOp(matmul, result);
  if (m.dequant->use_empty())
    rewriter.eraseOp(m.dequant);
}

/// Every weight is 0, or the product is empty: the matmul adds nothing.
static bool addsNothing(const PackedKernels &k, const PackedMatmul &m) {
  return k.layout().live == 0 || m.aType.getDimSize(0) == 0 ||
         m.cType.getNumElements() == 0;
}

LogicalResult mlir::baq::buildDecodeMatmul(RewriterBase &rewriter,
                                           linalg::MatmulOp matmul,
                                           const KernelConfig &config) {
  FailureOr<PackedMatmul> m = matchPackedMatmul(rewriter, matmul);
  if (failed(m))
    return failure();
  int64_t rows = m->aType.getDimSize(0);
  if (rows * config.unroll > kMaxDecodeUnrolledRows)
    return rewriter.notifyMatchFailure(matmul, [&](Diagnostic &diag) {
      diag << "decode kernel for " << rows
           << " activation rows with unroll=" << config.unroll
           << " would unroll " << rows * config.unroll
           << " row-chunks per loop body (at most " << kMaxDecodeUnrolledRows
           << "); lower unroll or decode-max-rows";
    });
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(matmul);
  PackedKernels k(rewriter, matmul.getLoc(), m->packed, config);
  Value result = m->c;
  if (!addsNothing(k, *m)) {
    Value xs = k.gather(m->a, /*scaled=*/true);
    Value xh = config.half2Decode ? k.gatherHalf2(m->a) : Value();
    Value sums = k.activationSums(m->a, k.autoSplit(k.decodeLanes()));
    Value partial = k.decode(xs, xh, sums, rows);
    result = k.finalize(partial, m->c);
  }
  replaceMatmul(rewriter, matmul, *m, result);
  return success();
}

LogicalResult mlir::baq::buildTiledMatmul(RewriterBase &rewriter,
                                          linalg::MatmulOp matmul,
                                          const KernelConfig &config) {
  FailureOr<PackedMatmul> m = matchPackedMatmul(rewriter, matmul);
  if (failed(m))
    return failure();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(matmul);
  PackedKernels k(rewriter, matmul.getLoc(), m->packed, config);
  Value result = m->c;
  if (!addsNothing(k, *m)) {
    Value xs = k.gather(m->a, /*scaled=*/false);
    Value weights = k.dequantizePacked(
        config.dequantToF16 ? rewriter.getF16Type() : rewriter.getF32Type());
    result = k.tiledMatmul(xs, weights, m->c);
  }
  replaceMatmul(rewriter, matmul, *m, result);
  return success();
}

LogicalResult mlir::baq::buildDequantize(RewriterBase &rewriter,
                                         DequantizeOp dequant,
                                         const KernelConfig &config) {
  PackedConstantOp packed = getPackedSource(dequant);
  if (!packed)
    return rewriter.notifyMatchFailure(
        dequant, "its operands must be the results of one "
                 "baq.packed_constant with the same layout");
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(dequant);
  auto resultType = cast<RankedTensorType>(dequant.getResult().getType());
  PackedKernels k(rewriter, dequant.getLoc(), packed, config);
  Value result;
  if (k.layout().live == 0) {
    result = arith::ConstantOp::create(
        rewriter, dequant.getLoc(),
        DenseElementsAttr::get(
            resultType, rewriter.getZeroAttr(resultType.getElementType())));
  } else {
    Value weights = k.dequantizePacked(resultType.getElementType());
    result = k.scatter(weights, resultType);
  }
  rewriter.replaceOp(dequant, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Activation rows of a matmul that matchPackedMatmul accepted.
static int64_t getActivationRows(linalg::MatmulOp matmul) {
  return cast<RankedTensorType>(matmul.getDpsInputOperand(0)->get().getType())
      .getDimSize(0);
}

namespace {

/// Base of the patterns: the options, resolved per op.
template <typename OpTy> struct KernelPattern : public OpRewritePattern<OpTy> {
  KernelPattern(MLIRContext *context, const BaqBuildKernelsOptions &options)
      : OpRewritePattern<OpTy>(context), options(options) {}

  BaqBuildKernelsOptions options;
};

/// Few activation rows: the fused decode kernel.
struct DecodePackedMatmulPattern : public KernelPattern<linalg::MatmulOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp matmul,
                                PatternRewriter &rewriter) const override {
    // The common checks first, so that both patterns give the same reason.
    if (failed(matchPackedMatmul(rewriter, matmul)))
      return failure();
    int64_t rows = getActivationRows(matmul);
    if (rows > options.decodeMaxRows)
      return rewriter.notifyMatchFailure(matmul, [&](Diagnostic &diag) {
        diag << rows << " activation rows: more than decode-max-rows="
             << options.decodeMaxRows << " (the tiled kernel's)";
      });
    return buildDecodeMatmul(rewriter, matmul,
                             resolveKernelConfig(options, rows));
  }
};

/// More activation rows: dequantize, then a register-tiled matmul.
struct TiledPackedMatmulPattern : public KernelPattern<linalg::MatmulOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp matmul,
                                PatternRewriter &rewriter) const override {
    // The common checks first, so that both patterns give the same reason.
    if (failed(matchPackedMatmul(rewriter, matmul)))
      return failure();
    int64_t rows = getActivationRows(matmul);
    if (rows <= options.decodeMaxRows)
      return rewriter.notifyMatchFailure(matmul, [&](Diagnostic &diag) {
        diag << rows << " activation rows: at most decode-max-rows="
             << options.decodeMaxRows << " (the decode kernel's)";
      });
    return buildTiledMatmul(rewriter, matmul,
                            resolveKernelConfig(options, rows));
  }
};

/// A baq.dequantize whose result is not (or no longer) a fused matmul's
/// weight: dequantize nests, or nothing if it is unused.
struct DequantizePattern : public KernelPattern<DequantizeOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(DequantizeOp dequant,
                                PatternRewriter &rewriter) const override {
    if (dequant->use_empty()) {
      rewriter.eraseOp(dequant);
      return success();
    }
    return buildDequantize(rewriter, dequant, resolveKernelConfig(options, 0));
  }
};

} // namespace

void mlir::baq::populateBaqToKernelsPatterns(
    RewritePatternSet &patterns, const BaqBuildKernelsOptions &options) {
  patterns.add<DecodePackedMatmulPattern, TiledPackedMatmulPattern,
               DequantizePattern>(patterns.getContext(), options);
}
