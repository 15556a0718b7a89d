//===- BaqOps.h - BAQ operations --------------------------------*- C++ -*-===//

#ifndef BAQ_DIALECT_BAQ_IR_BAQOPS_H
#define BAQ_DIALECT_BAQ_IR_BAQOPS_H

#include "baq/Dialect/Baq/IR/BaqAttrs.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "baq/Dialect/Baq/IR/BaqOps.h.inc"

#endif // BAQ_DIALECT_BAQ_IR_BAQOPS_H
