//===- ShareBlocks.cpp - One function per group of identical blocks -------===//
//
// A whole-model function repeats every decoder block's host code (norms,
// RoPE, attention, SwiGLU, cache updates, the kernel calls and their
// operands), so its compiled size and compile time grow with depth even when
// the kernels are shared. baq-share-blocks outlines each `baq.block` op range
// and calls one function per group of ranges that are the same code up to
// scalar constants (anti-unification, as LLVM's MergeFunctions does with
// parameters); weights and tables stay in the caller as arguments.
//
// baq-drop-returned-arguments then removes the arguments such functions (and
// the shared kernels) return after bufferization, which the deallocation
// pipeline would otherwise clone on every call.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <deque>
#include <vector>

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQSHAREBLOCKS
#define GEN_PASS_DEF_BAQDROPRETURNEDARGUMENTS
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

namespace {
/// One block's op range in a function's entry block, and its outlined form.
struct ModelBlock {
  func::FuncOp parent;
  /// Every top-level op from the block's first marked op to its last.
  SmallVector<Operation *> ops;
  /// Data references that stay in the caller and are passed in.
  llvm::SmallPtrSet<Operation *, 16> hoisted;
  SmallVector<Value> inputs, outputs;
  /// The outlined function, not in the module until it is chosen.
  func::FuncOp callee;
  /// The callee's top-level scalar arith.constants, in order: what may differ
  /// between the ranges of a group.
  SmallVector<arith::ConstantOp> constants;
  SmallVector<TypedAttr> constantValues;
  llvm::hash_code hash = 0;
};
} // namespace

/// Whether `op` yields a constant global's buffer or a tensor constant.
static bool isConstantData(Operation *op) {
  if (op->getNumOperands() || op->getNumRegions() || op->getNumResults() != 1 ||
      !isa<ShapedType>(op->getResult(0).getType()))
    return false;
  if (auto get = dyn_cast<memref::GetGlobalOp>(op)) {
    auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
        op, get.getNameAttr());
    return global && global.getConstant();
  }
  return op->hasTrait<OpTrait::ConstantLike>();
}

/// Whether `op` only re-types or re-views its operands, so that it can stay
/// in the caller with the data it views.
static bool isDataView(Operation *op) {
  return op->getNumResults() == 1 &&
         isa<bufferization::ToTensorOp, tensor::CastOp, tensor::CollapseShapeOp,
             tensor::ExpandShapeOp, memref::CastOp, memref::CollapseShapeOp,
             memref::ExpandShapeOp>(op);
}

/// A scalar constant defined outside a range: copied into the function.
static bool isSunkConstant(Value v) {
  Operation *def = v.getDefiningOp();
  return def && !isa<ShapedType>(v.getType()) && def->getNumOperands() == 0 &&
         def->getNumRegions() == 0 && def->hasTrait<OpTrait::ConstantLike>();
}

/// A constant that may differ between the ranges of a group.
static bool isParameter(Operation *op, func::FuncOp func) {
  auto constant = dyn_cast<arith::ConstantOp>(op);
  return constant && op->getParentOp() == func &&
         isa<IntegerType, IndexType, FloatType>(constant.getType());
}

/// The `baq.block` ranges of `func`'s entry block in order; none if the
/// marked ops of different blocks interleave.
static std::vector<ModelBlock> collectRanges(func::FuncOp func) {
  if (func.isExternal() || !func.getBody().hasOneBlock())
    return {};
  Block &body = func.getBody().front();
  llvm::MapVector<int64_t, std::pair<Operation *, Operation *>> spans;
  for (Operation &op : body) {
    auto index = op.getAttrOfType<IntegerAttr>(BaqDialect::getBlockAttrName());
    if (!index)
      continue;
    auto &span = spans[index.getInt()];
    if (!span.first)
      span.first = &op;
    span.second = &op;
  }
  std::vector<ModelBlock> ranges;
  Operation *previous = nullptr;
  for (auto &[index, span] : spans) {
    if (previous && !previous->isBeforeInBlock(span.first))
      return {};
    previous = span.second;
    ModelBlock &range = ranges.emplace_back();
    range.parent = func;
    for (Operation *op = span.first;; op = op->getNextNode()) {
      range.ops.push_back(op);
      if (op == span.second)
        break;
    }
  }
  return ranges;
}

/// Finds what `range` needs and builds its function; fails for ranges that
/// cannot be outlined (terminators, escaping stack buffers, nothing left to
/// outline).
static LogicalResult outline(ModelBlock &range) {
  Block &body = range.parent.getBody().front();
  llvm::SmallPtrSet<Operation *, 32> inRange(range.ops.begin(),
                                             range.ops.end());
  for (Operation *op : range.ops) {
    if (op->hasTrait<OpTrait::IsTerminator>() || op->getNumSuccessors())
      return failure();
    bool view = isDataView(op) && llvm::all_of(op->getOperands(), [&](Value v) {
                  Operation *def = v.getDefiningOp();
                  return def && range.hoisted.contains(def);
                });
    if (view || isConstantData(op))
      range.hoisted.insert(op);
  }
  auto inside = [&](Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    if (arg && arg.getOwner() == &body)
      return false;
    Operation *def = arg ? arg.getOwner()->getParentOp() : v.getDefiningOp();
    Operation *top = body.findAncestorOpInBlock(*def);
    return top && inRange.contains(top) && !range.hoisted.contains(top);
  };
  llvm::SetVector<Value> inputs;
  for (Operation *op : range.ops) {
    if (range.hoisted.contains(op))
      continue;
    op->walk([&](Operation *nested) {
      for (Value v : nested->getOperands())
        if (!inside(v) && !isSunkConstant(v))
          inputs.insert(v);
    });
    for (Value result : op->getResults()) {
      if (llvm::none_of(result.getUsers(), [&](Operation *user) {
            Operation *top = body.findAncestorOpInBlock(*user);
            return !top || !inRange.contains(top);
          }))
        continue;
      // A stack buffer cannot outlive the function it would move into.
      if (isa<memref::AllocaOp>(op))
        return failure();
      range.outputs.push_back(result);
    }
  }
  if (range.hoisted.size() == range.ops.size())
    return failure();
  range.inputs = inputs.takeVector();

  OpBuilder b(range.parent.getContext());
  Location loc = range.ops.front()->getLoc();
  auto type = b.getFunctionType(ValueRange(range.inputs).getTypes(),
                                ValueRange(range.outputs).getTypes());
  range.callee = func::FuncOp::create(
      loc, (range.parent.getSymName() + "_block").str(), type);
  range.callee.setPrivate();
  Block *entry = range.callee.addEntryBlock();
  IRMapping map;
  map.map(range.inputs, entry->getArguments());
  b.setInsertionPointToStart(entry);
  for (Operation *op : range.ops) {
    if (range.hoisted.contains(op))
      continue;
    // One copy of an outside constant per op that uses it, so that a value
    // shared by unrelated uses (a layer index folded into another constant)
    // does not make otherwise identical blocks differ.
    llvm::SetVector<Value> sunk;
    op->walk([&](Operation *nested) {
      for (Value v : nested->getOperands())
        if (!inside(v) && isSunkConstant(v))
          sunk.insert(v);
    });
    for (Value v : sunk)
      map.map(v, b.clone(*v.getDefiningOp())->getResult(0));
    b.clone(*op, map);
  }
  SmallVector<Value> results;
  for (Value v : range.outputs)
    results.push_back(map.lookup(v));
  func::ReturnOp::create(b, loc, results);

  range.callee.walk([&](Operation *op) {
    op->removeAttr(BaqDialect::getBlockAttrName());
    if (isParameter(op, range.callee)) {
      auto constant = cast<arith::ConstantOp>(op);
      range.constants.push_back(constant);
      range.constantValues.push_back(constant.getValue());
    }
    range.hash =
        llvm::hash_combine(range.hash, op->getName().getAsOpaquePointer(),
                           op->getNumOperands(), op->getNumResults());
  });
  range.hash = llvm::hash_combine(range.hash, type.getAsOpaquePointer());
  return success();
}

/// Maps the blocks and block arguments of `a`'s regions to `b`'s; false if
/// their structure differs.
static bool mapRegions(Operation *a, Operation *b, IRMapping &map) {
  if (a->getNumRegions() != b->getNumRegions())
    return false;
  for (auto [ra, rb] : llvm::zip(a->getRegions(), b->getRegions())) {
    if (ra.getBlocks().size() != rb.getBlocks().size())
      return false;
    for (auto [ba, bb] : llvm::zip(ra, rb)) {
      if (ba.getArgumentTypes() != bb.getArgumentTypes())
        return false;
      map.map(&ba, &bb);
      map.map(ba.getArguments(), bb.getArguments());
    }
  }
  return true;
}

/// Whether `a` and `b` are the same function up to the values of their
/// top-level scalar arith.constant ops (and locations).
static bool sameUpToConstants(func::FuncOp a, func::FuncOp b) {
  if (a.getFunctionType() != b.getFunctionType())
    return false;
  SmallVector<Operation *> opsA, opsB;
  a.getBody().walk<WalkOrder::PreOrder>(
      [&](Operation *op) { opsA.push_back(op); });
  b.getBody().walk<WalkOrder::PreOrder>(
      [&](Operation *op) { opsB.push_back(op); });
  IRMapping map;
  if (opsA.size() != opsB.size() || !mapRegions(a, b, map))
    return false;
  for (auto [x, y] : llvm::zip(opsA, opsB)) {
    if (x->getName() != y->getName() ||
        map.lookupOrNull(x->getBlock()) != y->getBlock() ||
        x->getNumOperands() != y->getNumOperands() ||
        x->getNumSuccessors() != y->getNumSuccessors() ||
        x->getResultTypes() != y->getResultTypes())
      return false;
    for (auto [u, v] : llvm::zip(x->getOperands(), y->getOperands()))
      if (map.lookupOrNull(u) != v)
        return false;
    for (auto [u, v] : llvm::zip(x->getSuccessors(), y->getSuccessors()))
      if (map.lookupOrNull(u) != v)
        return false;
    if (isParameter(x, a) ? x->getDiscardableAttrDictionary() !=
                                y->getDiscardableAttrDictionary()
                          : x->getAttrDictionary() != y->getAttrDictionary())
      return false;
    map.map(x->getResults(), y->getResults());
    if (!mapRegions(x, y, map))
      return false;
  }
  return true;
}

int64_t mlir::baq::shareBlocks(ModuleOp module, int64_t minBlocks) {
  MLIRContext *ctx = module.getContext();
  // Every range of every function is outlined before any is replaced.
  std::deque<ModelBlock> ranges;
  for (auto func : module.getOps<func::FuncOp>())
    for (ModelBlock &range : collectRanges(func))
      ranges.push_back(std::move(range));
  SmallVector<SmallVector<ModelBlock *>> groups;
  for (ModelBlock &range : ranges) {
    if (failed(outline(range)))
      continue;
    auto group = llvm::find_if(groups, [&](ArrayRef<ModelBlock *> g) {
      return g.front()->hash == range.hash &&
             sameUpToConstants(g.front()->callee, range.callee);
    });
    if (group == groups.end())
      groups.push_back({&range});
    else
      group->push_back(&range);
  }

  SymbolTable symbols(module);
  // What a replaced range's outputs became, for the ranges after it.
  IRMapping forwarded;
  int64_t replaced = 0;
  for (ArrayRef<ModelBlock *> group : groups) {
    ModelBlock &first = *group.front();
    if (static_cast<int64_t>(group.size()) < minBlocks) {
      for (ModelBlock *range : group)
        range->callee.erase();
      continue;
    }
    // The constants that differ within the group become trailing arguments.
    SmallVector<unsigned> parameters;
    for (unsigned i = 0, e = first.constants.size(); i < e; ++i)
      if (llvm::any_of(group, [&](ModelBlock *range) {
            return range->constantValues[i] != first.constantValues[i];
          }))
        parameters.push_back(i);
    func::FuncOp callee = first.callee;
    Block &entry = callee.getBody().front();
    for (unsigned i : parameters) {
      arith::ConstantOp constant = first.constants[i];
      Value arg = entry.addArgument(constant.getType(), constant.getLoc());
      constant.replaceAllUsesWith(arg);
      constant.erase();
    }
    callee.setFunctionType(FunctionType::get(
        ctx, entry.getArgumentTypes(), callee.getFunctionType().getResults()));
    // One copy of the code: neither the MLIR nor the LLVM inliner may copy it
    // back (func-to-llvm drops func.func's no_inline: tell LLVM directly).
    callee.setNoInline(true);
    callee->setAttr("passthrough",
                    ArrayAttr::get(ctx, {StringAttr::get(ctx, "noinline")}));
    symbols.insert(callee, first.parent->getIterator());

    for (ModelBlock *range : group) {
      Operation *anchor = *llvm::find_if(range->ops, [&](Operation *op) {
        return !range->hoisted.contains(op);
      });
      for (Operation *op : range->ops)
        if (range->hoisted.contains(op))
          op->moveBefore(anchor);
      OpBuilder b(anchor);
      SmallVector<Value> operands;
      for (Value v : range->inputs)
        operands.push_back(forwarded.lookupOrDefault(v));
      for (unsigned i : parameters)
        operands.push_back(arith::ConstantOp::create(b, anchor->getLoc(),
                                                     range->constantValues[i]));
      auto call = func::CallOp::create(b, anchor->getLoc(), callee, operands);
      for (auto [output, result] :
           llvm::zip(range->outputs, call.getResults())) {
        output.replaceAllUsesWith(result);
        forwarded.map(output, result);
      }
      for (Operation *op : llvm::reverse(range->ops))
        if (!range->hoisted.contains(op))
          op->erase();
      if (range != &first)
        range->callee.erase();
      ++replaced;
    }
  }
  return replaced;
}

void mlir::baq::dropReturnedArguments(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPrivate() || func.isExternal() || !func.getBody().hasOneBlock())
      continue;
    Block &body = func.getBody().front();
    auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
    std::optional<SymbolTable::UseRange> uses =
        SymbolTable::getSymbolUses(func, module);
    if (!ret || !uses)
      continue;
    SmallVector<func::CallOp> calls;
    if (!llvm::all_of(*uses, [&](const SymbolTable::SymbolUse &use) {
          auto call = dyn_cast<func::CallOp>(use.getUser());
          if (call)
            calls.push_back(call);
          return call && call.getCallee() == func.getSymName();
        }))
      continue;
    unsigned n = ret.getNumOperands();
    llvm::BitVector dropped(n);
    SmallVector<int64_t> argument(n, -1);
    SmallVector<Value> kept;
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      Value source = v;
      while (auto cast = source.getDefiningOp<memref::CastOp>())
        source = cast.getSource();
      auto arg = dyn_cast<BlockArgument>(source);
      if (arg && arg.getOwner() == &body) {
        dropped.set(i);
        argument[i] = arg.getArgNumber();
      } else {
        kept.push_back(v);
      }
    }
    if (dropped.none())
      continue;
    ret.getOperandsMutable().assign(kept);
    if (failed(func.eraseResults(dropped)))
      continue;
    for (func::CallOp call : calls) {
      OpBuilder b(call);
      auto newCall =
          func::CallOp::create(b, call.getLoc(), func, call.getOperands());
      newCall->setDiscardableAttrs(call->getDiscardableAttrDictionary());
      unsigned next = 0;
      for (unsigned i = 0; i < n; ++i) {
        Value old = call.getResult(i);
        if (!dropped.test(i)) {
          old.replaceAllUsesWith(newCall.getResult(next++));
          continue;
        }
        Value operand = call.getOperand(argument[i]);
        if (operand.getType() != old.getType())
          operand =
              memref::CastOp::create(b, call.getLoc(), old.getType(), operand);
        old.replaceAllUsesWith(operand);
      }
      call.erase();
    }
  }
}

namespace {
struct BaqShareBlocksPass
    : public mlir::baq::impl::BaqShareBlocksBase<BaqShareBlocksPass> {
  using Base::Base;
  void runOnOperation() override {
    if (minBlocks < 1) {
      emitError(getOperation().getLoc())
          << "baq-share-blocks: min-blocks must be >= 1, got "
          << static_cast<int64_t>(minBlocks);
      return signalPassFailure();
    }
    shareBlocks(getOperation(), minBlocks);
  }
};

struct BaqDropReturnedArgumentsPass
    : public mlir::baq::impl::BaqDropReturnedArgumentsBase<
          BaqDropReturnedArgumentsPass> {
  void runOnOperation() override { dropReturnedArguments(getOperation()); }
};
} // namespace
