//===- BaqDialect.h - BAQ dialect -------------------------------*- C++ -*-===//

#ifndef BAQ_DIALECT_BAQ_IR_BAQDIALECT_H
#define BAQ_DIALECT_BAQ_IR_BAQDIALECT_H

#include "mlir/IR/Dialect.h"

#include "baq/Dialect/Baq/IR/BaqDialect.h.inc"

#endif // BAQ_DIALECT_BAQ_IR_BAQDIALECT_H
