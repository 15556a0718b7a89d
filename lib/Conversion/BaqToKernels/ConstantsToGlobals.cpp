//===- ConstantsToGlobals.cpp - Tensor constants to memref.global ---------===//
//
// One-shot bufferization with function boundaries turns tensor constants into
// memref.globals while it visits functions in an order taken from a
// pointer-keyed DenseMap (getFuncOpsOrderedByCalls, LLVM 22), so the globals'
// names and order change from run to run. Making the globals first, in IR
// order, keeps the lowering pipelines' output byte-identical across runs.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/BufferUtils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQCONSTANTSTOGLOBALS
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;

namespace {

struct BaqConstantsToGlobalsPass
    : public baq::impl::BaqConstantsToGlobalsBase<BaqConstantsToGlobalsPass> {
  using BaqConstantsToGlobalsBase::BaqConstantsToGlobalsBase;

  void runOnOperation() override {
    SmallVector<arith::ConstantOp> constants;
    getOperation().walk([&](arith::ConstantOp op) {
      if (isa<RankedTensorType>(op.getType()))
        constants.push_back(op);
    });
    SymbolTableCollection symbolTables;
    for (arith::ConstantOp op : constants) {
      // The alignment one-shot-bufferize gives the globals it makes.
      FailureOr<memref::GlobalOp> global =
          bufferization::getGlobalFor(op, symbolTables, /*alignment=*/64);
      if (failed(global)) {
        op.emitError() << "cannot make a memref.global for this constant";
        return signalPassFailure();
      }
      OpBuilder builder(op);
      Value buffer = memref::GetGlobalOp::create(
          builder, op.getLoc(), global->getType(), global->getSymName());
      // Not writable: bufferization copies before any in-place write, as it
      // does for the constant itself.
      Value tensor = bufferization::ToTensorOp::create(
          builder, op.getLoc(), op.getType(), buffer, /*restrict=*/true);
      op.replaceAllUsesWith(tensor);
      op.erase();
    }
  }
};

} // namespace
