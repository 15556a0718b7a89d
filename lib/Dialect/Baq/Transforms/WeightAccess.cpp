//===- WeightAccess.cpp - Reading and rewriting matmul weights ------------===//

#include "baq/Dialect/Baq/Transforms/WeightAccess.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/APFloat.h"
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

static std::string getName(linalg::MatmulOp op, ElementsAttr value) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    return resource.getRawHandle().getKey().str();
  if (auto symbol = op->getParentOfType<SymbolOpInterface>())
    return symbol.getName().str();
  return "matmul";
}

FailureOr<std::optional<QuantizableMatmul>>
mlir::baq::matchQuantizable(linalg::MatmulOp op) {
  if (op->hasAttr(BaqDialect::getBitsAttrName()))
    return std::optional<QuantizableMatmul>();
  if (!op->hasAttr(BaqDialect::getHessianAttrName())) {
    op.emitRemark() << "matmul has no '" << BaqDialect::getHessianAttrName()
                    << "' attribute; left unquantized";
    return std::optional<QuantizableMatmul>();
  }
  if (!isa<ElementsAttr>(op->getAttr(BaqDialect::getHessianAttrName())))
    return op.emitError() << "'" << BaqDialect::getHessianAttrName()
                          << "' must be a tensor constant";

  std::optional<int64_t> channelDim = getWeightChannelDim(op);
  if (!channelDim) {
    op.emitRemark() << "matmul indexing maps are neither plain nor "
                       "transposed-weight; left unquantized";
    return std::optional<QuantizableMatmul>();
  }
  Value weight = op.getDpsInputOperand(1)->get();
  auto constant = weight.getDefiningOp<arith::ConstantOp>();
  auto value =
      constant ? dyn_cast<ElementsAttr>(constant.getValue()) : ElementsAttr();
  if (!value) {
    op.emitRemark() << "weight operand is not a tensor constant; left "
                       "unquantized";
    return std::optional<QuantizableMatmul>();
  }
  auto type = cast<ShapedType>(value.getType());
  if (auto ranked = dyn_cast<RankedTensorType>(type);
      ranked && ranked.getEncoding()) {
    op.emitRemark() << "weight type " << type
                    << " carries a tensor encoding; left unquantized";
    return std::optional<QuantizableMatmul>();
  }
  Type element = type.getElementType();
  if (!element.isF32() && !element.isF16() && !element.isBF16())
    return op.emitError() << "cannot quantize a weight of element type "
                          << element << "; expected f32, f16 or bf16";
  if (type.getRank() != 2 || !type.hasStaticShape())
    return op.emitError() << "cannot quantize weight of type " << type
                          << "; expected a static 2-D tensor";
  FailureOr<int64_t> count = getMaterializableCount(op, type, "weight");
  if (failed(count))
    return failure();
  if (*count == 0)
    return op.emitError() << "cannot quantize an empty weight " << type;

  QuantizableMatmul c;
  c.matmul = op;
  c.weight = constant;
  c.channelDim = *channelDim;
  c.inputs = type.getDimSize(*channelDim);
  c.outputs = type.getDimSize(1 - *channelDim);
  c.name = getName(op, value);
  return std::optional<QuantizableMatmul>(c);
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
  arith::ConstantOp constant = c.weight;
  auto value = cast<ElementsAttr>(constant.getValue());
  FailureOr<std::vector<float>> raw =
      readFloatElements(c.matmul, value, "weight");
  if (failed(raw) || c.channelDim == 1)
    return raw;
  // [N, M] operand: transpose to M x N.
  std::vector<float> w(raw->size());
  for (int64_t j = 0; j < c.inputs; ++j)
    for (int64_t i = 0; i < c.outputs; ++i)
      w[i * c.inputs + j] = (*raw)[j * c.outputs + i];
  return w;
}

/// Grid values as raw little-endian bytes of `type`.
static std::vector<char> encodeGrid(ArrayRef<float> values, Type type) {
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

void mlir::baq::rewriteToPacked(const QuantizableMatmul &c,
                                const num::QuantizedWeight &weight,
                                const num::QuantizerOptions &options) {
  linalg::MatmulOp op = c.matmul;
  MLIRContext *ctx = op.getContext();
  Type scaleType = toMlirType(ctx, options.scaleType);
  Type zeroType = toMlirType(ctx, options.zeroType);
  auto layout =
      PackedLayoutAttr::get(ctx, c.outputs, c.channelDim, weight.layout.bits,
                            options.groupSize, scaleType, zeroType);

  std::vector<uint32_t> words = num::packCodes(weight.layout, weight.codes);
  ArrayRef<char> wordBytes(reinterpret_cast<const char *>(words.data()),
                           words.size() * sizeof(uint32_t));
  auto payload =
      makeBlob(layout.getPayloadType(), c.name + "_payload", wordBytes, 4);
  auto scales = makeBlob(layout.getScalesType(), c.name + "_scales",
                         encodeGrid(weight.scales, scaleType), 4);
  auto zeros = makeBlob(layout.getZerosType(), c.name + "_zeros",
                        encodeGrid(weight.zeros, zeroType), 4);

  arith::ConstantOp constant = c.weight;
  OpBuilder builder(constant);
  Location loc = constant.getLoc();
  auto packed =
      PackedConstantOp::create(builder, loc, layout, payload, scales, zeros);
  auto dequantized = DequantizeOp::create(
      builder, loc, constant.getType(), packed.getPayloadResult(),
      packed.getScalesResult(), packed.getZerosResult(), layout);
  op.getDpsInputOperand(1)->set(dequantized.getResult());
  if (constant->use_empty())
    constant->erase();

  op->setAttr(BaqDialect::getBitsAttrName(),
              BitsAttr::get(ctx, weight.layout.bits));
  op->removeAttr(BaqDialect::getHessianAttrName());
}
