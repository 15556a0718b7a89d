//===- WeightAccess.h - Reading and rewriting matmul weights ----*- C++ -*-===//
//
// Private to lib/Dialect/Baq/Transforms, shared by its passes: which matmuls
// can be quantized, how their weight and Hessian constants are read as floats,
// and how a quantized weight is written back as baq.packed_constant +
// baq.dequantize.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_LIB_DIALECT_BAQ_TRANSFORMS_WEIGHTACCESS_H
#define BAQ_LIB_DIALECT_BAQ_TRANSFORMS_WEIGHTACCESS_H

#include "baq/Dialect/Baq/IR/BaqOps.h"
#include "baq/Dialect/Baq/Transforms/MatmulMaps.h"
#include "baq/Numerics/Numerics.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace baq {

/// A contraction whose weight operand is a compile-time constant: an
/// `arith.constant`, or an immutable `ml_program.global` / constant
/// `memref.global` read through its load ops, possibly seen through
/// `linalg.transpose`, `linalg.broadcast` (added batch dims; also as the
/// yield-only `linalg.generic` they generalize to), unit-dim
/// `tensor.collapse_shape` / `tensor.expand_shape` and `tensor.cast`.
struct QuantizableMatmul {
  /// Any linalg op with contraction semantics and one reduction dimension
  /// (linalg.matmul, batch_matmul, matvec, vecmat, generic, ...).
  linalg::LinalgOp matmul;
  /// Where the weight's values live: arith.constant, ml_program.global or
  /// memref.global.
  Operation *storage = nullptr;
  /// The stored value: a static 2-D f32/f16/bf16 tensor.
  ElementsAttr value;
  /// Ops whose tensor result is the stored value (the constant itself, the
  /// global loads / to_tensor ops in the pass's scope): each is replaced by
  /// packed_constant + dequantize, so every user of the weight sees the
  /// quantized values.
  SmallVector<Operation *> accesses;
  /// Other contractions reading the same storage with the same channel
  /// dimension: they share the quantized weight and get `baq.bits` too.
  SmallVector<Operation *> sharers;
  /// Dimension of the stored 2-D value that indexes input channels.
  int64_t channelDim = 0;
  int64_t outputs = 0, inputs = 0;
  /// The global's symbol, else the resource key, else a NameLoc on the op,
  /// else the enclosing symbol's name.
  std::string name;
};

/// Why a contraction has no quantizable weight: `invalid` when the weight is
/// a constant that cannot be quantized (an error for --baq-allocate),
/// otherwise the op is simply not a candidate (a remark).
struct WeightMismatch {
  std::string message;
  bool invalid = false;
};

/// The contraction and its constant weight (no Hessian needed), or
/// std::nullopt with the reason in `why`; emits no diagnostic.
std::optional<QuantizableMatmul> matchContractionWeight(linalg::LinalgOp op,
                                                        Operation *scope,
                                                        WeightMismatch &why);

/// A contraction --baq-allocate leaves alone, or quantizes through another
/// reader of its weight: `kind` groups it in the pass's summary, `message` is
/// its remark under verbose=true.
struct MatchNote {
  Operation *op;
  std::string kind, message;
};

/// Returns the contraction if it has a Hessian and a supported constant
/// weight, std::nullopt (with a note, for contractions) if it is to be left
/// alone, and failure (with an error) if its attributes or weight are
/// invalid. Global accesses are collected inside `scope` only (the pass's
/// anchor).
FailureOr<std::optional<QuantizableMatmul>>
matchQuantizable(linalg::LinalgOp op, Operation *scope,
                 SmallVectorImpl<MatchNote> &notes);

/// Merges candidates that read the same storage into the first one (its
/// Hessian quantizes the weight once); a later reader with a different
/// channel dimension gets the dequantized weight without `baq.bits`. Each
/// merged reader gets a note.
void mergeSharedWeights(SmallVectorImpl<QuantizableMatmul> &candidates,
                        SmallVectorImpl<MatchNote> &notes);

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

/// The name of a pass's `scope` below the top-level op, unique among the ops
/// a nested pass manager runs concurrently: the symbol names of the scope and
/// its ancestors below the top level (an op without one: its position in its
/// block), outermost first and joined by '.'. Empty for the top-level op.
std::string getScopeName(Operation *scope);

/// The blob names of a quantized weight: `<name>_payload`, `_scales` and
/// `_zeros`. Below the top level they are qualified by getScopeName (unless
/// `name` is the scope's own): the resource manager appends `_1`, `_2` to a
/// name already taken, and pass instances running concurrently on sibling
/// functions that read one global must not race for the plain name.
std::string getBlobBaseName(const QuantizableMatmul &c, Operation *scope);

/// Replaces every access of the weight by packed_constant + dequantize,
/// attaches `baq.bits` to the contraction and its sharers and drops their
/// `baq.hessian`; a global inside `scope` left without uses is erased (from
/// a function pass the global is outside its scope: run `symbol-dce`).
void rewriteToPacked(const QuantizableMatmul &c,
                     const ::baq::numerics::QuantizedWeight &weight,
                     const ::baq::numerics::QuantizerOptions &options,
                     Operation *scope);

} // namespace baq
} // namespace mlir

#endif // BAQ_LIB_DIALECT_BAQ_TRANSFORMS_WEIGHTACCESS_H
