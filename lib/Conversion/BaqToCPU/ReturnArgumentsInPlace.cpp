//===- ReturnArgumentsInPlace.cpp - No clones of returned arguments -------===//
//
// A whole-model module updates its KV caches in place and returns them. The
// deallocation pipeline hands the caller ownership of every result of a
// public function, so it returns a clone of each cache argument: a malloc and
// a copy of the whole cache on every call, whatever the step's size. Returning
// the argument itself keeps the buffer with the caller that already owns it.
// Only functions the module does not call change: their callers are outside
// (baq-run) and know that a result may be one of their arguments.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQRETURNARGUMENTSINPLACE
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;

namespace {
struct BaqReturnArgumentsInPlacePass
    : public mlir::baq::impl::BaqReturnArgumentsInPlaceBase<
          BaqReturnArgumentsInPlacePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    module.walk([&](func::ReturnOp ret) {
      auto func = dyn_cast<func::FuncOp>(ret->getParentOp());
      // Callers in the module free what they get back, as the deallocation
      // pipeline's ownership rules say: only entry points change.
      if (!func || !SymbolTable::symbolKnownUseEmpty(func, module))
        return;
      for (OpOperand &operand : ret->getOpOperands()) {
        auto clone = operand.get().getDefiningOp<bufferization::CloneOp>();
        if (!clone || clone.getInput().getType() != clone.getType())
          continue;
        auto arg = dyn_cast<BlockArgument>(clone.getInput());
        if (!arg || arg.getOwner() != &func.getBody().front())
          continue;
        // Besides the return, the lowered deallocations may read the clone's
        // address, to keep a retained buffer from being freed: with the
        // argument's address they keep whatever aliases the argument, which
        // the function does not own anyway.
        if (!llvm::all_of(clone->getUsers(), [&](Operation *user) {
              return user == ret.getOperation() ||
                     isa<memref::ExtractAlignedPointerAsIndexOp>(user);
            }))
          continue;
        clone.replaceAllUsesWith(arg);
        clone->erase();
      }
    });
  }
};
} // namespace
