//===- ConstantsToGlobals.cpp - Tensor constants to memref.global ---------===//
//
// One-shot bufferization with function boundaries turns tensor constants into
// memref.globals while it visits functions in an order taken from a
// pointer-keyed DenseMap (getFuncOpsOrderedByCalls, LLVM 22), so the globals'
// names and order change from run to run. Making the globals first, in IR
// order, keeps the lowering pipelines' output byte-identical across runs.
//
// Packed parameters become external globals here too: the kernels read them
// like the constants' globals, without their bytes.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqOps.h"
#include "baq/Dialect/Baq/Transforms/Parameters.h"

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

/// Replaces every used result of `op` by a read of the external global
/// that holds that part of the parameter (declared once per symbol).
static LogicalResult lowerParameter(baq::PackedParameterOp op, ModuleOp module,
                                    SymbolTable &symbols) {
  OpBuilder builder(op);
  for (auto [part, result] : llvm::zip(baq::kPackedParts, op->getResults())) {
    if (result.use_empty())
      continue;
    auto tensorType = cast<RankedTensorType>(result.getType());
    auto type =
        MemRefType::get(tensorType.getShape(), tensorType.getElementType());
    std::string symbol = baq::getParameterSymbol(op.getKey(), part);
    auto global = symbols.lookup<memref::GlobalOp>(symbol);
    if (!global) {
      if (symbols.lookup(symbol))
        return op.emitError() << "symbol '" << symbol << "' of parameter '"
                              << op.getKey() << "' is already taken";
      OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
      global = memref::GlobalOp::create(
          top, op.getLoc(), symbol, /*sym_visibility=*/StringAttr(), type,
          /*initial_value=*/Attribute(), /*constant=*/false,
          top.getI64IntegerAttr(baq::kParameterAlignment));
      symbols.insert(global);
    } else if (global.getType() != type || !global.isExternal()) {
      return op.emitError() << "parameter '" << op.getKey() << "' is read as "
                            << type << " here and as " << global.getType()
                            << " elsewhere (one key, two layouts)";
    }
    Value buffer =
        memref::GetGlobalOp::create(builder, op.getLoc(), type, symbol);
    Value tensor = bufferization::ToTensorOp::create(
        builder, op.getLoc(), tensorType, buffer, /*restrict=*/true);
    result.replaceAllUsesWith(tensor);
  }
  op.erase();
  return success();
}

namespace {

struct BaqConstantsToGlobalsPass
    : public baq::impl::BaqConstantsToGlobalsBase<BaqConstantsToGlobalsPass> {
  using BaqConstantsToGlobalsBase::BaqConstantsToGlobalsBase;

  void runOnOperation() override {
    SmallVector<baq::PackedParameterOp> parameters;
    getOperation().walk(
        [&](baq::PackedParameterOp op) { parameters.push_back(op); });
    if (!parameters.empty()) {
      if (!this->parameters) {
        parameters.front().emitError()
            << "parameter '" << parameters.front().getKey()
            << "': this lowering embeds the weights in the kernels; inline "
               "the parameters first (--baq-inline-params=file=...)";
        return signalPassFailure();
      }
      SymbolTable symbols(getOperation());
      for (baq::PackedParameterOp op : parameters)
        if (failed(lowerParameter(op, getOperation(), symbols)))
          return signalPassFailure();
    }
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
