//===- FuseLop3.cpp - (x & y) | z as one PTX lop3.b32 ---------------------===//
//
// ptxas merges an AND and an OR into one LOP3 only when at most one operand
// is an immediate; unpacking `(w & mask) | magic` has two. Inline PTX states
// the LOP3 directly (look-up table 0xEA = (a & b) | c).
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQFUSELOP3
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

namespace {

/// (x & y) | z; a constant y is written into the instruction (ptxas keeps a
/// register operand in a register, rematerialized with a MOV in loops).
Value lop3(OpBuilder &b, Location loc, Value x, Value y, Value z) {
  std::string text = "lop3.b32 $0, $1, $2, $3, 0xEA;";
  std::string constraints = "=r,r,r,r";
  SmallVector<Value> operands{x, y, z};
  APInt mask;
  if (matchPattern(y, m_ConstantInt(&mask))) {
    text = llvm::formatv("lop3.b32 $0, $1, {0}, $2, 0xEA;",
                         llvm::format_hex(mask.getZExtValue(), 10))
               .str();
    constraints = "=r,r,r";
    operands = {x, z};
  }
  auto op = LLVM::InlineAsmOp::create(
      b, loc, b.getI32Type(), operands, text, constraints,
      /*has_side_effects=*/false, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
      /*operand_attrs=*/ArrayAttr());
  return op.getRes();
}

struct FuseAndOr : OpRewritePattern<arith::OrIOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(arith::OrIOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    auto vectorType = dyn_cast<VectorType>(type);
    if (!getElementTypeOrSelf(type).isInteger(32) ||
        (vectorType && (vectorType.getRank() != 1 || vectorType.isScalable())))
      return rewriter.notifyMatchFailure(op, "not i32 or a 1-D i32 vector");
    for (int side = 0; side < 2; ++side) {
      auto andOp = op->getOperand(side).getDefiningOp<arith::AndIOp>();
      if (!andOp || !andOp->hasOneUse())
        continue;
      Value x = andOp.getLhs(), y = andOp.getRhs(),
            z = op->getOperand(1 - side);
      if (matchPattern(x, m_Constant()))
        std::swap(x, y);
      Location loc = op.getLoc();
      if (!vectorType) {
        rewriter.replaceOp(op, lop3(rewriter, loc, x, y, z));
        return success();
      }
      SmallVector<Value> lanes;
      for (int64_t i = 0, e = vectorType.getNumElements(); i < e; ++i) {
        auto lane = [&](Value v) {
          return rewriter.createOrFold<vector::ExtractOp>(loc, v,
                                                          ArrayRef<int64_t>{i});
        };
        lanes.push_back(lop3(rewriter, loc, lane(x), lane(y), lane(z)));
      }
      rewriter.replaceOpWithNewOp<vector::FromElementsOp>(op, vectorType,
                                                          lanes);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no single-use arith.andi operand");
  }
};

struct BaqFuseLop3Pass : baq::impl::BaqFuseLop3Base<BaqFuseLop3Pass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAndOr>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
