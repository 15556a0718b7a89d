//===- BaqAttrs.h - BAQ attributes ------------------------------*- C++ -*-===//

#ifndef BAQ_DIALECT_BAQ_IR_BAQATTRS_H
#define BAQ_DIALECT_BAQ_IR_BAQATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/SmallVector.h"

#include <limits>

namespace mlir {
namespace baq {

/// One [bits, start, count, bit_offset] quadruple of a #baq.layout
/// (docs/FORMAT.md §2): `count` channels of `bits` bits from packed position
/// `start`, whose codes start at bit `bitOffset` of each row's stream.
struct SegmentInfo {
  int bits = 0;
  int64_t start = 0, count = 0, bitOffset = 0;
  int64_t streamBits() const { return count * bits; }
};

/// Parses `[i, j, ...]` (possibly empty) into integers of type T.
template <typename T>
FailureOr<SmallVector<T>> parseIntArray(AsmParser &parser) {
  SmallVector<T> values;
  if (parser.parseCommaSeparatedList(
          AsmParser::Delimiter::Square, [&]() -> ParseResult {
            llvm::SMLoc loc = parser.getCurrentLocation();
            int64_t value;
            if (parser.parseInteger(value))
              return failure();
            if (value < std::numeric_limits<T>::min() ||
                value > std::numeric_limits<T>::max())
              return parser.emitError(loc, "integer ")
                     << value << " does not fit in " << sizeof(T) * 8
                     << " bits";
            values.push_back(static_cast<T>(value));
            return success();
          }))
    return failure();
  return values;
}

template <typename T>
void printIntArray(AsmPrinter &printer, ArrayRef<T> values) {
  printer << '[';
  llvm::interleaveComma(values, printer,
                        [&](T v) { printer << static_cast<int64_t>(v); });
  printer << ']';
}

} // namespace baq
} // namespace mlir

#define GET_ATTRDEF_CLASSES
#include "baq/Dialect/Baq/IR/BaqAttrs.h.inc"

#endif // BAQ_DIALECT_BAQ_IR_BAQATTRS_H
