//===- Parameters.h - Packed weights in a parameter file --------*- C++ -*-===//
//
// The parameter form of packed weights (docs/FORMAT.md "Parameter file"): a
// safetensors file with the tensors `<key>.payload`, `<key>.scales` and
// `<key>.zeros` of every weight, 64-byte aligned, and each weight's layout as
// JSON in the header's `__metadata__` under `baq.layout.<key>`. Modules refer
// to a weight by key (baq.packed_parameter); the lowered module declares one
// external memref.global per part, named by getParameterSymbol, that the
// runner binds to the mapped file.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_DIALECT_BAQ_TRANSFORMS_PARAMETERS_H
#define BAQ_DIALECT_BAQ_TRANSFORMS_PARAMETERS_H

#include "baq/Dialect/Baq/IR/BaqAttrs.h"
#include "baq/Dialect/Baq/Transforms/Safetensors.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <array>
#include <string>

namespace mlir {
namespace baq {

/// Alignment of every tensor's data in a parameter file, relative to the
/// start of the file (what the kernels' globals assume).
inline constexpr uint64_t kParameterAlignment = 64;
/// The metadata entry that holds the layout of weight `<key>`.
inline constexpr llvm::StringLiteral kParameterLayoutPrefix = "baq.layout.";
/// The metadata entry that marks a BAQ parameter file, and its version.
inline constexpr llvm::StringLiteral kParameterFormatKey = "baq.format";
inline constexpr llvm::StringLiteral kParameterFormatVersion = "1";

/// The three parts of a packed weight, in the order of its op's results.
enum class PackedPart : unsigned { Payload = 0, Scales = 1, Zeros = 2 };
inline constexpr PackedPart kPackedParts[] = {
    PackedPart::Payload, PackedPart::Scales, PackedPart::Zeros};
llvm::StringRef getPackedPartName(PackedPart part);

/// `<key>.payload`, `<key>.scales` or `<key>.zeros`.
std::string getParameterTensorName(llvm::StringRef key, PackedPart part);

/// The symbol of the external global that holds a part in the lowered
/// module: `__baq_param_` followed by the tensor name with letters, digits
/// and '.' kept, '_' doubled and any other byte written `_XX` (hex), so that
/// distinct keys never share a symbol.
std::string getParameterSymbol(llvm::StringRef key, PackedPart part);

/// The safetensors dtype of a part's element type: I32 (payload words),
/// F16, BF16, F32, or U8 for 8-bit zero codes (i8 in the IR, unsigned).
llvm::StringRef getParameterDtype(Type elementType);

/// The type of each part, as the layout defines it.
RankedTensorType getPackedPartType(PackedLayoutAttr layout, PackedPart part);

/// The layout as the JSON object stored in the file's metadata: outputs,
/// inputs, channel_dim, bits, group_size, scale_type, zero_type and the
/// dtype and shape of each part.
llvm::json::Object layoutToJson(PackedLayoutAttr layout);

/// Rebuilds a layout from layoutToJson's object (perm, segments and sizes
/// are derived from the bits, as the attribute's verifier does), checking
/// the part shapes it records; errors name the offending field.
llvm::Expected<PackedLayoutAttr> layoutFromJson(MLIRContext *context,
                                                const llvm::json::Value &json);

/// One tensor to write: `bytes` repeated `repeat` times (a splat is one
/// element repeated).
struct ParameterTensor {
  std::string name;
  llvm::StringRef dtype;
  llvm::SmallVector<int64_t> shape;
  llvm::ArrayRef<char> bytes;
  uint64_t repeat = 1;
};

/// Writes a safetensors file with the tensors in order, each 64-byte
/// aligned, and `metadata` (string values) as `__metadata__`. The data is
/// streamed to a temporary file renamed to `path` once complete, so a
/// failure never leaves a partial file behind.
llvm::Error writeParameterFile(
    llvm::StringRef path, llvm::ArrayRef<ParameterTensor> tensors,
    llvm::ArrayRef<std::pair<std::string, std::string>> metadata);

/// A part's bytes in `elements` (a dense or dense_resource constant), as
/// writeParameterFile takes them; fails for other attributes.
llvm::Expected<ParameterTensor> getParameterTensor(llvm::StringRef name,
                                                   ElementsAttr elements);

/// Checks that `entry` can hold `part` of a weight with `layout`: dtype,
/// shape and, for data read in place, kParameterAlignment. The error names
/// the tensor.
llvm::Error checkParameterEntry(const SafetensorsEntry &entry,
                                PackedLayoutAttr layout, PackedPart part,
                                bool checkAlignment);

/// Checks that `file` is a BAQ parameter file (its `baq.format` metadata).
llvm::Error checkParameterFormat(const SafetensorsFile &file);

/// The three tensors of weight `key` (payload, scales, zeros) in `file`,
/// whose tensors `entries` indexes by name, after checking the stored layout
/// against `layout` and each tensor with checkParameterEntry.
llvm::Expected<std::array<const SafetensorsEntry *, 3>>
findParameter(const SafetensorsFile &file,
              const llvm::StringMap<const SafetensorsEntry *> &entries,
              llvm::StringRef key, PackedLayoutAttr layout,
              bool checkAlignment);

} // namespace baq
} // namespace mlir

#endif // BAQ_DIALECT_BAQ_TRANSFORMS_PARAMETERS_H
