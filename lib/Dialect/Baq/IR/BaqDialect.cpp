//===- BaqDialect.cpp - BAQ dialect, attributes and ops -------------------===//

#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/IR/BaqAttrs.h"
#include "baq/Dialect/Baq/IR/BaqOps.h"
#include "baq/Format/PackedFormat.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>

using namespace mlir;
using namespace mlir::baq;
namespace num = ::baq::numerics;

#include "baq/Dialect/Baq/IR/BaqDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "baq/Dialect/Baq/IR/BaqAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "baq/Dialect/Baq/IR/BaqOps.cpp.inc"

void BaqDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "baq/Dialect/Baq/IR/BaqAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "baq/Dialect/Baq/IR/BaqOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static bool isGridType(Type type) {
  return type.isF16() || type.isBF16() || type.isF32();
}

/// Scales and zeros may also be 8-bit codes (signless i8 read as unsigned,
/// FORMAT.md §4).
static bool isGridOrCodeType(Type type) {
  return isGridType(type) || type.isSignlessInteger(8);
}

static int64_t byteWidth(Type type) {
  return (type.getIntOrFloatBitWidth() + 7) / 8;
}

static LogicalResult
verifyBitwidths(function_ref<InFlightDiagnostic()> emitError,
                ArrayRef<int8_t> bits) {
  for (auto [index, b] : llvm::enumerate(bits))
    if (b < 0 || b > num::kMaxBits)
      return emitError() << "bitwidth " << static_cast<int>(b)
                         << " of input channel " << index << " is outside [0, "
                         << num::kMaxBits << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// BitsAttr
//===----------------------------------------------------------------------===//

LogicalResult BitsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               ArrayRef<int8_t> bits) {
  if (bits.empty())
    return emitError() << "expected at least one bitwidth";
  return verifyBitwidths(emitError, bits);
}

//===----------------------------------------------------------------------===//
// PackedLayoutAttr
//===----------------------------------------------------------------------===//

static SmallVector<int64_t> flattenSegments(const num::PackedLayout &l) {
  SmallVector<int64_t> flat;
  for (const num::Segment &s : l.segments)
    flat.append({s.bits, s.start, s.count, s.bitOffset});
  return flat;
}

PackedLayoutAttr PackedLayoutAttr::get(MLIRContext *context, int64_t outputs,
                                       int64_t channelDim,
                                       ArrayRef<int8_t> bits, int64_t groupSize,
                                       Type scaleType, Type zeroType) {
  num::PackedLayout l = num::computeLayout(bits, outputs, groupSize);
  int64_t groups = l.numGroups * outputs;
  return get(context, outputs, static_cast<int64_t>(bits.size()), channelDim,
             bits, l.perm, flattenSegments(l), groupSize, scaleType, zeroType,
             4 * l.payloadWords, groups * byteWidth(scaleType),
             groups * byteWidth(zeroType));
}

LogicalResult
PackedLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         int64_t outputs, int64_t inputs, int64_t channelDim,
                         ArrayRef<int8_t> bits, ArrayRef<int32_t> perm,
                         ArrayRef<int64_t> segments, int64_t groupSize,
                         Type scaleType, Type zeroType, int64_t payloadBytes,
                         int64_t scaleBytes, int64_t zeroBytes) {
  if (outputs <= 0 || inputs <= 0)
    return emitError() << "expected positive outputs and inputs, got "
                       << outputs << " and " << inputs;
  if (channelDim != 0 && channelDim != 1)
    return emitError() << "channel_dim must be 0 or 1, got " << channelDim;
  if (static_cast<int64_t>(bits.size()) != inputs)
    return emitError() << "expected " << inputs << " bitwidths, got "
                       << bits.size();
  if (failed(verifyBitwidths(emitError, bits)))
    return failure();
  if (groupSize < 0)
    return emitError() << "group_size must be non-negative, got " << groupSize;
  if (!isGridOrCodeType(scaleType))
    return emitError() << "scale_type must be f16, bf16, f32 or i8 (8-bit "
                          "scale codes)";
  if (!isGridOrCodeType(zeroType))
    return emitError() << "zero_type must be f16, bf16, f32 or i8 (8-bit "
                          "zero codes)";

  // Permutation: a permutation, and the canonical one.
  if (static_cast<int64_t>(perm.size()) != inputs)
    return emitError() << "expected a permutation of " << inputs
                       << " channels, got " << perm.size() << " entries";
  SmallVector<bool> seen(inputs, false);
  for (int32_t p : perm) {
    if (p < 0 || p >= inputs || seen[p])
      return emitError() << "perm is not a permutation of [0, " << inputs
                         << "): entry " << p << " is out of range or repeated";
    seen[p] = true;
  }
  num::PackedLayout l = num::computeLayout(bits, outputs, groupSize);
  if (!llvm::equal(perm, l.perm))
    return emitError() << "perm is not the canonical order (descending "
                          "bitwidth, ascending channel)";
  if (!llvm::equal(segments, flattenSegments(l)))
    return emitError() << "segments do not match the bitwidths: expected "
                       << l.segments.size()
                       << " [bits, start, count, bit_offset] quadruples "
                          "derived from 'bits'";
  // Byte counts in checked arithmetic: absurd shapes must be rejected, not
  // wrapped into plausible small sizes.
  int64_t expectedPayload, groups, expectedScales, expectedZeros, allBits;
  if (llvm::MulOverflow<int64_t>(l.rowBits + 31, outputs, allBits) ||
      llvm::MulOverflow<int64_t>(4, l.payloadWords, expectedPayload) ||
      llvm::MulOverflow<int64_t>(l.numGroups, outputs, groups) ||
      llvm::MulOverflow<int64_t>(groups, byteWidth(scaleType),
                                 expectedScales) ||
      llvm::MulOverflow<int64_t>(groups, byteWidth(zeroType), expectedZeros))
    return emitError() << "packed sizes of a " << outputs << " x " << inputs
                       << " weight overflow 64-bit byte counts";
  if (payloadBytes != expectedPayload)
    return emitError() << "payload_bytes is " << payloadBytes << ", expected "
                       << expectedPayload;
  if (scaleBytes != expectedScales || zeroBytes != expectedZeros)
    return emitError() << "scale_bytes/zero_bytes are " << scaleBytes << "/"
                       << zeroBytes << ", expected " << expectedScales << "/"
                       << expectedZeros << " for " << groups
                       << " (row, group) pairs";
  return success();
}

/// Quadruple `index` of a flat [bits, start, count, bit_offset] array.
static SegmentInfo getSegment(ArrayRef<int64_t> flat, size_t index) {
  SegmentInfo segment;
  segment.bits = static_cast<int>(flat[4 * index]);
  segment.start = flat[4 * index + 1];
  segment.count = flat[4 * index + 2];
  segment.bitOffset = flat[4 * index + 3];
  return segment;
}

SmallVector<SegmentInfo> PackedLayoutAttr::getSegmentInfos() const {
  ArrayRef<int64_t> flat = getSegments();
  SmallVector<SegmentInfo> segments;
  for (size_t i = 0, e = flat.size() / 4; i < e; ++i)
    segments.push_back(getSegment(flat, i));
  return segments;
}

/// The last segment, if any: the layout's sizes follow from it without
/// recomputing the permutation.
static std::optional<SegmentInfo> getLastSegment(PackedLayoutAttr layout) {
  ArrayRef<int64_t> flat = layout.getSegments();
  if (flat.size() < 4)
    return std::nullopt;
  return getSegment(flat, flat.size() / 4 - 1);
}

int64_t PackedLayoutAttr::getNumGroups() const {
  std::optional<SegmentInfo> last = getLastSegment(*this);
  int64_t live = last ? last->start + last->count : 0;
  return num::countGroups(live, getGroupSize());
}

int64_t PackedLayoutAttr::getRowBits() const {
  std::optional<SegmentInfo> last = getLastSegment(*this);
  return last ? last->bitOffset + last->streamBits() : 0;
}

int64_t PackedLayoutAttr::getPayloadWords() const {
  return num::countPayloadWords(getRowBits(), getOutputs());
}

RankedTensorType PackedLayoutAttr::getPayloadType() const {
  return RankedTensorType::get({getPayloadWords()},
                               IntegerType::get(getContext(), 32));
}

RankedTensorType PackedLayoutAttr::getScalesType() const {
  return RankedTensorType::get({getOutputs(), getNumGroups()}, getScaleType());
}

RankedTensorType PackedLayoutAttr::getZerosType() const {
  return RankedTensorType::get({getOutputs(), getNumGroups()}, getZeroType());
}

SmallVector<int64_t, 2> PackedLayoutAttr::getWeightShape() const {
  if (getChannelDim() == 0)
    return {getInputs(), getOutputs()};
  return {getOutputs(), getInputs()};
}

//===----------------------------------------------------------------------===//
// PackedConstantOp
//===----------------------------------------------------------------------===//

/// The results of an op that produces a packed weight (packed_constant,
/// packed_parameter): payload, scales and zeros, typed by its layout.
template <typename OpTy>
static LogicalResult inferPackedResults(OpaqueProperties properties,
                                        SmallVectorImpl<Type> &types) {
  auto *props = properties.as<typename OpTy::Properties *>();
  auto layout = props ? props->getLayout() : nullptr;
  if (!layout)
    return failure();
  types.append(
      {layout.getPayloadType(), layout.getScalesType(), layout.getZerosType()});
  return success();
}

template <typename OpTy>
static void namePackedResults(OpTy op, OpAsmSetValueNameFn setNameFn) {
  setNameFn(op.getPayloadResult(), "payload");
  setNameFn(op.getScalesResult(), "scales");
  setNameFn(op.getZerosResult(), "zeros");
}

LogicalResult
PackedConstantOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                   ValueRange, DictionaryAttr attributes,
                                   OpaqueProperties properties, RegionRange,
                                   SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferPackedResults<PackedConstantOp>(properties, inferredReturnTypes);
}

void PackedConstantOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  namePackedResults(*this, setNameFn);
}

/// Checks one part's type and, for resource blobs, its byte size.
static LogicalResult verifyPart(Operation *op, StringRef name,
                                ElementsAttr value, RankedTensorType expected) {
  if (value.getType() != expected)
    return op->emitOpError() << name << " has type " << value.getType()
                             << ", but the layout requires " << expected;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return op->emitOpError()
             << name << " refers to resource '"
             << resource.getRawHandle().getKey() << "' that has no data";
    int64_t expectedBytes = expected.getNumElements() *
                            ((expected.getElementTypeBitWidth() + 7) / 8);
    if (static_cast<int64_t>(blob->getData().size()) != expectedBytes)
      return op->emitOpError()
             << name << " resource '" << resource.getRawHandle().getKey()
             << "' holds " << blob->getData().size() << " bytes, expected "
             << expectedBytes;
  }
  return success();
}

/// Sign and exponent masks of a grid type's IEEE bit pattern.
struct FloatBits {
  uint32_t sign, exponent;
};

static FloatBits getFloatBits(Type type) {
  if (type.isF32())
    return {0x80000000u, 0x7f800000u};
  if (type.isF16())
    return {0x8000u, 0x7c00u};
  return {0x8000u, 0x7f80u}; // bf16
}

/// Checks the grid values (docs/FORMAT.md §4): finite, and for scales not
/// negative. Read as raw bits, so that a large artefact verifies at memory
/// speed; the first offending (row, group) is named.
static LogicalResult verifyGridValues(Operation *op, StringRef name,
                                      ElementsAttr value, bool isScale) {
  auto type = cast<RankedTensorType>(value.getType());
  FloatBits masks = getFloatBits(type.getElementType());
  int64_t groups = type.getDimSize(1);
  auto check = [&](uint32_t bits, int64_t index) -> LogicalResult {
    bool finite = (bits & masks.exponent) != masks.exponent;
    bool negative = (bits & masks.sign) && (bits & ~masks.sign);
    if (finite && !(isScale && negative))
      return success();
    return op->emitOpError()
           << name << "[" << index / groups << ", " << index % groups << "] is "
           << (finite ? "negative" : "not finite") << ": "
           << (isScale ? "scales must be finite and non-negative"
                       : "zeros must be finite");
  };
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    ArrayRef<char> data = resource.getRawHandle().getBlob()->getData();
    int64_t width = type.getElementTypeBitWidth() / 8;
    for (int64_t i = 0, e = data.size() / width; i < e; ++i) {
      uint32_t bits = 0;
      std::memcpy(&bits, data.data() + i * width, width);
      if (failed(check(bits, i)))
        return failure();
    }
    return success();
  }
  auto dense = dyn_cast<DenseFPElementsAttr>(value);
  if (!dense)
    return op->emitOpError() << name
                             << " must be a dense or dense_resource "
                                "float tensor";
  auto bitsOf = [](const APFloat &v) {
    return static_cast<uint32_t>(v.bitcastToAPInt().getZExtValue());
  };
  // A splat holds one value, however large its shape.
  if (dense.isSplat())
    return check(bitsOf(dense.getSplatValue<APFloat>()), 0);
  int64_t index = 0;
  for (const APFloat &v : dense.getValues<APFloat>())
    if (failed(check(bitsOf(v), index++)))
      return failure();
  return success();
}

LogicalResult PackedConstantOp::verify() {
  PackedLayoutAttr layout = getLayout();
  if (failed(verifyPart(*this, "payload", getPayload(),
                        layout.getPayloadType())) ||
      failed(
          verifyPart(*this, "scales", getScales(), layout.getScalesType())) ||
      failed(verifyPart(*this, "zeros", getZeros(), layout.getZerosType())))
    return failure();
  // Every 8-bit code is a valid scale or zero (FORMAT.md §4).
  return failure((!layout.getScaleType().isInteger() &&
                  failed(verifyGridValues(*this, "scales", getScales(),
                                          /*isScale=*/true))) ||
                 (!layout.getZeroType().isInteger() &&
                  failed(verifyGridValues(*this, "zeros", getZeros(),
                                          /*isScale=*/false))));
}

//===----------------------------------------------------------------------===//
// PackedParameterOp
//===----------------------------------------------------------------------===//

LogicalResult PackedParameterOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ValueRange, DictionaryAttr,
    OpaqueProperties properties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferPackedResults<PackedParameterOp>(properties, inferredReturnTypes);
}

void PackedParameterOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  namePackedResults(*this, setNameFn);
}

LogicalResult PackedParameterOp::verify() {
  // The key names tensors in the file and, sanitized, symbols in the
  // lowered module: it must be something a file can hold.
  StringRef key = getKey();
  if (key.empty())
    return emitOpError("key must not be empty");
  if (llvm::any_of(key, [](char c) { return c == '\0'; }))
    return emitOpError("key must not contain NUL characters");
  PackedLayoutAttr layout = getLayout();
  StringRef names[] = {"payload", "scales", "zeros"};
  Type expectedTypes[] = {layout.getPayloadType(), layout.getScalesType(),
                          layout.getZerosType()};
  for (auto [name, actual, expected] :
       llvm::zip(names, getResultTypes(), expectedTypes))
    if (actual != expected)
      return emitOpError() << name << " has type " << actual
                           << ", but the layout requires " << expected;
  return success();
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

/// The packed parts of `op` (payload, scales, zeros) have the layout's types.
static LogicalResult verifyPackedOperands(Operation *op,
                                          PackedLayoutAttr layout,
                                          Value payload, Value scales,
                                          Value zeros) {
  auto check = [&](StringRef name, Type actual,
                   RankedTensorType expected) -> LogicalResult {
    if (actual != expected)
      return op->emitOpError() << name << " has type " << actual
                               << ", but the layout requires " << expected;
    return success();
  };
  return success(
      succeeded(check("payload", payload.getType(), layout.getPayloadType())) &&
      succeeded(check("scales", scales.getType(), layout.getScalesType())) &&
      succeeded(check("zeros", zeros.getType(), layout.getZerosType())));
}

LogicalResult DequantizeOp::verify() {
  PackedLayoutAttr layout = getLayout();
  if (failed(verifyPackedOperands(*this, layout, getPayload(), getScales(),
                                  getZeros())))
    return failure();
  // An encoding (data tiling, sparsity) would change what the elements mean;
  // the packed format defines plain row-major values only.
  if (getResult().getType().getEncoding())
    return emitOpError() << "result type " << getResult().getType()
                         << " must not carry a tensor encoding";
  if (getResult().getType().getShape() != ArrayRef(layout.getWeightShape()))
    return emitOpError() << "result shape must be ["
                         << layout.getWeightShape()[0] << ", "
                         << layout.getWeightShape()[1]
                         << "] for channel_dim = " << layout.getChannelDim();
  return success();
}

//===----------------------------------------------------------------------===//
// PackedMatmulOp
//===----------------------------------------------------------------------===//

LogicalResult PackedMatmulOp::verify() {
  PackedLayoutAttr layout = getLayout();
  if (failed(verifyPackedOperands(*this, layout, getPayload(), getScales(),
                                  getZeros())))
    return failure();
  // a is [R, K] and c is [R, M] whatever the layout's channel_dim: the
  // orientation is the op's, not the stored weight's. Dynamic sizes are
  // allowed where the layout does not fix them.
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto initType = cast<RankedTensorType>(getInit().getType());
  auto matches = [](RankedTensorType type, int64_t size) {
    return type.getRank() == 2 && !type.getEncoding() &&
           (type.isDynamicDim(1) || type.getDimSize(1) == size);
  };
  if (!matches(inputType, layout.getInputs()))
    return emitOpError() << "input must be [rows, " << layout.getInputs()
                         << "] (the layout's inputs) without encoding, got "
                         << inputType;
  if (!matches(initType, layout.getOutputs()))
    return emitOpError() << "init must be [rows, " << layout.getOutputs()
                         << "] (the layout's outputs) without encoding, got "
                         << initType;
  if (!inputType.isDynamicDim(0) && !initType.isDynamicDim(0) &&
      inputType.getDimSize(0) != initType.getDimSize(0))
    return emitOpError() << "input has " << inputType.getDimSize(0)
                         << " rows but init has " << initType.getDimSize(0);
  if (getResult().getType() != initType)
    return emitOpError() << "result type " << getResult().getType()
                         << " must be the init's type " << initType;
  return success();
}

//===----------------------------------------------------------------------===//
// Discardable attributes
//===----------------------------------------------------------------------===//

/// Number of input features (the reduction size) of a matmul, if any operand
/// fixes it. Not getStaticLoopRanges: that takes each loop's size from the
/// first operand indexed by it, and a dynamic activation would then hide the
/// weight's static size.
static std::optional<int64_t> getInputFeatures(linalg::LinalgOp op) {
  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  if (reductions.size() != 1)
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<ShapedType>(operand.get().getType());
    if (!type || !type.hasRank())
      continue;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (auto [index, expr] : llvm::enumerate(map.getResults())) {
      auto dim = dyn_cast<AffineDimExpr>(expr);
      if (dim && dim.getPosition() == reductions[0] &&
          !type.isDynamicDim(index))
        return type.getDimSize(index);
    }
  }
  return std::nullopt;
}

/// What --baq-allocate quantizes: mul-add with one reduction dimension.
static bool isContraction(linalg::LinalgOp op) {
  if (!op || !linalg::isaContractionOpInterface(op))
    return false;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  return succeeded(dims) && dims->k.size() == 1;
}

LogicalResult BaqDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attribute) {
  StringRef name = attribute.getName().strref();
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (name == getHessianAttrName()) {
    auto hessian = dyn_cast<ElementsAttr>(attribute.getValue());
    auto type = hessian ? dyn_cast<RankedTensorType>(hessian.getType())
                        : RankedTensorType();
    if (!type || type.getRank() != 2 || !type.getElementType().isF32() ||
        type.getDimSize(0) != type.getDimSize(1))
      return op->emitError()
             << "'" << name << "' must be a square 2-D f32 tensor constant";
    if (!isContraction(linalgOp))
      return op->emitError() << "'" << name
                             << "' is only valid on a linalg contraction "
                                "(matmul, batch_matmul, matvec, vecmat or a "
                                "generic with matmul semantics)";
    std::optional<int64_t> n = getInputFeatures(linalgOp);
    if (n && *n != type.getDimSize(0))
      return op->emitError()
             << "'" << name << "' is " << type.getDimSize(0) << "x"
             << type.getDimSize(1) << " but the matmul has " << *n
             << " input features";
    return success();
  }
  if (name == getBitsAttrName()) {
    auto bits = dyn_cast<BitsAttr>(attribute.getValue());
    if (!bits)
      return op->emitError()
             << "'" << name << "' must be a #baq.bits attribute";
    if (!isContraction(linalgOp))
      return op->emitError() << "'" << name
                             << "' is only valid on a linalg contraction "
                                "(matmul, batch_matmul, matvec, vecmat or a "
                                "generic with matmul semantics)";
    std::optional<int64_t> n = getInputFeatures(linalgOp);
    if (n && *n != static_cast<int64_t>(bits.getBits().size()))
      return op->emitError()
             << "'" << name << "' has " << bits.getBits().size()
             << " bitwidths but the matmul has " << *n << " input features";
    // The kernels read the bitwidths from the weight's layout: where the
    // weight is a baq.dequantize, the annotation must say the same.
    for (OpOperand *input : linalgOp.getDpsInputOperands()) {
      auto dequant = input->get().getDefiningOp<DequantizeOp>();
      if (dequant && dequant.getLayout().getBits() != bits.getBits())
        return op->emitError()
               << "'" << name << "' " << bits
               << " disagrees with the bits of its weight's layout "
               << BitsAttr::get(op->getContext(),
                                dequant.getLayout().getBits());
    }
    return success();
  }
  if (name == getTargetBitsAttrName()) {
    auto target = dyn_cast<FloatAttr>(attribute.getValue());
    if (!target)
      return op->emitError() << "'" << name << "' must be a float attribute";
    if (!isContraction(linalgOp))
      return op->emitError()
             << "'" << name << "' is only valid on a linalg contraction";
    double value = target.getValueAsDouble();
    if (!(value > 0 && value <= 8))
      return op->emitError()
             << "'" << name << "' must be in (0, 8], got " << value;
    return success();
  }
  if (name == getBlockAttrName()) {
    auto block = dyn_cast<IntegerAttr>(attribute.getValue());
    if (!block || !block.getType().isSignlessIntOrIndex() ||
        block.getValue().isNegative())
      return op->emitError()
             << "'" << name << "' must be a non-negative integer attribute";
    return success();
  }
  return op->emitError() << "unknown baq attribute '" << name << "'";
}
