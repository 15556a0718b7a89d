//===- Patterns.cpp - Packed matmul and dequantize lowering patterns ------===//
//
// Core functions that fuse a quantized linalg.matmul into baq.packed_matmul
// and lower one op to kernel nests, the rewrite patterns around them,
// populateBaqFusePackedMatmulPatterns and populateBaqToKernelsPatterns. A
// pattern that does not apply says why through notifyMatchFailure;
// baq-build-kernels reports it.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "baq/Dialect/Baq/Transforms/MatmulMaps.h"

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

//===----------------------------------------------------------------------===//
// Fusion
//===----------------------------------------------------------------------===//

FailureOr<PackedMatmulOp> mlir::baq::fusePackedMatmul(RewriterBase &rewriter,
                                                      linalg::MatmulOp matmul) {
  auto dequant =
      matmul.getDpsInputOperand(1)->get().getDefiningOp<DequantizeOp>();
  if (!dequant)
    return rewriter.notifyMatchFailure(matmul,
                                       "weight is not a baq.dequantize");
  // The kernels embed the packed constants: a matmul they cannot lower keeps
  // its dequantize, which the dequantize nests (or --baq-expand) handle.
  if (!getPackedSource(dequant))
    return rewriter.notifyMatchFailure(
        matmul, "weight is not a baq.dequantize of one baq.packed_constant "
                "or baq.packed_parameter with the same layout");
  std::optional<int64_t> channelDim = getWeightChannelDim(matmul);
  if (!channelDim || *channelDim != dequant.getLayout().getChannelDim())
    return rewriter.notifyMatchFailure(
        matmul, "matmul maps do not match the layout's channel_dim");
  Value a = matmul.getDpsInputOperand(0)->get();
  Value c = matmul.getDpsInitOperand(0)->get();
  auto aType = dyn_cast<RankedTensorType>(a.getType());
  auto cType = dyn_cast<RankedTensorType>(c.getType());
  if (!aType || !cType || !aType.hasStaticShape() || !cType.hasStaticShape() ||
      matmul->getNumResults() != 1)
    return rewriter.notifyMatchFailure(matmul, "needs static tensor shapes");
  if (!isa<FloatType>(aType.getElementType()) ||
      !isa<FloatType>(cType.getElementType()))
    return rewriter.notifyMatchFailure(matmul, "needs float operands");
  auto isKernelFloat = [](Type type) {
    return isa<Float16Type, BFloat16Type, Float32Type>(type);
  };
  if (!isKernelFloat(aType.getElementType()) ||
      !isKernelFloat(cType.getElementType()))
    return rewriter.notifyMatchFailure(matmul,
                                       "needs f16, bf16 or f32 operands");
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(matmul);
  auto fused = PackedMatmulOp::create(
      rewriter, matmul.getLoc(), cType, a, dequant.getPayload(),
      dequant.getScales(), dequant.getZeros(), c, dequant.getLayout());
  rewriter.replaceOp(matmul, fused.getResult());
  if (dequant->use_empty())
    rewriter.eraseOp(dequant);
  return fused;
}

//===----------------------------------------------------------------------===//
// Lowering
//===----------------------------------------------------------------------===//

namespace {
/// A baq.packed_matmul whose packed operands are one packed source's.
struct PackedMatmul {
  PackedSource packed;
  Value a, c;
  RankedTensorType aType, cType;
};
} // namespace

static FailureOr<PackedMatmul> matchPackedMatmul(RewriterBase &rewriter,
                                                 PackedMatmulOp op) {
  PackedMatmul m;
  // The kernels read the packed words as constants inside their nests (so
  // that GPU outlining carries them into the gpu.module).
  m.packed = getPackedSource(op);
  if (!m.packed)
    return rewriter.notifyMatchFailure(
        op, "packed operands are not the results of one baq.packed_constant "
            "or baq.packed_parameter with the same layout");
  m.a = op.getInput();
  m.c = op.getInit();
  m.aType = cast<RankedTensorType>(m.a.getType());
  m.cType = cast<RankedTensorType>(m.c.getType());
  if (!m.aType.hasStaticShape() || !m.cType.hasStaticShape())
    return rewriter.notifyMatchFailure(op, "needs static tensor shapes");
  return m;
}

/// Every weight is 0, or the product is empty: the matmul adds nothing.
static bool addsNothing(const PackedKernels &k, const PackedMatmul &m) {
  return k.layout().live == 0 || m.aType.getDimSize(0) == 0 ||
         m.cType.getNumElements() == 0;
}

LogicalResult mlir::baq::buildDecodeMatmul(RewriterBase &rewriter,
                                           PackedMatmulOp op,
                                           const KernelConfig &config) {
  FailureOr<PackedMatmul> m = matchPackedMatmul(rewriter, op);
  if (failed(m))
    return failure();
  int64_t rows = m->aType.getDimSize(0);
  if (rows * config.unroll > kMaxDecodeUnrolledRows)
    return rewriter.notifyMatchFailure(op, [&](Diagnostic &diag) {
      diag << "decode kernel for " << rows
           << " activation rows with unroll=" << config.unroll
           << " would unroll " << rows * config.unroll
           << " row-chunks per loop body (at most " << kMaxDecodeUnrolledRows
           << "); lower unroll or decode-max-rows";
    });
  // unpack=half2 repacks the payload words while compiling.
  if (config.half2Decode && !m->packed.constant)
    return rewriter.notifyMatchFailure(
        op, "unpack=half2 repacks the payload at compile time and needs its "
            "words in the module: inline the parameters (--baq-inline-params) "
            "or use another unpack");
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  PackedKernels k(rewriter, op.getLoc(), m->packed, config);
  Value result = m->c;
  if (!addsNothing(k, *m)) {
    Value xs = k.gather(m->a, /*scaled=*/true);
    Value xh = config.half2Decode ? k.gatherHalf2(m->a) : Value();
    Value sums = k.activationSums(m->a, k.autoSplit(k.decodeLanes()));
    Value partial = k.decode(xs, xh, sums, rows);
    result = k.finalize(partial, m->c);
  }
  rewriter.replaceOp(op, result);
  return success();
}

LogicalResult mlir::baq::buildTiledMatmul(RewriterBase &rewriter,
                                          PackedMatmulOp op,
                                          const KernelConfig &config) {
  FailureOr<PackedMatmul> m = matchPackedMatmul(rewriter, op);
  if (failed(m))
    return failure();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  PackedKernels k(rewriter, op.getLoc(), m->packed, config);
  Value result = m->c;
  if (!addsNothing(k, *m)) {
    Value xs = k.gather(m->a, /*scaled=*/false);
    Value weights = k.dequantizePacked(
        config.dequantToF16 ? rewriter.getF16Type() : rewriter.getF32Type());
    result = k.tiledMatmul(xs, weights, m->c);
  }
  rewriter.replaceOp(op, result);
  return success();
}

LogicalResult mlir::baq::buildDequantize(RewriterBase &rewriter,
                                         DequantizeOp dequant,
                                         const KernelConfig &config) {
  PackedSource packed = getPackedSource(dequant);
  if (!packed)
    return rewriter.notifyMatchFailure(
        dequant, "its operands must be the results of one "
                 "baq.packed_constant or baq.packed_parameter with the same "
                 "layout");
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

/// Activation rows of a packed matmul that matchPackedMatmul accepted.
static int64_t getActivationRows(PackedMatmulOp op) {
  return op.getInput().getType().getDimSize(0);
}

namespace {

/// A linalg.matmul whose weight is a baq.dequantize: baq.packed_matmul.
struct FusePackedMatmulPattern : public OpRewritePattern<linalg::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp matmul,
                                PatternRewriter &rewriter) const override {
    return fusePackedMatmul(rewriter, matmul);
  }
};

/// Base of the patterns: the options, resolved per op.
template <typename OpTy> struct KernelPattern : public OpRewritePattern<OpTy> {
  KernelPattern(MLIRContext *context, const BaqBuildKernelsOptions &options)
      : OpRewritePattern<OpTy>(context), options(options) {}

  BaqBuildKernelsOptions options;
};

/// Few activation rows: the fused decode kernel.
struct DecodePackedMatmulPattern : public KernelPattern<PackedMatmulOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(PackedMatmulOp matmul,
                                PatternRewriter &rewriter) const override {
    int64_t rows = getActivationRows(matmul);
    KernelConfig config = resolveKernelConfig(options, rows);
    // The shared kernel reads the packed operands whatever defines them.
    bool shared = hasSharedDecodeKernel(config);
    // The common checks first, so that both patterns give the same reason.
    if (!shared && failed(matchPackedMatmul(rewriter, matmul)))
      return failure();
    if (shared && (!matmul.getInput().getType().hasStaticShape() ||
                   !matmul.getInit().getType().hasStaticShape()))
      return rewriter.notifyMatchFailure(matmul, "needs static tensor shapes");
    if (rows > options.decodeMaxRows)
      return rewriter.notifyMatchFailure(matmul, [&](Diagnostic &diag) {
        diag << rows << " activation rows: more than decode-max-rows="
             << options.decodeMaxRows << " (the tiled kernel's)";
      });
    if (shared)
      return buildSharedDecodeMatmul(rewriter, matmul, config);
    return buildDecodeMatmul(rewriter, matmul, config);
  }
};

/// More activation rows: dequantize, then a register-tiled matmul.
struct TiledPackedMatmulPattern : public KernelPattern<PackedMatmulOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(PackedMatmulOp matmul,
                                PatternRewriter &rewriter) const override {
    int64_t rows = getActivationRows(matmul);
    KernelConfig config = resolveKernelConfig(options, rows);
    bool shared = hasSharedTiledKernel(config);
    // The common checks first, so that both patterns give the same reason.
    if (!shared && failed(matchPackedMatmul(rewriter, matmul)))
      return failure();
    if (shared && (!matmul.getInput().getType().hasStaticShape() ||
                   !matmul.getInit().getType().hasStaticShape()))
      return rewriter.notifyMatchFailure(matmul, "needs static tensor shapes");
    if (rows <= options.decodeMaxRows)
      return rewriter.notifyMatchFailure(matmul, [&](Diagnostic &diag) {
        diag << rows << " activation rows: at most decode-max-rows="
             << options.decodeMaxRows << " (the decode kernel's)";
      });
    if (shared)
      return buildSharedTiledMatmul(rewriter, matmul, config);
    return buildTiledMatmul(rewriter, matmul, config);
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

void mlir::baq::populateBaqFusePackedMatmulPatterns(
    RewritePatternSet &patterns) {
  patterns.add<FusePackedMatmulPattern>(patterns.getContext());
}

void mlir::baq::populateBaqToKernelsPatterns(
    RewritePatternSet &patterns, const BaqBuildKernelsOptions &options) {
  patterns.add<DecodePackedMatmulPattern, TiledPackedMatmulPattern,
               DequantizePattern>(patterns.getContext(), options);
}
