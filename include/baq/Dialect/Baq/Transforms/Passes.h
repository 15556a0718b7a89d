//===- Passes.h - BAQ transformation passes ---------------------*- C++ -*-===//

#ifndef BAQ_DIALECT_BAQ_TRANSFORMS_PASSES_H
#define BAQ_DIALECT_BAQ_TRANSFORMS_PASSES_H

#include "baq/Dialect/Baq/IR/BaqOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace baq {

enum class BudgetKind { Payload, Total };
enum class BudgetScope { Layer, Module, ModuleGreedy };
enum class AllocatorKind { Exact, Paper };
enum class QuantizerKind { Gptq, Rtn };
enum class SensitivityKind { Cholesky, Diagonal };
enum class ScaleTypeKind { Auto, F16, BF16, F32, U8 };
enum class ZeroTypeKind { Auto, U8 };
enum class ActOrderKind { Auto, On, Off };
enum class LossModelKind { Measured, Paper };
enum class GridWeightKind { Hessian, None };

#define GEN_PASS_DECL
#include "baq/Dialect/Baq/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "baq/Dialect/Baq/Transforms/Passes.h.inc"

} // namespace baq
} // namespace mlir

#endif // BAQ_DIALECT_BAQ_TRANSFORMS_PASSES_H
