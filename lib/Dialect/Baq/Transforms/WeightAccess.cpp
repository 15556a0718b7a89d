//===- WeightAccess.cpp - Reading and rewriting matmul weights ------------===//

#include "WeightAccess.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>

using namespace mlir;
using namespace mlir::baq;
namespace num = ::baq::numerics;

std::optional<int64_t> mlir::baq::getWeightChannelDim(linalg::MatmulOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps.size() != 3)
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx);
  auto is = [&](AffineMap map, AffineExpr a, AffineExpr b) {
    return map.getNumDims() == 3 && map.getNumResults() == 2 &&
           map.getResult(0) == a && map.getResult(1) == b;
  };
  if (!is(maps[0], d0, d2) || !is(maps[2], d0, d1))
    return std::nullopt;
  if (is(maps[1], d2, d1))
    return 0;
  if (is(maps[1], d1, d2))
    return 1;
  return std::nullopt;
}

static std::optional<int64_t> getCheckedCount(ShapedType type);

namespace {
/// A contraction operand traced back to the constant it reads.
struct WeightTrace {
  Operation *storage = nullptr;
  ElementsAttr value;
  /// The op whose result is the stored tensor (constant, load, to_tensor).
  Operation *access = nullptr;
  /// For each dim of the operand, the stored dim it reads, or std::nullopt
  /// for a dim added by a broadcast or a reshape's unit dim.
  SmallVector<std::optional<int64_t>> dims;
  /// The global's symbol, when the weight lives in one.
  std::string symbol;
  /// Why the operand is not a constant weight (empty when it is).
  std::string why;
};
} // namespace

static bool isUnit(ShapedType type, int64_t dim) {
  return type.getDimSize(dim) == 1;
}

/// For a reassociation group of dims of `type`, the one dim that is not a
/// unit dim (the first if all are), or std::nullopt if several are.
static std::optional<int64_t> getOnlyNonUnit(ShapedType type,
                                             ArrayRef<int64_t> group) {
  std::optional<int64_t> found;
  for (int64_t d : group)
    if (!isUnit(type, d)) {
      if (found)
        return std::nullopt;
      found = d;
    }
  return found ? found : std::optional<int64_t>(group.front());
}

static WeightTrace traceWeight(Value v) {
  WeightTrace t;
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type) {
    t.why = "weight operand is not a ranked tensor";
    return t;
  }
  for (int64_t i = 0; i < type.getRank(); ++i)
    t.dims.push_back(i);
  auto remap = [&](auto &&map) {
    for (std::optional<int64_t> &d : t.dims)
      if (d)
        d = map(*d);
  };
  while (true) {
    Operation *def = v.getDefiningOp();
    if (!def) {
      t.why = "weight operand is a block argument, not a compile-time "
              "constant";
      return t;
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(def)) {
      t.value = dyn_cast<ElementsAttr>(constant.getValue());
      if (!t.value)
        t.why = "weight constant is not a tensor";
      t.storage = t.access = def;
      return t;
    }
    if (auto castOp = dyn_cast<tensor::CastOp>(def)) {
      if (!isa<RankedTensorType>(castOp.getSource().getType())) {
        t.why = "weight is cast from an unranked tensor";
        return t;
      }
      v = castOp.getSource();
      continue;
    }
    if (auto transpose = dyn_cast<linalg::TransposeOp>(def);
        transpose && transpose.hasPureTensorSemantics()) {
      ArrayRef<int64_t> perm = transpose.getPermutation();
      remap([&](int64_t d) -> std::optional<int64_t> { return perm[d]; });
      v = transpose.getInput();
      continue;
    }
    if (auto broadcast = dyn_cast<linalg::BroadcastOp>(def);
        broadcast && broadcast.hasPureTensorSemantics()) {
      ArrayRef<int64_t> added = broadcast.getDimensions();
      remap([&](int64_t d) -> std::optional<int64_t> {
        if (llvm::is_contained(added, d))
          return std::nullopt;
        return d - llvm::count_if(added, [&](int64_t a) { return a < d; });
      });
      v = broadcast.getInput();
      continue;
    }
    // linalg.transpose / linalg.broadcast after --linalg-generalize-named-ops:
    // a parallel generic that yields its one input, identity output map.
    if (auto generic = dyn_cast<linalg::GenericOp>(def);
        generic && generic.hasPureTensorSemantics() &&
        generic.getNumDpsInputs() == 1 && generic.getNumDpsInits() == 1 &&
        generic.getNumReductionLoops() == 0 &&
        generic.getIndexingMapsArray()[1].isIdentity() &&
        generic.getIndexingMapsArray()[0].isProjectedPermutation()) {
      Block &body = generic.getRegion().front();
      auto yield = cast<linalg::YieldOp>(body.getTerminator());
      if (body.getOperations().size() == 1 &&
          yield.getValues().front() == body.getArgument(0)) {
        AffineMap input = generic.getIndexingMapsArray()[0];
        remap([&](int64_t d) -> std::optional<int64_t> {
          for (unsigned i = 0; i < input.getNumResults(); ++i)
            if (input.getDimPosition(i) == d)
              return i;
          return std::nullopt;
        });
        v = generic.getDpsInputOperand(0)->get();
        continue;
      }
    }
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(def)) {
      auto source = cast<ShapedType>(collapse.getSrc().getType());
      SmallVector<ReassociationIndices> groups =
          collapse.getReassociationIndices();
      bool mixed = false;
      remap([&](int64_t d) {
        std::optional<int64_t> only = getOnlyNonUnit(source, groups[d]);
        mixed |= !only;
        return only;
      });
      if (mixed) {
        t.why = "weight is collapsed across non-unit dimensions";
        return t;
      }
      v = collapse.getSrc();
      continue;
    }
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(def)) {
      auto result = cast<ShapedType>(expand.getResultType());
      SmallVector<ReassociationIndices> groups =
          expand.getReassociationIndices();
      bool mixed = false;
      remap([&](int64_t d) -> std::optional<int64_t> {
        for (auto [g, group] : llvm::enumerate(groups)) {
          if (!llvm::is_contained(group, d))
            continue;
          std::optional<int64_t> only = getOnlyNonUnit(result, group);
          mixed |= !only;
          return only == d ? std::optional<int64_t>(g) : std::nullopt;
        }
        return std::nullopt;
      });
      if (mixed) {
        t.why = "weight is expanded into several non-unit dimensions";
        return t;
      }
      v = expand.getSrc();
      continue;
    }
    auto useGlobal = [&](Operation *global, std::optional<Attribute> value,
                         bool constant, StringRef kind) {
      t.symbol = cast<SymbolOpInterface>(global).getName().str();
      t.storage = global;
      t.access = def;
      if (!constant) {
        t.why = (kind + " @" + t.symbol + " is mutable").str();
        return;
      }
      t.value = value ? dyn_cast_or_null<ElementsAttr>(*value) : ElementsAttr();
      if (!t.value)
        t.why = (kind + " @" + t.symbol + " has no tensor initial value").str();
    };
    if (isa<ml_program::GlobalLoadConstOp, ml_program::GlobalLoadOp>(def)) {
      auto symbol = def->getAttrOfType<SymbolRefAttr>("global");
      auto global = SymbolTable::lookupNearestSymbolFrom<ml_program::GlobalOp>(
          def, symbol);
      if (!global) {
        t.why = "weight global is not an ml_program.global";
        return t;
      }
      useGlobal(global, global.getValue(), !global.getIsMutable(),
                "ml_program.global");
      return t;
    }
    if (auto toTensor = dyn_cast<bufferization::ToTensorOp>(def)) {
      auto getGlobal =
          toTensor.getBuffer().getDefiningOp<memref::GetGlobalOp>();
      auto global =
          getGlobal ? SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
                          def, getGlobal.getNameAttr())
                    : memref::GlobalOp();
      if (!global) {
        t.why = "weight is a buffer that is not a memref.global";
        return t;
      }
      useGlobal(global, global.getInitialValue(), global.getConstant(),
                "memref.global");
      return t;
    }
    t.why = ("weight operand is computed by '" + def->getName().getStringRef() +
             "', not read from a constant")
                .str();
    return t;
  }
}

static std::string getName(Operation *op, const WeightTrace &t) {
  if (!t.symbol.empty())
    return t.symbol;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(t.value))
    return resource.getRawHandle().getKey().str();
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().str();
  if (auto symbol = op->getParentOfType<SymbolOpInterface>())
    return symbol.getName().str();
  return "matmul";
}

/// Every op in `scope` whose result is the value of `t.storage`.
static SmallVector<Operation *> collectAccesses(const WeightTrace &t,
                                                Operation *scope) {
  if (isa<arith::ConstantOp>(t.storage))
    return {t.storage};
  SmallVector<Operation *> accesses;
  scope->walk([&](Operation *op) {
    Operation *global = nullptr;
    if (isa<ml_program::GlobalLoadConstOp, ml_program::GlobalLoadOp>(op))
      global = SymbolTable::lookupNearestSymbolFrom(
          op, op->getAttrOfType<SymbolRefAttr>("global"));
    else if (auto toTensor = dyn_cast<bufferization::ToTensorOp>(op))
      if (auto get = toTensor.getBuffer().getDefiningOp<memref::GetGlobalOp>())
        global = SymbolTable::lookupNearestSymbolFrom(op, get.getNameAttr());
    if (global == t.storage)
      accesses.push_back(op);
  });
  return accesses;
}

std::optional<QuantizableMatmul>
mlir::baq::matchContractionWeight(linalg::LinalgOp op, Operation *scope,
                                  WeightMismatch &why) {
  auto fail = [&](const Twine &message, bool invalid = false) {
    why.message = message.str();
    why.invalid = invalid;
    return std::nullopt;
  };
  if (!linalg::isaContractionOpInterface(op) || !op.hasPureTensorSemantics())
    return fail("op is not a contraction on tensors");
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->k.size() != 1)
    return fail("contraction does not have exactly one reduction dimension");
  unsigned k = dims->k.front();

  // The weight is the input that reads a constant: operand 1 first (matmul,
  // vecmat, generic), then operand 0 (matvec).
  WeightTrace trace, first;
  OpOperand *operand = nullptr;
  for (int64_t index : {1, 0}) {
    OpOperand *candidate = op.getDpsInputOperand(index);
    WeightTrace t = traceWeight(candidate->get());
    if (t.why.empty()) {
      trace = std::move(t);
      operand = candidate;
      break;
    }
    if (index == 1 || (!t.symbol.empty() && first.symbol.empty()))
      first = std::move(t);
  }
  if (!operand)
    return fail(first.why);

  auto type = cast<ShapedType>(trace.value.getType());
  std::string typeText;
  llvm::raw_string_ostream os(typeText);
  os << "'" << type << "'";
  if (auto ranked = dyn_cast<RankedTensorType>(type);
      ranked && ranked.getEncoding())
    return fail("weight type " + typeText + " carries a tensor encoding");
  Type element = type.getElementType();
  if (!element.isF32() && !element.isF16() && !element.isBF16()) {
    std::string elementText;
    llvm::raw_string_ostream es(elementText);
    es << "'" << element << "'";
    return fail("cannot quantize a weight of element type " + elementText +
                    "; expected f32, f16 or bf16",
                /*invalid=*/true);
  }
  if (type.getRank() != 2 || !type.hasStaticShape())
    return fail("stored weight of type " + typeText +
                " is not a static 2-D tensor");

  // Map the operand's loop dims onto the stored dims: the reduction must read
  // one stored dim, the weight's own parallel dim the other, and a batch dim
  // may only come from a broadcast.
  AffineMap map = op.getMatchingIndexingMap(operand);
  std::optional<int64_t> channel, output;
  bool ownBatch = false, extra = false;
  for (unsigned i = 0; i < map.getNumResults(); ++i) {
    unsigned loop = map.getDimPosition(i);
    std::optional<int64_t> stored = trace.dims[i];
    if (loop == k)
      channel = stored;
    else if (stored && llvm::is_contained(dims->batch, loop))
      ownBatch = true;
    else if (stored && output)
      extra = true;
    else if (stored)
      output = stored;
  }
  if (ownBatch)
    return fail("weight has a batch dimension of its own");
  if (extra || !channel || !output || *channel == *output)
    return fail("weight has no single input-channel and output dimension");

  std::optional<int64_t> count = getCheckedCount(type);
  if (!count)
    return fail("weight of type " + typeText +
                    " is too large to read: at most " +
                    Twine(kMaxMaterializedElements) + " elements are supported",
                /*invalid=*/true);
  if (*count == 0)
    return fail("cannot quantize an empty weight " + typeText,
                /*invalid=*/true);

  QuantizableMatmul c;
  c.matmul = op;
  c.storage = trace.storage;
  c.value = trace.value;
  c.accesses = collectAccesses(trace, scope);
  c.channelDim = *channel;
  c.inputs = type.getDimSize(*channel);
  c.outputs = type.getDimSize(*output);
  c.name = getName(op, trace);
  return c;
}

FailureOr<std::optional<QuantizableMatmul>>
mlir::baq::matchQuantizable(linalg::LinalgOp op, Operation *scope,
                            SmallVectorImpl<MatchNote> &notes) {
  if (op->hasAttr(BaqDialect::getBitsAttrName()))
    return std::optional<QuantizableMatmul>();
  bool hasHessian = op->hasAttr(BaqDialect::getHessianAttrName());
  WeightMismatch why;
  std::optional<QuantizableMatmul> match =
      matchContractionWeight(op, scope, why);
  // Only contractions are noted when they lack a Hessian; any other linalg
  // op without one is not a candidate at all.
  if (!hasHessian) {
    if (linalg::isaContractionOpInterface(op)) {
      std::string kind =
          ("left unquantized (no '" + BaqDialect::getHessianAttrName() + "')")
              .str();
      notes.push_back({op, kind,
                       ("matmul has no '" + BaqDialect::getHessianAttrName() +
                        "' attribute; left unquantized")
                           .str()});
    }
    return std::optional<QuantizableMatmul>();
  }
  if (!isa<ElementsAttr>(op->getAttr(BaqDialect::getHessianAttrName())))
    return op.emitError() << "'" << BaqDialect::getHessianAttrName()
                          << "' must be a tensor constant";
  if (!match) {
    if (why.invalid)
      return op.emitError() << why.message;
    notes.push_back({op, "left unquantized (" + why.message + ")",
                     why.message + "; left unquantized"});
  }
  return match;
}

void mlir::baq::mergeSharedWeights(
    SmallVectorImpl<QuantizableMatmul> &candidates,
    SmallVectorImpl<MatchNote> &notes) {
  llvm::DenseMap<Operation *, size_t> firstIndex;
  SmallVector<QuantizableMatmul> kept;
  for (QuantizableMatmul &c : candidates) {
    auto [it, inserted] = firstIndex.try_emplace(c.storage, kept.size());
    if (inserted) {
      kept.push_back(std::move(c));
      continue;
    }
    QuantizableMatmul &owner = kept[it->second];
    std::string message;
    llvm::raw_string_ostream os(message);
    if (owner.channelDim != c.channelDim) {
      os << "weight is shared with a contraction that reads its input "
            "channels along the other dimension; this op gets the "
            "dequantized weight without '"
         << BaqDialect::getBitsAttrName() << "'";
      notes.push_back({c.matmul, "shared, read transposed (dequantized)",
                       std::move(message)});
      continue;
    }
    os << "weight '" << owner.name
       << "' is shared; it is quantized once, with the Hessian of the "
          "contraction at "
       << owner.matmul.getLoc();
    notes.push_back({c.matmul, "shared (quantized once)", std::move(message)});
    owner.sharers.push_back(c.matmul);
  }
  candidates.assign(std::make_move_iterator(kept.begin()),
                    std::make_move_iterator(kept.end()));
}

/// Elements of a static shape in checked arithmetic: a declared shape is
/// only a claim, and a huge one over a tiny blob must not wrap into a small
/// count. std::nullopt on overflow or past kMaxMaterializedElements.
static std::optional<int64_t> getCheckedCount(ShapedType type) {
  if (!type.hasStaticShape())
    return std::nullopt;
  int64_t count = 1;
  for (int64_t dim : type.getShape())
    if (llvm::MulOverflow(count, dim, count) ||
        count > kMaxMaterializedElements)
      return std::nullopt;
  return count;
}

FailureOr<int64_t> mlir::baq::getMaterializableCount(Operation *op,
                                                     ShapedType type,
                                                     StringRef what) {
  if (std::optional<int64_t> count = getCheckedCount(type))
    return *count;
  return op->emitError() << what << " of type " << type
                         << " is too large to read: at most "
                         << kMaxMaterializedElements
                         << " elements are supported";
}

std::optional<ArrayRef<float>> mlir::baq::borrowF32Elements(ElementsAttr attr) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource || !resource.getElementType().isF32())
    return std::nullopt;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  std::optional<int64_t> count =
      getCheckedCount(cast<ShapedType>(attr.getType()));
  if (!count || data.size() != static_cast<uint64_t>(*count) * 4 ||
      reinterpret_cast<uintptr_t>(data.data()) % alignof(float) != 0)
    return std::nullopt;
  return ArrayRef<float>(reinterpret_cast<const float *>(data.data()), *count);
}

FailureOr<std::vector<float>>
mlir::baq::readFloatElements(Operation *op, ElementsAttr attr, StringRef what) {
  auto type = cast<ShapedType>(attr.getType());
  Type element = type.getElementType();
  FailureOr<int64_t> count = getMaterializableCount(op, type, what);
  if (failed(count))
    return failure();

  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return op->emitError()
             << what << " resource '" << resource.getRawHandle().getKey()
             << "' has no data";
    ArrayRef<char> data = blob->getData();
    // Compared before anything is allocated: the blob is the ground truth.
    int64_t width = element.getIntOrFloatBitWidth() / 8;
    if (static_cast<int64_t>(data.size()) != *count * width)
      return op->emitError()
             << what << " resource '" << resource.getRawHandle().getKey()
             << "' holds " << data.size() << " bytes, but " << type << " needs "
             << *count * width;
    std::vector<float> out(*count);
    if (element.isF32()) {
      std::memcpy(out.data(), data.data(), *count * sizeof(float));
      return out;
    }
    const llvm::fltSemantics &semantics =
        cast<FloatType>(element).getFloatSemantics();
    for (int64_t i = 0; i < *count; ++i) {
      uint16_t bits;
      std::memcpy(&bits, data.data() + 2 * i, 2);
      out[i] = APFloat(semantics, APInt(16, bits)).convertToFloat();
    }
    return out;
  }
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    std::vector<float> out;
    out.reserve(*count);
    for (const APFloat &v : dense.getValues<APFloat>())
      out.push_back(v.convertToFloat());
    return out;
  }
  return op->emitError() << what
                         << " must be a dense or dense_resource float tensor";
}

FailureOr<std::vector<float>>
mlir::baq::readWeightMatrix(const QuantizableMatmul &c) {
  FailureOr<std::vector<float>> raw =
      readFloatElements(c.matmul, c.value, "weight");
  if (failed(raw) || c.channelDim == 1)
    return raw;
  // [N, M] operand: transpose to M x N.
  std::vector<float> w(raw->size());
  for (int64_t j = 0; j < c.inputs; ++j)
    for (int64_t i = 0; i < c.outputs; ++i)
      w[i * c.inputs + j] = (*raw)[j * c.outputs + i];
  return w;
}

/// Grid values of `gridType` as raw little-endian bytes of `type`.
static std::vector<char> encodeGrid(ArrayRef<float> values, Type type,
                                    num::GridType gridType) {
  if (gridType == num::GridType::E4M4) { // scales, as their 8-bit codes
    std::vector<char> bytes;
    for (float v : values)
      bytes.push_back(static_cast<char>(num::encodeScaleCode(v)));
    return bytes;
  }
  if (type.isInteger()) { // 8-bit zero codes, already integral
    std::vector<char> bytes;
    for (float v : values)
      bytes.push_back(static_cast<char>(static_cast<uint8_t>(v)));
    return bytes;
  }
  if (type.isF32()) {
    std::vector<char> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
  }
  const llvm::fltSemantics &semantics =
      type.isF16() ? APFloat::IEEEhalf() : APFloat::BFloat();
  std::vector<char> bytes(values.size() * 2);
  for (auto [i, v] : llvm::enumerate(values)) {
    APFloat f(v);
    bool lostInfo;
    f.convert(semantics, APFloat::rmNearestTiesToEven, &lostInfo);
    uint16_t bits = static_cast<uint16_t>(f.bitcastToAPInt().getZExtValue());
    std::memcpy(bytes.data() + 2 * i, &bits, 2);
  }
  return bytes;
}

static Type toMlirType(MLIRContext *ctx, num::GridType type) {
  switch (type) {
  case num::GridType::F16:
    return Float16Type::get(ctx);
  case num::GridType::BF16:
    return BFloat16Type::get(ctx);
  case num::GridType::F32:
    return Float32Type::get(ctx);
  case num::GridType::U8:
  case num::GridType::E4M4:
    return IntegerType::get(ctx, 8);
  }
  llvm_unreachable("unknown grid type");
}

static DenseResourceElementsAttr makeBlob(RankedTensorType type,
                                          const std::string &name,
                                          ArrayRef<char> bytes,
                                          size_t alignment) {
  // An all-0-bit payload is empty: its data() may be null, which memcpy
  // must not see even for zero bytes.
  AsmResourceBlob blob =
      bytes.empty()
          ? HeapAsmResourceBlob::allocate(0, alignment)
          : HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignment);
  return DenseResourceElementsAttr::get(type, name, std::move(blob));
}

std::string mlir::baq::getScopeName(Operation *scope) {
  SmallVector<std::string> parts;
  for (Operation *op = scope; op->getParentOp(); op = op->getParentOp()) {
    if (auto name =
            op->getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName())) {
      parts.push_back(name.str());
      continue;
    }
    int64_t position = 0;
    for (Operation &sibling : *op->getBlock()) {
      if (&sibling == op)
        break;
      ++position;
    }
    parts.push_back(std::to_string(position));
  }
  std::reverse(parts.begin(), parts.end());
  return llvm::join(parts, ".");
}

std::string mlir::baq::getBlobBaseName(const QuantizableMatmul &c,
                                       Operation *scope) {
  std::string qualifier = getScopeName(scope);
  if (qualifier.empty())
    return c.name;
  // A weight named after the scope itself (its constant's key or the
  // enclosing function): the scope's name is already unique.
  auto own = scope->getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName());
  if (own && own.getValue() == c.name)
    return qualifier;
  return qualifier + "." + c.name;
}

void mlir::baq::rewriteToPacked(const QuantizableMatmul &c,
                                const num::QuantizedWeight &weight,
                                const num::QuantizerOptions &options,
                                Operation *scope) {
  Operation *op = c.matmul;
  MLIRContext *ctx = op->getContext();
  Type scaleType = toMlirType(ctx, options.scaleType);
  Type zeroType = toMlirType(ctx, options.zeroType);
  auto layout =
      PackedLayoutAttr::get(ctx, c.outputs, c.channelDim, weight.layout.bits,
                            options.groupSize, scaleType, zeroType);

  std::vector<uint32_t> words = num::packCodes(weight.layout, weight.codes);
  ArrayRef<char> wordBytes(reinterpret_cast<const char *>(words.data()),
                           words.size() * sizeof(uint32_t));
  std::string name = getBlobBaseName(c, scope);
  auto payload =
      makeBlob(layout.getPayloadType(), name + "_payload", wordBytes, 4);
  auto scales =
      makeBlob(layout.getScalesType(), name + "_scales",
               encodeGrid(weight.scales, scaleType, options.scaleType), 4);
  auto zeros =
      makeBlob(layout.getZerosType(), name + "_zeros",
               encodeGrid(weight.zeros, zeroType, options.zeroType), 4);

  // Every read of the weight sees the quantized values: the blobs are shared
  // (resource handles), only the small ops are repeated per access.
  for (Operation *access : c.accesses) {
    OpBuilder builder(access);
    Location loc = access->getLoc();
    auto packed =
        PackedConstantOp::create(builder, loc, layout, payload, scales, zeros);
    auto dequantized = DequantizeOp::create(
        builder, loc, access->getResult(0).getType(), packed.getPayloadResult(),
        packed.getScalesResult(), packed.getZerosResult(), layout);
    access->getResult(0).replaceAllUsesWith(dequantized.getResult());
    Operation *buffer = nullptr;
    if (auto toTensor = dyn_cast<bufferization::ToTensorOp>(access))
      buffer = toTensor.getBuffer().getDefiningOp();
    access->erase();
    if (buffer && buffer->use_empty())
      buffer->erase();
  }
  // A private global now unread in the scope that holds it goes; from a
  // function pass it lies outside the scope and stays for symbol-dce.
  if (!c.accesses.empty() && c.storage != c.accesses.front() &&
      scope->isProperAncestor(c.storage))
    if (auto symbol = dyn_cast<SymbolOpInterface>(c.storage);
        symbol && symbol.isPrivate() &&
        SymbolTable::symbolKnownUseEmpty(c.storage, scope))
      c.storage->erase();

  SmallVector<Operation *> users = {op};
  users.append(c.sharers.begin(), c.sharers.end());
  for (Operation *user : users) {
    user->setAttr(BaqDialect::getBitsAttrName(),
                  BitsAttr::get(ctx, weight.layout.bits));
    user->removeAttr(BaqDialect::getHessianAttrName());
  }
}
