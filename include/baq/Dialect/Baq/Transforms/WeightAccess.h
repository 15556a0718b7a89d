//===- WeightAccess.h - Reading and rewriting matmul weights ----*- C++ -*-===//
//
// Shared by the BAQ passes: which matmuls can be quantized, how their weight
// and Hessian constants are read as floats, and how a quantized weight is
// written back as baq.packed_constant + baq.dequantize.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_DIALECT_BAQ_TRANSFORMS_WEIGHTACCESS_H
#define BAQ_DIALECT_BAQ_TRANSFORMS_WEIGHTACCESS_H

#include "baq/Dialect/Baq/IR/BaqOps.h"
#include "baq/Numerics/Numerics.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace baq {

/// A linalg.matmul whose weight (operand 1) is a float constant.
struct QuantizableMatmul {
  linalg::MatmulOp matmul;
  arith::ConstantOp weight;
  /// Dimension of the weight operand that indexes input channels.
  int64_t channelDim = 0;
  int64_t outputs = 0, inputs = 0;
  /// Resource key of the weight, or the enclosing symbol's name.
  std::string name;
};

/// Which dimension of the weight operand (operand 1) of `op` is the
/// reduction, if the maps are plain or transposed-B matmul maps.
std::optional<int64_t> getWeightChannelDim(linalg::MatmulOp op);

/// Returns the matmul if it has a Hessian and a supported constant weight,
/// std::nullopt (with a remark) if it is to be left alone, and failure (with
/// an error) if its attributes or weight are invalid.
FailureOr<std::optional<QuantizableMatmul>>
matchQuantizable(linalg::MatmulOp op);

/// Largest constant (weight or Hessian) the passes read into memory: 2^31
/// elements (8 GiB of f32), far above any real layer and below the point
/// where an absurd declared shape exhausts memory.
constexpr int64_t kMaxMaterializedElements = int64_t(1) << 31;

/// Elements of `type`, computed in checked arithmetic; an error (on `op`,
/// naming `what`) when the shape is dynamic, overflows or exceeds
/// kMaxMaterializedElements.
FailureOr<int64_t> getMaterializableCount(Operation *op, ShapedType type,
                                          StringRef what);

/// Reads a dense or dense_resource f32/f16/bf16 constant as floats; errors
/// (on `op`, naming `what`) for missing or truncated blobs.
FailureOr<std::vector<float>>
readFloatElements(Operation *op, ElementsAttr attr, StringRef what);

/// The data of an f32 dense_resource constant in place (no copy), when its
/// blob is present, 4-byte aligned and of the right size; std::nullopt
/// otherwise (readFloatElements then converts or diagnoses).
std::optional<ArrayRef<float>> borrowF32Elements(ElementsAttr attr);

/// The weight as a row-major M x N matrix (row = output, column = input).
FailureOr<std::vector<float>> readWeightMatrix(const QuantizableMatmul &c);

/// Replaces the matmul's weight by packed_constant + dequantize, attaches
/// `baq.bits` and drops `baq.hessian`.
void rewriteToPacked(const QuantizableMatmul &c,
                     const ::baq::numerics::QuantizedWeight &weight,
                     const ::baq::numerics::QuantizerOptions &options);

} // namespace baq
} // namespace mlir

#endif // BAQ_DIALECT_BAQ_TRANSFORMS_WEIGHTACCESS_H
