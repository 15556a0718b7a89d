//===- MatmulMaps.h - Weight orientation of a matmul ------------*- C++ -*-===//
//
// Which weight dimension a linalg.matmul reduces over: the layout's
// channel_dim that --baq-allocate writes and the kernel lowering checks.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_DIALECT_BAQ_TRANSFORMS_MATMULMAPS_H
#define BAQ_DIALECT_BAQ_TRANSFORMS_MATMULMAPS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace mlir {
namespace baq {

/// Which dimension of the weight operand (operand 1) of `op` is the
/// reduction, if the maps are plain or transposed-B matmul maps.
std::optional<int64_t> getWeightChannelDim(linalg::MatmulOp op);

} // namespace baq
} // namespace mlir

#endif // BAQ_DIALECT_BAQ_TRANSFORMS_MATMULMAPS_H
